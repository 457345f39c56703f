"""Loss modules (issue 3)."""

__all__ = []
