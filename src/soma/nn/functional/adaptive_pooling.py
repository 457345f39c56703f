"""Adaptive pooling: F.adaptive_avg_pool1d/2d and F.adaptive_max_pool1d/2d.

Adaptive pooling fixes the output size instead of the window: output i along an axis of
length L pools PyTorch's bin [⌊i·L/out⌋, ⌈(i+1)·L/out⌉), so the bins tile the axis (and
overlap by one element when out does not divide L). ``AdaptiveAvgPool2d(1)`` is global
average pooling, the usual head of a CNN.
"""

import numpy as np

from soma._errors import check_floating
from soma.ops.shape import cat
from soma.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
]


def _adaptive_bins(size, out):
    """PyTorch's bins: bin i = [⌊i·L/out⌋, ⌈(i+1)·L/out⌉) (they overlap when out does not divide L)."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(out) + 1) * size) // out)
    return starts, ends


def _adaptive_mean(x, dim, out):
    """The mean of each of PyTorch's ``out`` bins along ``dim`` (negative), as slices and means: a NaN or Inf
    reaches only the outputs of its own bins (a pooling matrix product would spread it through 0·NaN)."""
    size = x.shape[dim]
    with np.errstate(invalid="ignore"):  # Inf - Inf in a bin is NaN, silently, as in PyTorch
        if size % out == 0:  # equal disjoint bins: one reshape
            shape = tuple(x.shape)
            split = shape[:dim] + (out, size // out) + (shape[dim + 1 :] if dim != -1 else ())
            return x.reshape(split).mean(dim)
        lead = (slice(None),) * (x.ndim + dim)
        bins = zip(*_adaptive_bins(size, out))
        return cat([x[lead + (slice(a, b),)].mean(dim, keepdim=True) for a, b in bins], dim)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size: y[i, j] = mean of x over rows bin i and columns bin j, PyTorch's
    bins [⌊i·H/oh⌋, ⌈(i+1)·H/oh⌉).

    ``output_size`` is an int or (oh, ow); ``None`` keeps that axis. Composed of slices and means (rows, then
    columns), so the backward, g/|bin| spread over each bin, comes from theirs.
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d: expected a 3-D or 4-D input, got shape {tuple(input.shape)}")
    check_floating("adaptive_avg_pool2d", input)
    h, w = input.shape[-2:]
    oh, ow = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    oh, ow = h if oh is None else int(oh), w if ow is None else int(ow)
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    return _adaptive_mean(_adaptive_mean(input, -2, oh), -1, ow)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) to a fixed length: y[i] = mean of x over bin i."""
    check_floating("adaptive_avg_pool1d", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d: expected a 2-D or 3-D input, got shape {tuple(input.shape)}")
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    if int(size) < 1:
        raise ValueError(f"adaptive_avg_pool1d: output_size must be positive, got {output_size!r}")
    return _adaptive_mean(input, -1, int(size))
