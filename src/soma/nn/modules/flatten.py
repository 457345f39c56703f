"""``torch.nn.modules.flatten``'s import path for soma's own classes
(defined in ``soma.nn.linear``)."""

from soma.nn.linear import Flatten, Unflatten

__all__ = ["Flatten", "Unflatten"]
