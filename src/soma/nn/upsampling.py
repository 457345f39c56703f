"""Upsample (issue 5)."""

__all__ = []
