"""Recurrent layers (issue 6)."""

__all__ = []
