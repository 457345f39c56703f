"""Upsample: resize feature maps by nearest-neighbour copying (decoders, feature pyramids)."""

from soma.nn.module import Module
from soma.ops.pooling import interpolate

__all__ = ["Upsample", "UpsamplingNearest2d"]


class Upsample(Module):
    """y[..., i, j] = x[..., ⌊i/scale⌋, ⌊j/scale⌋]: every pixel repeated (``mode='nearest'``).

    Args:
        size: output spatial size (int or tuple), or
        scale_factor: multiplier of the input size (float or tuple).
        mode: only ``'nearest'`` is implemented.

    Example::

        >>> nn.Upsample(scale_factor=2)(soma.randn(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if mode != "nearest":
            raise NotImplementedError(f"Upsample: only mode='nearest' is implemented, got {mode!r}")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with ``mode='nearest'`` (PyTorch's older name)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")
