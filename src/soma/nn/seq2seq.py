"""Encoder-decoder and Bidirectional (issue 6)."""

__all__ = []
