"""ResidualBlock (issue 5)."""

__all__ = []
