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


def _output_size(name, input, output_size, spatial):
    """``output_size`` (int, or a tuple with ``None`` for "keep this axis") as ints, the input checked."""
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}(): Expected {spatial + 1}D or {spatial + 2}D tensor, but got: {list(input.shape)}")
    check_floating(name, input)
    for axis in range(input.ndim - spatial - 1, input.ndim):  # the batch axis alone may be empty
        if input.shape[axis] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(input.shape)} with dimension {axis} being empty")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * spatial
    if len(sizes) != spatial:
        raise ValueError(f"{name}: output_size must have {spatial} elements, got {output_size!r}")
    sizes = tuple(n if o is None else int(o) for n, o in zip(input.shape[-spatial:], sizes))
    if min(sizes) < 0:
        raise ValueError(f"{name}: output_size must not be negative, got {output_size!r}")
    return sizes


def _first_max_or_last_nan(region):
    """Along the last axis: the first maximum, or the last NaN where there is one (PyTorch's scan keeps
    ``v > max or isnan(v)``)."""
    index = region.argmax(-1)
    nan = np.isnan(region)
    if nan.any():
        last_nan = region.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
        index = np.where(nan.any(-1), last_nan, index)
    return index


def _argmax_in_bins(x, oh, ow):
    """For (N, C, H, W) ``x``: the flat H·W position of each bin's maximum, (N, C, oh, ow) int64."""
    n, c, h, w = x.shape
    index = np.empty((n, c, oh, ow), np.int64, like=x)
    if n * c == 0 or oh * ow == 0:
        return index
    if h % oh == 0 and w % ow == 0:  # equal disjoint bins: one reshape and one scan
        kh, kw = h // oh, w // ow
        tiles = x.reshape(n, c, oh, kh, ow, kw).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
        local = _first_max_or_last_nan(tiles)
        rows = np.arange(oh, like=x)[:, None] * kh + local // kw
        cols = np.arange(ow, like=x)[None, :] * kw + local % kw
        return rows * w + cols
    (top, bottom), (left, right) = _adaptive_bins(h, oh), _adaptive_bins(w, ow)
    for i in range(oh):
        for j in range(ow):
            region = x[:, :, top[i] : bottom[i], left[j] : right[j]]
            local = _first_max_or_last_nan(region.reshape(n, c, -1))
            width = right[j] - left[j]
            index[:, :, i, j] = (top[i] + local // width) * w + left[j] + local % width
    return index


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """Max pooling to a fixed output size: y[i, j] = max of x over rows bin i and columns bin j, and the flat
    H·W position of each maximum (the first one; the last NaN in a bin holding NaN, as PyTorch).

    The values are a gather of the input at those positions, so the backward sends each output's gradient
    to its maximum (and adds where overlapping bins share one).

    Shape: (N, C, H, W) or (C, H, W) → (N, C, oh, ow) or (C, oh, ow), twice (values, int64 indices).
    """
    oh, ow = _output_size("adaptive_max_pool2d", input, output_size, 2)
    batched = input.reshape(1, *input.shape) if input.ndim == 3 else input
    n, c, h, w = batched.shape
    index = _argmax_in_bins(batched._array, oh, ow)
    flat_index = Tensor._make(index.reshape(n, c, oh * ow), False)
    values = batched.reshape(n, c, h * w).gather(2, flat_index).reshape(n, c, oh, ow)
    out_shape = tuple(input.shape[:-2]) + (oh, ow)
    return values.reshape(out_shape), Tensor._make(index.reshape(out_shape), False)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (int or pair, ``None`` keeps an axis);
    with ``return_indices`` also the flat H·W position of each maximum. See
    :func:`adaptive_max_pool2d_with_indices`."""
    values, indices = adaptive_max_pool2d_with_indices(input, output_size)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length, with the position of each maximum."""
    (size,) = _output_size("adaptive_max_pool1d", input, output_size, 1)
    values, indices = adaptive_max_pool2d_with_indices(input.unsqueeze(-2), (1, size))
    return values.squeeze(-2), indices.squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to ``output_size``; see :func:`adaptive_max_pool1d_with_indices`."""
    values, indices = adaptive_max_pool1d_with_indices(input, output_size)
    return (values, indices) if return_indices else values
