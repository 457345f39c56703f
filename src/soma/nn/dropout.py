"""Dropout, Dropout2d (issue 3)."""

__all__ = []
