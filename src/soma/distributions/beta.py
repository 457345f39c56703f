"""``torch.distributions.beta``'s path: :class:`Beta` lives in ``soma.distributions.gamma``."""

from soma.distributions.gamma import Beta

__all__ = ["Beta"]
