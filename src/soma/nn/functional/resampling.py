"""Resizing: F.interpolate (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area),
F.pixel_shuffle and F.pixel_unshuffle; and the channel permutation F.channel_shuffle.

The interpolating modes are separable: each output value along one spatial axis is a
fixed weighted sum of 2 (linear) or 4 (cubic) input values along that axis, y[i] = Σₖ wₖ[i]·x[tapₖ[i]]
(the rows of an (m, n) resize matrix R, y = R·x, kept sparse: a dense product would
multiply every NaN or Inf by R's zeros and spread it over the whole axis; PyTorch's
kernel reads only the taps). The backward is that of the gathers and products. Output
index i reads the source coordinate

.. code-block:: text

    align_corners=True:   u = i·(n - 1)/(m - 1)
    align_corners=False:  u = (i + ½)·s - ½,  s = n/m (or 1/scale_factor)   (u ≥ 0 for linear modes)

linear weights:  (1 - t) at ⌊u⌋ and t at ⌊u⌋ + 1, t = u - ⌊u⌋ (indices clamped to [0, n - 1]);
cubic weights (Keys' cubic convolution, a = -0.75) at ⌊u⌋ - 1 … ⌊u⌋ + 2:

.. code-block:: text

    W(x) = (a + 2)|x|³ - (a + 3)|x|² + 1        for |x| ≤ 1
    W(x) = a|x|³ - 5a|x|² + 8a|x| - 4a          for 1 < |x| < 2

These are PyTorch's rules, so the numbers match ``torch.nn.functional.interpolate``.
"""

import math

import numpy as np

from soma._errors import DTypeError
from soma.autograd.function import Function
from soma.nn._utils import beside
from soma.nn.functional.adaptive_pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from soma.tensor import Tensor

__all__ = ["Upsample", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"]

_CUBIC_A = -0.75
_SPATIAL = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "area") + tuple(_SPATIAL)


class Upsample(Function):
    """Nearest-neighbour resize: y[..., i, j] = x[..., src_h[i], src_w[j]].

    The backward adds every output's gradient into its source pixel; the source
    indices never decrease, so each source's outputs form one run, summed with
    ``numpy.add.reduceat``.
    """

    @staticmethod
    def forward(ctx, x, sources):
        ctx.shape, ctx.sources = x.shape, sources
        out = x
        for axis, source in enumerate(sources, start=x.ndim - len(sources)):
            out = out.take(source, axis=axis)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.shape
        for axis, source in enumerate(ctx.sources, start=len(shape) - len(ctx.sources)):
            starts = np.flatnonzero(np.diff(source, prepend=-1))
            sums = np.add.reduceat(grad, starts, axis=axis)
            full = np.zeros_like(grad, shape=grad.shape[:axis] + (shape[axis],) + grad.shape[axis + 1 :])
            index = [slice(None)] * grad.ndim
            index[axis] = source[starts]
            full[tuple(index)] = sums
            grad = full
        return grad, None


def _source(n, m, scale, align_corners, cubic):
    """The source coordinate u of every output index (float64)."""
    i = np.arange(m, dtype=np.float64)
    if align_corners:
        return i * ((n - 1) / (m - 1) if m > 1 else 0.0)
    step = 1.0 / scale if scale is not None and scale > 0 else n / m
    u = (i + 0.5) * step - 0.5
    return u if cubic else np.maximum(u, 0.0)


def _cubic_weights(t):
    """The four cubic-convolution weights for taps ⌊u⌋-1 … ⌊u⌋+2 at fraction t."""
    a = _CUBIC_A

    def near(x):  # |x| ≤ 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def resize_taps(n, m, mode, align_corners, scale=None):
    """The taps (indices clamped to [0, n - 1]) and weights of every output along one axis: lists of (m,) arrays,
    R[i, tapₖ[i]] += wₖ[i]."""
    cubic = mode == "bicubic"
    u = _source(n, m, scale, align_corners, cubic)
    base = np.floor(u).astype(np.int64)
    t = u - base
    if cubic:
        taps, weights = [base - 1, base, base + 1, base + 2], _cubic_weights(t)
    else:
        t = np.clip(t, 0.0, 1.0)
        taps, weights = [base, base + 1], [1.0 - t, t]
    return [np.clip(tap, 0, n - 1) for tap in taps], weights


def _along(x, axis, taps, weights):
    """y = Σₖ wₖ·x[tapₖ] along ``axis`` (counted from the end: -1 is the last): gathers and products."""
    shape = [1] * x.ndim
    shape[axis] = len(weights[0])
    out = None
    for tap, weight in zip(taps, weights):
        term = x.index_select(x.ndim + axis, beside(x, tap))
        term = term * beside(x, weight.reshape(shape).astype(x.dtype))
        out = term if out is None else out + term
    return out


