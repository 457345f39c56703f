"""``torch.distributions.normal``'s path: :class:`Normal` lives in ``soma.distributions.continuous``."""

from soma.distributions.continuous import Normal

__all__ = ["Normal"]
