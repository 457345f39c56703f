"""Indexing: x[index] (basic, integer-array, boolean), gather, index_select, split, one_hot.

The backward of a selection scatters the gradient back to the selected places.
Integer-array indexes may pick an element more than once, so their backward adds
with ``numpy.add.at`` instead of assigning.
"""

import numpy as np

from soma.autograd.function import Function
from soma.ops._common import to_dtype, write_out
from soma.ops.arithmetic import unbroadcast
from soma.ops.reduction import normalize_dims
from soma.tensor import Tensor

__all__ = [
    "GetItem", "IndexPut", "CopySlices", "index_put_value", "Gather", "IndexSelect", "as_index", "getitem", "gather",
    "index_select", "split", "chunk", "unbind", "narrow", "one_hot",
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
        if not isinstance(part, np.generic) and getattr(part, "dtype", None) is not None and part.dtype.kind in "iu":
            return True  # an integer array (of any backend; an integer scalar does not repeat)
    return False


def _open_grid(shape, like):
    """``np.indices(shape, sparse=True)`` as arrays of ``like``'s backend: one broadcastable arange per dim."""
    ndim = len(shape)
    return [np.arange(n, like=like).reshape((1,) * d + (n,) + (1,) * (ndim - d - 1)) for d, n in enumerate(shape)]


class GetItem(Function):
    linear = (0,)
    is_view = True  # basic indexing shares memory: in-place ops on the result reach the input (CopySlices)

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        out = x[index]
        if isinstance(out, np.generic):  # an element: take it as a 0-d view, as PyTorch's x[0] is a view
            out = x[(*index, Ellipsis)] if isinstance(index, tuple) else x[index, ...]
        return out

    @staticmethod
    def backward(ctx, grad):
        index = ctx.index
        out = np.zeros_like(grad, shape=ctx.shape)
        if _accumulates(index):
            np.add.at(out, index, grad)
        else:
            out[index] = grad
        return out, None


class IndexPut(Function):
    """z = x with z[index] = v (``x[index] = v`` out of place); ∂z/∂x is 1 outside ``index``, ∂z/∂v sums ``index``."""

    linear = (0, 2)

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


class CopySlices(Function):
    """base with base[index] = v, where base's memory already holds v: an in-place op on a view of base.

    The same function as :class:`IndexPut` (so the same backward), recorded without a copy: the
    view's in-place op wrote into base's memory, and this node makes base's graph say so.
    """

    @staticmethod
    def forward(ctx, base, index, value):
        ctx.index, ctx.value_shape = index, np.shape(value)
        return base

    backward = staticmethod(IndexPut.backward)

    @staticmethod
    def formula(ctx, grad):
        need_x, _, need_v = ctx.needs_input_grad
        grad_x = IndexPut.apply(grad, ctx.index, grad.dtype.type(0)) if need_x else None
        grad_v = unbroadcast(GetItem.apply(grad, ctx.index), ctx.value_shape) if need_v else None
        return grad_x, None, grad_v


class Gather(Function):
    """out[i][j] = x[i][index[i][j]] along ``dim`` (for dim = 1 in 2-D)"""

    linear = (0,)


    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x.shape, dim, index
        return np.take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        dim, index = ctx.dim, ctx.index
        out = np.zeros_like(grad, shape=ctx.shape)
        where = _open_grid(index.shape, index)
        where[dim] = index
        np.add.at(out, tuple(where), grad)
        return out, None, None


class IndexSelect(Function):
    """out = x.take(index, axis=dim) (the lookup of an embedding table)"""

    linear = (0,)


    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x.shape, dim, index
        return np.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        dim = ctx.dim
        out = np.zeros_like(grad, shape=ctx.shape)
        np.add.at(np.moveaxis(out, dim, 0), ctx.index, np.moveaxis(grad, dim, 0))
        return out, None, None


def getitem(input, index):
    index = as_index(index)
    try:
        return GetItem.apply(input, index)
    except IndexError as error:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {tuple(input.shape)}: {error}") from None


def _index_array(index, name, like=None):
    """The integer array of ``index`` (a tensor; a list becomes an array beside ``like``, the indexed array)."""
    array = index._array if isinstance(index, Tensor) else np.asarray(index, like=like)
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


def _zero_d(input, name):
    if input.ndim == 0:
        raise RuntimeError(f"{name}() cannot be applied to a 0-dim tensor.")


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """out[i][j] = input[i][index[i][j]] along ``dim``; every index must be in [0, size) (no negatives, as PyTorch)."""
    index = _index_array(index, "gather", input._array)
    (dim,) = normalize_dims(dim, input.ndim, "gather")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError(
            f"gather(): Index tensor must have the same number of dimensions as input tensor "
            f"(input {tuple(input.shape)}, index {tuple(index.shape)})"
        )
    if input.ndim == 0 or index.ndim == 0:  # scalars gather as 1-element vectors
        flat = gather(input.reshape(-1), 0, Tensor._make(index.reshape(-1), False))
        return write_out(flat.reshape(index.shape), out, "gather")
    for axis in range(input.ndim):
        if axis != dim and index.shape[axis] > input.shape[axis]:
            raise RuntimeError(
                f"Size does not match at dimension {axis} expected index {list(index.shape)} to be no larger than "
                f"self {list(input.shape)} apart from dimension {dim}"
            )
    _check_bounds(index, input.shape[dim], dim, "gather")
    return write_out(Gather.apply(input, dim, index), out, "gather")


def _check_bounds(index, size, dim, name):
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.min() if index.min() < 0 else index.max()
        raise RuntimeError(f"{name}(): index {bad} is out of bounds for dimension {dim} with size {size}")


def index_select(input, dim, index, *, out=None):
    """The slices of ``input`` along ``dim`` at the 1-D ``index`` (each in [0, size))."""
    index = _index_array(index, "index_select", input._array)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    (dim,) = normalize_dims(dim, input.ndim, "index_select")
    if input.ndim == 0:
        _check_bounds(index, 1, dim, "index_select")
        return write_out(input.reshape(1)[Tensor._make(index.reshape(-1), False)], out, "index_select")
    _check_bounds(index, input.shape[dim], dim, "index_select")
    return write_out(IndexSelect.apply(input, dim, index.reshape(-1)), out, "index_select")


def _slice_along(input, dim, start, stop):
    index = (slice(None),) * dim + (slice(start, stop),)
    return GetItem.apply(input, index)


def split(input, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or pieces of the listed sizes."""
    _zero_d(input, "split")
    (dim,) = normalize_dims(dim, input.ndim, "split")
    size = input.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        if size == 0:
            return (_slice_along(input, dim, 0, 0),)
        bounds = [(s, min(s + step, size)) for s in range(0, size, step)]
    else:
        sections = [int(n) for n in split_size_or_sections]
        if sum(sections) != size or any(n < 0 for n in sections):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at dimension "
                f"{dim}), but got split_sizes={sections}"
            )
        starts = np.cumsum([0] + sections[:-1])
        bounds = [(int(s), int(s) + n) for s, n in zip(starts, sections)]
    return tuple(_slice_along(input, dim, a, b) for a, b in bounds)


def chunk(input, chunks, dim=0):
    """``chunks`` pieces along ``dim`` of ceil(size / chunks) each (fewer when the size runs out), as PyTorch."""
    _zero_d(input, "chunk")
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    (dim,) = normalize_dims(dim, input.ndim, "chunk")
    size = input.shape[dim]
    if size == 0:
        return tuple(_slice_along(input, dim, 0, 0) for _ in range(chunks))
    return split(input, -(-size // chunks), dim)


def unbind(input, dim=0):
    if input.ndim == 0:
        raise IndexError("unbind(): Dimension specified as 0 but tensor has no dimensions")
    (dim,) = normalize_dims(dim, input.ndim, "unbind")
    return tuple(GetItem.apply(input, (slice(None),) * dim + (i,)) for i in range(input.shape[dim]))


def narrow(input, dim, start, length):
    """The slice [start, start + length) of ``input`` along ``dim`` (a negative start counts from the end)."""
    _zero_d(input, "narrow")
    (dim,) = normalize_dims(dim, input.ndim, "narrow")
    size = input.shape[dim]
    start = int(start.item() if isinstance(start, Tensor) else start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _slice_along(input, dim, start, start + length)


def one_hot(tensor, num_classes=-1):
    """F.one_hot: int64 tensor with a trailing dimension of size num_classes."""
    if isinstance(tensor, Tensor) and tensor.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor, got {tensor.dtype}")
    labels = _index_array(tensor, "one_hot")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, {num_classes}), got min {labels.min()} "
            f"and max {labels.max()}"
        )
    return Tensor._make(np.eye(num_classes, dtype=np.int64, like=labels)[labels], False)
