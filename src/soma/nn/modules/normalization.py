"""``torch.nn.modules.normalization``'s import path for soma's own classes
(defined in ``soma.nn.normalization``, ``soma.nn.rmsnorm``).

Not in soma: CrossMapLRN2d.
"""

from soma.nn.normalization import GroupNorm, LayerNorm, LocalResponseNorm
from soma.nn.rmsnorm import RMSNorm

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm"]
