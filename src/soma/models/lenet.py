"""LeNet5 (issue 5)."""

__all__ = []
