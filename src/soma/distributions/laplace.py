"""``torch.distributions.laplace``'s path: :class:`Laplace` lives in ``soma.distributions.continuous``."""

from soma.distributions.continuous import Laplace

__all__ = ["Laplace"]
