"""pack_padded_sequence and friends (issue 6)."""

__all__ = []
