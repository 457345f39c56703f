"""``torch.distributions.uniform``'s path: :class:`Uniform` lives in ``soma.distributions.continuous``."""

from soma.distributions.continuous import Uniform

__all__ = ["Uniform"]
