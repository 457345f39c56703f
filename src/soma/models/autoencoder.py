"""Autoencoders (issue 7)."""

__all__ = []
