"""Sorting and selection: sort, argsort, topk, kthvalue, median, nanmedian, nonzero, argwhere, unique,
unique_consecutive, bincount, searchsorted.

Values picked by a sort are a ``gather`` of the input at the sorted indices, so their
gradient flows back to the chosen elements (∂valueⱼ/∂x_{index j} = 1). The sorts are
stable and order NaN as the largest value, as PyTorch's CPU sort does.
"""

from collections import namedtuple

import numpy as np

from soma.ops._common import as_tensor_arg, raw
from soma.ops.indexing import gather
from soma.ops.reduction import normalize_dims
from soma.tensor import Tensor

__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "nanmedian", "unique_consecutive", "nonzero",
           "argwhere", "unique", "bincount",
           "searchsorted", "msort"]

values_indices = namedtuple("values_indices", ["values", "indices"])


def _order(array, axis, descending):
    """Stable sorting indices along ``axis``; NaN counts as the largest value."""
    if not descending:
        return np.argsort(array, axis=axis, kind="stable")
    # a stable descending order: sort the reversed axis ascending, then reverse back
    flipped = np.flip(array, axis)
    order = np.argsort(flipped, axis=axis, kind="stable")
    order = np.flip(order, axis)
    return array.shape[axis] - 1 - order


def _int64(array):
    return Tensor._make(array.astype(np.int64, copy=False), False)


