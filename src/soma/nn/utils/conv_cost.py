"""conv_cost (issue 5)."""

__all__ = []
