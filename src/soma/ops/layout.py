"""Rearranging elements: tril/triu, diagonal/diag/trace, movedim, roll, tile, repeat_interleave, the stacks, meshgrid.

Each is composed from differentiable primitives (where, index, reshape, cat), so each
gradient is the primitive's: a masked copy for tril/triu, a scatter back for diagonal,
roll and repeat_interleave, a split for the stacks.
"""

import numpy as np

from soma._device import place
from soma.ops._common import as_tensor_arg, raw
from soma.ops.arithmetic import where
from soma.ops.indexing import getitem, index_select
from soma.ops.reduction import normalize_dims
from soma.ops.shape import cat, permute, reshape, transpose
from soma.tensor import Tensor

__all__ = [
    "tril", "triu", "tril_indices", "triu_indices", "diagonal", "diag", "diag_embed", "trace", "movedim",
    "moveaxis", "swapaxes", "swapdims", "roll", "tile", "repeat_interleave", "atleast_1d", "atleast_2d",
    "atleast_3d", "hstack", "vstack", "dstack", "column_stack", "fliplr", "flipud", "meshgrid", "masked_select",
    "take", "narrow_copy", "rot90",
]


def _matrix(input, name):
    input = as_tensor_arg(input, name)
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions (got shape {tuple(input.shape)})")
    return input


def _triangle(name, keep):
    def op(input, diagonal=0, *, out=None):
        input = _matrix(input, name)
        rows, cols = input.shape[-2:]
        like = input._array
        mask = keep(np.arange(rows, like=like)[:, None], np.arange(cols, like=like)[None, :], diagonal)
        return where(Tensor._make(mask, False), input, Tensor._make(np.zeros((), input.dtype, like=like), False))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{name}(x, k): x with the elements {'above' if name == 'tril' else 'below'} diagonal k set to 0."
    return op


tril = _triangle("tril", lambda i, j, k: j - i <= k)
triu = _triangle("triu", lambda i, j, k: j - i >= k)


def _triangle_indices(name, numpy_indices):
    def indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
        rows_cols = np.stack(numpy_indices(row, offset, col)).astype(dtype or np.int64)  # from ints, on the host
        return Tensor._make(place(rows_cols, device, name), False)

    indices.__name__ = indices.__qualname__ = name
    indices.__doc__ = f"The (2, N) row and column indices of the {name[:4]}angle of a row x col matrix, on ``device``."
    return indices


tril_indices = _triangle_indices("tril_indices", np.tril_indices)
triu_indices = _triangle_indices("triu_indices", np.triu_indices)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the planes spanned by dim1 and dim2, as the last dimension."""
    input = _matrix(input, "diagonal")
    dim1, dim2 = normalize_dims((dim1, dim2), input.ndim, "diagonal")
    rest = [d for d in range(input.ndim) if d not in (dim1, dim2)]
    moved = permute(input, *rest, dim1, dim2)
    rows, cols = moved.shape[-2:]
    like = input._array
    i = np.arange(max(0, -offset), min(rows, cols - offset), like=like) if offset < cols and -offset < rows else \
        np.arange(0, like=like)
    return getitem(moved, (Ellipsis, i, i + offset))


_diagonal = diagonal  # diag's argument is named diagonal too (PyTorch's name)


def diag(input, diagonal=0):
    """A 1-D input becomes a square matrix with it on diagonal k; a 2-D input gives its diagonal k."""
    input = as_tensor_arg(input, "diag")
    if input.ndim == 2:
        return _diagonal(input, diagonal)
    if input.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return diag_embed(input, diagonal)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Square matrices (in the last two dims) with ``input``'s last dimension on diagonal ``offset``."""
    input = as_tensor_arg(input, "diag_embed")
    n = input.shape[-1] + abs(offset)
    i = np.arange(input.shape[-1], like=input._array)
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    base = Tensor._make(np.zeros(input.shape[:-1] + (n, n), input.dtype, like=input._array), False)
    out = base * 1
    out[(Ellipsis, rows, cols)] = input
    if (dim1, dim2) != (-2, -1):
        raise NotImplementedError("diag_embed: only dim1=-2, dim2=-1 are supported")
    return out


def trace(input):
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal(input).sum()


def movedim(input, source, destination):
    input = as_tensor_arg(input, "movedim")
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(source)} dims) should "
                           f"contain the same number of dims as destination ({list(destination)} dims)")
    source = normalize_dims(source, input.ndim, "movedim", empty_means_all=False)
    destination = normalize_dims(destination, input.ndim, "movedim", empty_means_all=False)
    order = [d for d in range(input.ndim) if d not in source]
    for dst, src in sorted(zip(destination, source)):
        order.insert(dst, src)
    return permute(input, *order) if order else input


