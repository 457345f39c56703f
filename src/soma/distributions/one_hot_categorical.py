"""``torch.distributions.one_hot_categorical``'s path: the class lives in ``soma.distributions.discrete``."""

from soma.distributions.discrete import OneHotCategorical

__all__ = ["OneHotCategorical"]
