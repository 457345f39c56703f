"""``torch.nn.modules.conv``'s import path for soma's own classes
(defined in ``soma.nn.conv``, ``soma.nn.lazy``).

Not in soma: Conv3d, ConvTranspose3d, LazyConv3d, LazyConvTranspose3d.
"""

from soma.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from soma.nn.lazy import LazyConv1d, LazyConv2d, LazyConvTranspose1d, LazyConvTranspose2d

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "LazyConv1d", "LazyConv2d",
           "LazyConvTranspose1d", "LazyConvTranspose2d"]
