"""Functional forms for nn.functional (filled by its issue)."""

__all__ = []
