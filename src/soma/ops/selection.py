"""Counting selections: mode (the most frequent value along a dim) and histc (a histogram).

mode follows PyTorch: among the values seen most often the smallest wins, and its index
is the position of its last occurrence; the values are a gather of the input at those
indices, so the gradient goes to that element. histc counts float values in ``bins``
equal bins on [min, max] (the data's range when both are 0), the right edge in the last
bin, ignoring values outside; it has no gradient, as in PyTorch.
"""

import numpy as np

from soma.ops._common import as_tensor_arg, write_out
from soma.ops.reduction import normalize_dims, values_indices
from soma.tensor import Tensor

__all__ = ["mode", "histc"]


def _mode_indices(x, axis):
    """Index (last occurrence) of the smallest most frequent value along ``axis``."""
    moved = np.moveaxis(x, axis, -1)
    n = moved.shape[-1]
    order = np.argsort(moved, axis=-1, kind="stable")
    ordered = np.take_along_axis(moved, order, axis=-1)
    new_run = np.ones_like(ordered, dtype=bool)
    if n > 1:
        same = (ordered[..., 1:] == ordered[..., :-1]) | (np.isnan(ordered[..., 1:]) & np.isnan(ordered[..., :-1]))
        new_run[..., 1:] = ~same
    positions = np.arange(n, like=x)
    run_start = np.maximum.accumulate(np.where(new_run, positions, 0), axis=-1)
    run_length = positions - run_start + 1  # at each element: how many equal values end here
    best = np.argmax(run_length, axis=-1)  # the first (smallest) value reaching the largest count
    best_start = np.take_along_axis(run_start, best[..., None], axis=-1)
    in_run = (run_start == best_start)
    last = np.max(np.where(in_run, order, -1), axis=-1)  # the run's largest original position
    return np.moveaxis(last[..., None], -1, axis)


def mode(input, dim=-1, keepdim=False):
    """(values, indices) of the most frequent value along ``dim`` (the smallest such value; its last index)."""
    from soma.ops.indexing import gather

    x = as_tensor_arg(input, "mode")
    if x.ndim == 0:
        return values_indices(x.clone(), Tensor._make(np.zeros((), np.int64, like=x._array), False))
    (axis,) = normalize_dims(dim, x.ndim, "mode")
    if x.shape[axis] == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size.")
    indices = Tensor._make(_mode_indices(x._array, axis).astype(np.int64), False)
    values = gather(x, axis, indices)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return values_indices(values, indices)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Counts of ``input``'s values in ``bins`` equal bins over [min, max] (min = max = 0: the data's range)."""
    x = as_tensor_arg(input, "histc")
    array = x._array
    if array.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{x.dtype}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for bins")
    low, high = float(min), float(max)
    if low > high:
        raise RuntimeError(f"torch.histc: max must be larger than min (got min={low}, max={high})")
    if low == high and array.size:
        finite = array[~np.isnan(array)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size == array.size else (np.nan, np.nan)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
    if low == high:
        low, high = low - 1, high + 1
    values = array[(array >= low) & (array <= high)].astype(np.float64)
    # bin b holds [low + b·w, low + (b+1)·w), the last one closed: PyTorch's index computation
    index = ((values - low) * bins / (high - low)).astype(np.int64)
    index = np.minimum(index, bins - 1)
    counts = np.bincount(index, minlength=bins).astype(array.dtype)
    return write_out(Tensor._make(counts, False), out, "histc")
