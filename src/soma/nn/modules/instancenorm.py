"""``torch.nn.modules.instancenorm``'s import path for soma's own classes
(defined in ``soma.nn.instancenorm``).

Not in soma: LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d.
"""

from soma.nn.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
