"""``torch.distributions.categorical``'s path: :class:`Categorical` lives in ``soma.distributions.discrete``."""

from soma.distributions.discrete import Categorical

__all__ = ["Categorical"]
