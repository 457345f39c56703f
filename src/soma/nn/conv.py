"""Convolution layers (issue 5)."""

__all__ = []
