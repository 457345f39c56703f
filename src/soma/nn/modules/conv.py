"""``torch.nn.modules.conv``'s import path for soma's own classes
(defined in ``soma.nn.conv``).

Not in soma: Conv3d, ConvTranspose3d, LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d,
LazyConvTranspose2d, LazyConvTranspose3d.
"""

from soma.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]