def _nearest_sources(in_size, out_size, scales, exact):
    """Index of the source of every output, PyTorch's float32 arithmetic (⌊i·s⌋, or ⌊(i + ½)·s⌋ when exact)."""
    sources = []
    for n, m, scale in zip(in_size, out_size, scales):
        step = np.float32(1.0 / scale if scale is not None and scale > 0 else n / m)
        i = np.arange(m, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
        sources.append(np.minimum(np.floor(i * step).astype(np.int64), n - 1))
    return tuple(sources)


def _output_size(name, input, size, scale_factor, spatial, recompute):
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{name}: either size or scale_factor should be defined (exactly one of them)")
    in_size = tuple(input.shape[2:])
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * spatial
        if len(out) != spatial:
            raise ValueError(f"{name}: input of shape {tuple(input.shape)} has {spatial} spatial dimensions "
                             f"but size has {len(out)}")
        scales = (None,) * spatial
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * spatial
        if len(factors) != spatial:
            raise ValueError(f"{name}: input of shape {tuple(input.shape)} has {spatial} spatial dimensions "
                             f"but scale_factor has {len(factors)}")
        out = tuple(int(math.floor(float(n * f))) for n, f in zip(in_size, factors))
        scales = (None,) * spatial if recompute else tuple(float(f) for f in factors)
    if any(int(o) <= 0 for o in out):
        raise ValueError(f"{name}: output size {out} must be positive (input of shape {tuple(input.shape)})")
    return in_size, tuple(int(o) for o in out), scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial axes of (N, C, L), (N, C, H, W) or (N, C, D, H, W), as ``torch.nn.functional.interpolate``.

    Args:
        input: the batch of signals or images.
        size: the output spatial size (int or tuple), or
        scale_factor: a multiplier of the input size (float or tuple; the output size is ⌊n·f⌋).
        mode: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' or 'bicubic' (4-D),
            'trilinear' (5-D) or 'area' (adaptive average pooling).
        align_corners: for the interpolating modes, map the corner pixels' centres onto each
            other (True) or the corners' edges (False, the default).
        recompute_scale_factor: compute the source step from the sizes instead of ``1/scale_factor``.
        antialias: only False (PyTorch's anti-aliased downsampling is not implemented).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; expected one of {', '.join(_MODES)}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    if align_corners is not None and mode not in _SPATIAL:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    spatial = input.ndim - 2
    if spatial < 1 or spatial > 3:
        raise NotImplementedError(f"interpolate: expected a 3-D, 4-D or 5-D input, got shape {tuple(input.shape)}")
    in_size, out_size, scales = _output_size("interpolate", input, size, scale_factor, spatial,
                                             recompute_scale_factor)  # PyTorch checks the sizes first
    if mode in _SPATIAL and _SPATIAL[mode] != spatial:
        raise NotImplementedError(f"interpolate: got {input.ndim}D input, but {mode} mode needs "
                                  f"{_SPATIAL[mode] + 2}D input")
    if input.dtype.kind != "f" and not (input.dtype == np.uint8 and mode.startswith("nearest")):
        raise DTypeError(f"interpolate: mode {mode!r} is not implemented for dtype {input.dtype} (input of shape "
                         f"{tuple(input.shape)}); PyTorch resizes floats (and uint8 by nearest)")
    if mode in ("nearest", "nearest-exact"):
        sources = _nearest_sources(in_size, out_size, scales, mode == "nearest-exact")
        return Upsample.apply(input, tuple(beside(input, s)._array for s in sources))
    if mode == "area":
        if spatial == 3:
            raise NotImplementedError("interpolate: mode 'area' on 5-D input is not implemented")
        return (adaptive_avg_pool1d if spatial == 1 else adaptive_avg_pool2d)(input, out_size)
    out = input
    for axis, (n, m, scale) in enumerate(zip(in_size, out_size, scales), start=-spatial):
        out = _along(out, axis, *resize_taps(n, m, mode, bool(align_corners), scale))
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """PyTorch's deprecated name of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear with ``align_corners=True`` (PyTorch's deprecated name)."""
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)


def _check_shuffle(name, input, factor, what):
    if not isinstance(factor, int) or factor <= 0:
        raise ValueError(f"{name}: {what} must be a positive integer, got {factor!r}")
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """(*, C·r², H, W) → (*, C, H·r, W·r): out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w] (sub-pixel conv)."""
    r = upscale_factor
    _check_shuffle("pixel_shuffle", input, r, "upscale_factor")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H·r, W·r) → (*, C·r², H, W): the inverse of :func:`pixel_shuffle`."""
    r = downscale_factor
    _check_shuffle("pixel_unshuffle", input, r, "downscale_factor")
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height ({h}) and width ({w}) to be divisible by "
                           f"downscale_factor ({r})")
    k = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """(N, g·k, *) → (N, k·g, *): channel i·k + j goes to j·g + i, so grouped convolutions that follow see
    channels of every group (ShuffleNet)."""
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def native_channel_shuffle(input, groups):
    """:func:`channel_shuffle` (PyTorch's name for its kernel)."""
    return channel_shuffle(input, groups)
