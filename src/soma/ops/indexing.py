"""Indexing: x[index] (basic, integer-array, boolean), gather, index_select, split, one_hot.

The backward of a selection scatters the gradient back to the selected places.
Integer-array indexes may pick an element more than once, so their backward adds
with ``numpy.add.at`` instead of assigning.
"""

import numpy as np

from soma.autograd.function import Function
from soma.ops._common import to_dtype
from soma.ops.arithmetic import unbroadcast
from soma.ops.reduction import normalize_dims
from soma.tensor import Tensor

__all__ = [
    "GetItem", "IndexPut", "index_put_value", "Gather", "IndexSelect", "as_index", "getitem", "gather", "index_select",
    "split", "chunk", "unbind", "narrow", "one_hot",
]


def as_index(index):
    """Turn tensors inside an index into arrays."""
    if isinstance(index, Tensor):
        return index._array
    if isinstance(index, tuple):
        return tuple(i._array if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list) and any(isinstance(i, Tensor) for i in index):
        return [i._array if isinstance(i, Tensor) else i for i in index]
    return index


def _accumulates(index):
    """True when the index holds an integer array (which may repeat an element)."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, list):
            part = np.asarray(part)
        if isinstance(part, np.ndarray) and part.dtype.kind in "iu":
            return True
    return False


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.meta = (x.shape, x.dtype, index)
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, index = ctx.meta
        out = np.zeros(shape, grad.dtype)
        if _accumulates(index):
            np.add.at(out, index, grad)
        else:
            out[index] = grad
        return out, None


class IndexPut(Function):
    """z = x with z[index] = v (``x[index] = v`` out of place); ∂z/∂x is 1 outside ``index``, ∂z/∂v sums ``index``."""

    @staticmethod
    def forward(ctx, x, index, value):
        ctx.index, ctx.value_shape = index, np.shape(value)
        out = x.copy()
        out[index] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, _, need_v = ctx.needs_input_grad
        grad_x = grad_v = None
        if need_x:
            grad_x = grad.copy()
            grad_x[ctx.index] = 0
        if need_v:
            grad_v = unbroadcast(grad[ctx.index], ctx.value_shape)
        return grad_x, None, grad_v


class Gather(Function):
    """out[i][j] = x[i][index[i][j]] along ``dim`` (for dim = 1 in 2-D)"""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.meta = (x.shape, dim, index)
        return np.take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        shape, dim, index = ctx.meta
        out = np.zeros(shape, grad.dtype)
        where = list(np.indices(index.shape, sparse=True))
        where[dim] = index
        np.add.at(out, tuple(where), grad)
        return out, None, None


class IndexSelect(Function):
    """out = x.take(index, axis=dim) (the lookup of an embedding table)"""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.meta = (x.shape, dim, index)
        return np.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        shape, dim, index = ctx.meta
        out = np.zeros(shape, grad.dtype)
        np.add.at(np.moveaxis(out, dim, 0), index, np.moveaxis(grad, dim, 0))
        return out, None, None


def getitem(input, index):
    index = as_index(index)
    try:
        return GetItem.apply(input, index)
    except IndexError as error:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {tuple(input.shape)}: {error}") from None


def _index_array(index, name):
    array = index._array if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got {array.dtype}")
    return array


def index_put_value(input, index, value):
    """``x`` with ``x[index] = value`` (the out-of-place form of ``__setitem__``), value cast to x's dtype."""
    value = to_dtype(value, input._array.dtype)
    try:
        return IndexPut.apply(input, index, value)
    except IndexError as error:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {tuple(input.shape)}: {error}") from None
    except ValueError as error:
        raise RuntimeError(f"__setitem__: shape mismatch for a tensor of shape {tuple(input.shape)}: {error}") from None


def gather(input, dim, index):
    index = _index_array(index, "gather")
    (dim,) = normalize_dims(dim, input.ndim, "gather")
    if index.ndim != input.ndim:
        raise RuntimeError(
            f"gather: index has {index.ndim} dimensions but input has {input.ndim} "
            f"(input {tuple(input.shape)}, index {tuple(index.shape)})"
        )
    return Gather.apply(input, dim, index)


def index_select(input, dim, index):
    index = _index_array(index, "index_select")
    (dim,) = normalize_dims(dim, input.ndim, "index_select")
    if index.size and (index.min() < -input.shape[dim] or index.max() >= input.shape[dim]):
        raise IndexError(
            f"index_select: index out of range for dimension {dim} of size {input.shape[dim]} "
            f"(min {index.min()}, max {index.max()})"
        )
    return IndexSelect.apply(input, dim, index)


def _slice_along(input, dim, start, stop):
    index = (slice(None),) * dim + (slice(start, stop),)
    return GetItem.apply(input, index)


def split(input, split_size_or_sections, dim=0):
    (dim,) = normalize_dims(dim, input.ndim, "split")
    size = input.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        bounds = [(s, min(s + step, size)) for s in range(0, size, step)]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != size:
            raise RuntimeError(
                f"split: sections {sections} do not sum to the size {size} of dimension {dim}"
            )
        starts = np.cumsum([0] + sections[:-1])
        bounds = [(int(s), int(s) + n) for s, n in zip(starts, sections)]
    return tuple(_slice_along(input, dim, a, b) for a, b in bounds)


def chunk(input, chunks, dim=0):
    (dim,) = normalize_dims(dim, input.ndim, "chunk")
    step = -(-input.shape[dim] // chunks)
    return split(input, max(step, 1), dim)


def unbind(input, dim=0):
    (dim,) = normalize_dims(dim, input.ndim, "unbind")
    return tuple(GetItem.apply(input, (slice(None),) * dim + (i,)) for i in range(input.shape[dim]))


def narrow(input, dim, start, length):
    (dim,) = normalize_dims(dim, input.ndim, "narrow")
    return _slice_along(input, dim, start, start + length)


def one_hot(tensor, num_classes=-1):
    """F.one_hot: int64 tensor with a trailing dimension of size num_classes."""
    labels = _index_array(tensor, "one_hot")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, {num_classes}), got min {labels.min()} "
            f"and max {labels.max()}"
        )
    return Tensor._make(np.eye(num_classes, dtype=np.int64)[labels], False)
