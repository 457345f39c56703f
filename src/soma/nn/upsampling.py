"""Resizing layers: Upsample (every F.interpolate mode), UpsamplingNearest2d, UpsamplingBilinear2d,
PixelShuffle and PixelUnshuffle (decoders, super-resolution, feature pyramids)."""

from soma.nn.common_types import _ratio_any_t, _size_any_t
from soma.nn.functional.resampling import channel_shuffle, interpolate, pixel_shuffle, pixel_unshuffle
from soma.nn.module import Module
from soma.tensor import Tensor

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
           "ChannelShuffle"]


class Upsample(Module):
    """Resize the spatial axes: ``F.interpolate`` as a layer.

    ``mode='nearest'`` repeats pixels, y[..., i, j] = x[..., ⌊i·s⌋, ⌊j·s⌋]; 'linear',
    'bilinear', 'bicubic' and 'trilinear' interpolate (see :mod:`soma.nn.functional.resampling`).

    Args:
        size: output spatial size (int or tuple), or
        scale_factor: multiplier of the input size (float or tuple).
        mode: 'nearest' (default), 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear'.
        align_corners: for the interpolating modes (default False).
        recompute_scale_factor: derive the step from the sizes rather than 1/scale_factor.

    Shape: (N, C, *spatial) → (N, C, *size) or (N, C, *⌊spatial·scale_factor⌋).

    Example::

        >>> nn.Upsample(scale_factor=2, mode="bilinear")(soma.randn(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
    """

    def __init__(self, size: _size_any_t | None = None, scale_factor: _ratio_any_t | None = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with ``mode='nearest'`` (PyTorch's older name).

    Shape:
        - Input: ``(N, C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``: ``size``, or ⌊H·scale_factor⌋ × ⌊W·scale_factor⌋.
    """

    def __init__(self, size: _size_any_t | None = None, scale_factor: _ratio_any_t | None = None) -> None:
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with ``mode='bilinear', align_corners=True`` (PyTorch's older name).

    Shape:
        - Input: ``(N, C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``: ``size``, or ⌊H·scale_factor⌋ × ⌊W·scale_factor⌋.
    """

    def __init__(self, size: _size_any_t | None = None, scale_factor: _ratio_any_t | None = None) -> None:
        super().__init__(size, scale_factor, "bilinear", align_corners=True)


class PixelShuffle(Module):
    """Rearrange channels into space (sub-pixel convolution, Shi et al.):
    out[n, c, h·r + i, w·r + j] = in[n, c·r² + i·r + j, h, w].

    Args:
        upscale_factor: r.

    Shape: (*, C·r², H, W) → (*, C, H·r, W·r).

    Example::

        >>> nn.PixelShuffle(3)(soma.randn(1, 9, 4, 4)).shape
        (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """The inverse of :class:`PixelShuffle`: rearrange r×r blocks of space into channels.

    Args:
        downscale_factor: r.

    Shape: (*, C, H·r, W·r) → (*, C·r², H, W).
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups: (N, g·k, *) → (N, k·g, *), channel i·k + j to j·g + i.

    Shape: (N, C, *) → (N, C, *), C divisible by groups.
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