moveaxis = movedim


def swapaxes(input, axis0, axis1):
    return transpose(input, axis0, axis1)


swapdims = swapaxes


def roll(input, shifts, dims=None):
    """Elements shifted by ``shifts`` along ``dims`` (the flattened tensor if None), wrapping around."""
    input = as_tensor_arg(input, "roll")
    if dims is None:
        flat = reshape(input, -1)
        n = flat.shape[0]
        shift = shifts if isinstance(shifts, int) else shifts[0]
        return reshape(index_select(flat, 0, _shifted(n, shift, input)), input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    out = input
    for shift, dim in zip(shifts, normalize_dims(dims, input.ndim, "roll", empty_means_all=False)):
        n = input.shape[dim]
        out = index_select(out, dim, _shifted(n, shift, input))
    return out


def _shifted(n, shift, beside):
    """The positions (i - shift) mod n that a roll by ``shift`` reads, beside the tensor ``beside``."""
    return Tensor._make((np.arange(n, like=beside._array) - shift) % max(n, 1), False)


def tile(input, dims):
    input = as_tensor_arg(input, "tile")
    dims = tuple(dims)
    dims = (1,) * (input.ndim - len(dims)) + dims
    return input.repeat(*dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place."""
    input = as_tensor_arg(input, "repeat_interleave")
    if dim is None:
        input, dim = reshape(input, -1), 0
    (dim,) = normalize_dims(dim, input.ndim, "repeat_interleave")
    counts = raw(repeats) if isinstance(repeats, Tensor) else repeats
    if np.any(np.less(counts, 0)):
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    index = np.repeat(np.arange(input.shape[dim], like=input._array), counts)
    return index_select(input, dim, Tensor._make(index, False))


def _at_least(n):
    def op(*tensors):
        single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
        items = tensors if not (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))) else tensors[0]
        out = []
        for t in items:
            shape = {1: (1,), 2: (1, 1), 3: (1, 1, 1)}[n] if t.ndim == 0 else t.shape
            if n >= 2 and t.ndim == 1:
                shape = (1, t.shape[0]) if n == 2 else (1, t.shape[0], 1)
            if n == 3 and t.ndim == 2:
                shape = t.shape + (1,)
            out.append(reshape(t, shape) if shape != t.shape else t)
        return out[0] if single else tuple(out)

    op.__name__ = op.__qualname__ = f"atleast_{n}d"
    return op


atleast_1d, atleast_2d, atleast_3d = _at_least(1), _at_least(2), _at_least(3)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return cat([reshape(t, (-1, 1)) if t.ndim <= 1 else t for t in tensors], 1)


def fliplr(input):
    return _matrix(input, "fliplr").flip([1])


def flipud(input):
    input = as_tensor_arg(input, "flipud")
    if input.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return input.flip([0])


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90° k times in the plane of ``dims``, from the first towards the second."""
    input = as_tensor_arg(input, "rot90")
    d0, d1 = normalize_dims(tuple(dims), input.ndim, "rot90", empty_means_all=False)
    k %= 4
    if k == 1:
        return transpose(input.flip([d1]), d0, d1)
    if k == 2:
        return input.flip([d0, d1])
    if k == 3:
        return transpose(input, d0, d1).flip([d1])
    return input.clone()


def meshgrid(*tensors, indexing="ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    n = len(tensors)
    shape = [t.shape[0] if t.ndim else 1 for t in tensors]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, t in enumerate(tensors):
        axis = i if indexing == "ij" or n < 2 else {0: 1, 1: 0}.get(i, i)
        view = [1] * n
        view[axis] = -1
        grids.append(reshape(t, view).expand(*shape))
    return tuple(grids)


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` (broadcast) holds, as a 1-D tensor."""
    input = as_tensor_arg(input, "masked_select")
    mask = raw(mask)
    if getattr(mask, "dtype", None) != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {getattr(mask, 'dtype', type(mask))}")
    shape = np.broadcast_shapes(input.shape, mask.shape)
    return getitem(input.expand(*shape) if input.shape != shape else input, np.broadcast_to(mask, shape))


def take(input, index):
    """``input`` read as a flat vector at ``index`` (the result has index's shape)."""
    input = as_tensor_arg(input, "take")
    flat = reshape(input, -1)
    positions = raw(index)
    if positions.size and (positions.max() >= flat.shape[0] or positions.min() < -flat.shape[0]):
        raise IndexError(f"take: index out of range for a tensor of {flat.shape[0]} elements")
    return getitem(flat, positions % max(flat.shape[0], 1))


def narrow_copy(input, dim, start, length):
    return input.narrow(dim, start, length).clone()

