"""BatchNorm1d/2d, LayerNorm (issue 3)."""

__all__ = []
