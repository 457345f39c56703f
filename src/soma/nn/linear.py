"""Identity, Linear, Bilinear, Flatten, Unflatten (issue 3)."""

__all__ = []
