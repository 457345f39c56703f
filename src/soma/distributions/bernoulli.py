"""``torch.distributions.bernoulli``'s path: :class:`Bernoulli` lives in ``soma.distributions.discrete``."""

from soma.distributions.discrete import Bernoulli

__all__ = ["Bernoulli"]
