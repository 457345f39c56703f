"""Embedding (issue 3)."""

__all__ = []