def _along(input, dim, name):
    input = as_tensor_arg(input, name)
    (dim,) = normalize_dims(dim, input.ndim, name)
    return input, dim


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """(values, indices) of ``input`` sorted along ``dim``; values carry the gradient."""
    input, dim = _along(input, dim, "sort")
    if input.ndim == 0:
        return values_indices(input.clone(), _int64(np.zeros((), np.int64, like=input._array)))
    if input.dtype.kind == "b":
        order = _order(input._array.astype(np.uint8), dim, descending)
    else:
        order = _order(input._array, dim, descending)
    return values_indices(gather(input, dim, _int64(order)), _int64(order))


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices."""
    input, dim_ = _along(input, dim, "topk")
    size = input.shape[dim_] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k out of range (k = {k}, size {size} along dim {dim})")
    values, indices = sort(input, dim, descending=largest)
    if input.ndim == 0:
        return values_indices(values, indices)
    return values_indices(values.narrow(dim_, 0, k), indices.narrow(dim_, 0, k))


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest element along ``dim`` (k from 1) and its index."""
    input, dim_ = _along(input, dim, "kthvalue")
    size = input.shape[dim_] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim} (k = {k}, size {size})")
    values, indices = sort(input, dim)
    if input.ndim == 0:
        return values_indices(values, indices)
    pick = values.narrow(dim_, k - 1, 1), indices.narrow(dim_, k - 1, 1)
    if keepdim:
        return values_indices(*pick)
    return values_indices(pick[0].squeeze(dim_), pick[1].squeeze(dim_))


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (element (n-1)//2 of the sorted values), as PyTorch; with ``dim``, (values, indices)."""
    input = as_tensor_arg(input, "median")
    if dim is None:
        if input._array.size == 0:
            return Tensor._make(np.full((), np.nan, input.dtype, like=input._array), False)
        flat = input.reshape(-1)
        return kthvalue(flat, (flat.shape[0] - 1) // 2 + 1, 0).values
    _, dim_ = _along(input, dim, "median")
    size = input.shape[dim_] if input.ndim else 1
    return kthvalue(input, (size - 1) // 2 + 1, dim, keepdim)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """:func:`median` of the values that are not NaN: element (k-1)//2 of the k sorted non-NaN ones (NaN
    where every value is NaN, which the sort puts last); with ``dim``, (values, indices)."""
    input = as_tensor_arg(input, "nanmedian")
    if dim is None:
        if input._array.size == 0:
            return median(input)
        return nanmedian(input.reshape(-1), 0).values
    input, dim_ = _along(input, dim, "nanmedian")
    if input.ndim and input.shape[dim_] == 0:
        raise IndexError(f"nanmedian(): Expected reduction dim {dim} to have non-zero size.")
    if input.ndim == 0 or input.dtype.kind not in "fc":
        return median(input, dim, keepdim)  # nothing to skip
    values, indices = sort(input, dim_)
    valid = (~np.isnan(input._array)).sum(axis=dim_, keepdims=True)
    place = _int64(np.maximum(valid - 1, 0) // 2)  # C's truncation: an all-NaN row picks its first (a NaN)
    pick = gather(values, dim_, place), gather(indices, dim_, place)
    return values_indices(*(pick if keepdim else (pick[0].squeeze(dim_), pick[1].squeeze(dim_))))


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal neighbours (equal slices along ``dim``) as one value; optionally, which run each
    element went to and each run's length. NaN equals nothing, so each NaN is a run of its own."""
    array = raw(as_tensor_arg(input, "unique_consecutive"))
    if dim is None:
        rows = array.reshape(-1, 1)
    else:
        (dim,) = normalize_dims(dim, array.ndim, "unique_consecutive")
        rows = np.moveaxis(array, dim, 0).reshape(array.shape[dim] if array.ndim else 1, -1)
    starts = np.ones(rows.shape[0], dtype=bool)
    starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = np.flatnonzero(starts)
    values = array.reshape(-1)[first] if dim is None else np.take(array, first, axis=dim)
    result = [Tensor._make(values, False)]
    if return_inverse:
        inverse = np.cumsum(starts) - 1
        result.append(_int64(inverse.reshape(array.shape) if dim is None else inverse))
    if return_counts:
        result.append(_int64(np.diff(np.append(first, rows.shape[0]))))
    return result[0] if len(result) == 1 else tuple(result)


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one index tensor per dim."""
    array = raw(as_tensor_arg(input, "nonzero"))
    indices = np.nonzero(np.atleast_1d(array)) if array.ndim == 0 else np.nonzero(array)
    if as_tuple:
        return tuple(_int64(i) for i in indices)
    if array.ndim == 0:
        return _int64(np.zeros((int(bool(array)), 0), like=array))
    return _int64(np.stack(indices, axis=1) if indices else np.zeros((0, 0), like=array))


def argwhere(input):
    return nonzero(input)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), and optionally where each element went and how often each occurs."""
    array = raw(as_tensor_arg(input, "unique"))
    if dim is not None:
        (dim,) = normalize_dims(dim, array.ndim, "unique")
    values, inverse, counts = np.unique(array, return_inverse=True, return_counts=True, axis=dim)
    result = [Tensor._make(values, False)]
    if return_inverse:
        result.append(_int64(inverse.reshape(array.shape) if dim is None else inverse.reshape(-1)))
    if return_counts:
        result.append(_int64(counts))
    return result[0] if len(result) == 1 else tuple(result)


def bincount(input, weights=None, minlength=0):
    """How often each non-negative integer occurs in the 1-D ``input`` (weighted sums with ``weights``)."""
    array = raw(as_tensor_arg(input, "bincount"))
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got {array.dtype}{array.shape}")
    if array.size and array.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else raw(weights)
    counts = np.bincount(array, weights=w, minlength=minlength)
    dtype = np.int64 if w is None else (w.dtype if w.dtype.kind == "f" else np.float64)
    return Tensor._make(counts.astype(dtype), False)


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where ``values`` would be inserted into the innermost dim of ``sorted_sequence``."""
    sequence = raw(as_tensor_arg(sorted_sequence, "searchsorted"))
    query = raw(values) if isinstance(values, Tensor) else np.asarray(values, like=sequence)  # a number: beside it
    side = side or ("right" if right else "left")
    if sequence.ndim == 1:
        result = np.searchsorted(sequence, query, side=side)
    else:
        rows = sequence.reshape(-1, sequence.shape[-1])
        flat = query.reshape(rows.shape[0], -1)
        result = np.stack([np.searchsorted(r, q, side=side) for r, q in zip(rows, flat)]).reshape(query.shape)
    return Tensor._make(result.astype(np.int32 if out_int32 else np.int64), False)
