"""Pooling layers (issue 5)."""

__all__ = []
