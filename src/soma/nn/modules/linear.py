"""``torch.nn.modules.linear``'s import path for soma's own classes
(defined in ``soma.nn.linear``, ``soma.nn.lazy``).
"""

from soma.nn.lazy import LazyLinear
from soma.nn.linear import Bilinear, Identity, Linear

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear"]
