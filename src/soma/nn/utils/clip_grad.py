"""clip_grad_norm_, clip_grad_value_ (issue 3)."""

__all__ = []
