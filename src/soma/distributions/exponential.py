"""``torch.distributions.exponential``'s path: :class:`Exponential` lives in ``soma.distributions.continuous``."""

from soma.distributions.continuous import Exponential

__all__ = ["Exponential"]
