"""L1/L2 penalties and the max-norm constraint (issue 3)."""

__all__ = []
