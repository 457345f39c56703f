"""Writes into places named otherwise than by scatter's index: index_put (a tuple of index tensors, ``+=``
with ``accumulate``), put (flat indices), select_scatter, diagonal_scatter, fill_diagonal.

Each is ``x[places] = v`` out of place: ∂out/∂x is 1 off those places and 0 on them (1 everywhere when
accumulating), ∂out/∂v reads the gradient back at the places (summed where v was broadcast).
"""

import numpy as np

from soma.autograd.function import Function
from soma.ops._common import as_tensor_arg, to_dtype
from soma.ops.reduction import normalize_dims
from soma.tensor import Tensor

__all__ = ["index_put", "put", "select_scatter", "diagonal_scatter"]  # fill_diagonal: Tensor only


class IndexPutAdd(Function):
    """out = input; out[indices] += values (repeated places add up): index_put(..., accumulate=True)"""

    linear = True

    @staticmethod
    def forward(ctx, x, index, values):
        ctx.save_for_backward(*index)  # the index tensors (a tuple; basic parts such as slices pass through)
        ctx.values_shape = np.shape(values)
        out = x.copy()
        np.add.at(out, index, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        from soma.ops.arithmetic import unbroadcast

        grad_values = unbroadcast(grad[ctx.saved_tensors], ctx.values_shape) if ctx.needs_input_grad[2] else None
        return grad, None, grad_values


def index_put(input, indices, values, accumulate=False):
    """``input`` with input[indices] = values (``accumulate``: +=, repeats adding up); indices a tuple of tensors."""
    from soma.ops.indexing import as_index, index_put_value

    input = as_tensor_arg(input, "index_put")
    index = as_index(tuple(indices))
    values = to_dtype(values, input._array.dtype)
    if not accumulate:
        return index_put_value(input, index, values)
    try:
        return IndexPutAdd.apply(input, index, values)
    except (IndexError, ValueError) as error:
        raise IndexError(f"index_put: indices invalid for a tensor of shape {tuple(input.shape)}: {error}") from None


def put(input, index, source, accumulate=False):
    """``input`` with its flattened elements at ``index`` set to (or, ``accumulate``, increased by) source."""
    input = as_tensor_arg(input, "put")
    flat = as_tensor_arg(index, "put", "index")._array.reshape(-1)
    size = input._array.size
    if flat.size and (flat.min() < -size or flat.max() >= size):
        raise IndexError(f"put_(): index {flat.max() if flat.max() >= size else flat.min()} out of range for tensor "
                         f"of size {tuple(input.shape)}")
    out = index_put(input.reshape(-1), (Tensor._make(flat, False),), source.reshape(-1), accumulate)
    return out.reshape(input.shape)


def select_scatter(input, src, dim, index):
    """``input`` with the slice at ``index`` along ``dim`` replaced by src."""
    from soma.ops.indexing import index_put_value

    input = as_tensor_arg(input, "select_scatter")
    (axis,) = normalize_dims(dim, input.ndim, "select_scatter")
    return index_put_value(input, (slice(None),) * axis + (int(index),), src)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with its ``offset`` diagonal over (dim1, dim2) replaced by src (shaped like that diagonal)."""
    from soma.ops.indexing import index_put_value

    input = as_tensor_arg(input, "diagonal_scatter")
    first, second = normalize_dims((dim1, dim2), input.ndim, "diagonal_scatter")
    moved = input.movedim((first, second), (-2, -1))
    rows, cols = moved.shape[-2:]
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    i = np.arange(length, like=input._array) + max(-offset, 0)
    expected = tuple(moved.shape[:-2]) + (length,)
    if tuple(src.shape) != expected:
        raise RuntimeError(f"diagonal_scatter(): src must have the shape of the diagonal, {list(expected)}, got "
                           f"{list(src.shape)}")
    out = index_put_value(moved, (Ellipsis, i, i + offset), src)
    return out.movedim((-2, -1), (first, second))


def fill_diagonal(input, fill_value, wrap=False):
    """``input`` with its main diagonal set to ``fill_value`` (the out-of-place form of ``fill_diagonal_``).

    2-D or with all dims equal; ``wrap=True`` starts again below a tall matrix's square top (NumPy's and
    PyTorch's rule). The gradient of ``input`` is zero on the diagonal.
    """
    from soma.ops.arithmetic import where

    input = as_tensor_arg(input, "fill_diagonal_")
    if input.ndim < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got a tensor of shape {tuple(input.shape)}")
    if input.ndim > 2 and len(set(input.shape)) != 1:
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, got {tuple(input.shape)}")
    mask = np.zeros_like(input._array, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return where(Tensor._make(mask, False), to_dtype(fill_value, input._array.dtype), input)
