"""Views and splits by other names: broadcast_to, broadcast_tensors, ravel, tensor_split (and h/v/dsplit),
diagflat. Compositions of expand, reshape, narrow and diag_embed, so they are differentiable."""

import itertools
import math

import numpy as np

from soma.ops._common import as_tensor_arg, broadcast_shape
from soma.ops.reduction import normalize_dims
from soma.tensor import Tensor

__all__ = ["broadcast_to", "broadcast_tensors", "broadcast_shapes", "ravel", "tensor_split", "hsplit", "vsplit",
           "dsplit", "diagflat", "select", "unravel_index"]  # unfold: a Tensor method only, as in PyTorch


def broadcast_to(input, size):
    """``input`` expanded to ``size`` (a view; -1 keeps a size)."""
    from soma.ops import expand

    return expand(as_tensor_arg(input, "broadcast_to"), tuple(size))


def broadcast_shapes(*shapes):
    """The shape all ``shapes`` broadcast to."""
    return broadcast_shape("broadcast_shapes", *[(s,) if isinstance(s, int) else tuple(s) for s in shapes])


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape."""
    shape = broadcast_shape("broadcast_tensors", *[t.shape for t in tensors])
    return tuple(broadcast_to(t, shape) for t in tensors)


def ravel(input):
    """``input`` flattened to 1-D."""
    return as_tensor_arg(input, "ravel").reshape(-1)


def tensor_split(input, indices_or_sections, dim=0):
    """``n`` nearly equal pieces along ``dim`` (the first size % n one longer), or the pieces between indices."""
    x = as_tensor_arg(input, "tensor_split")
    if x.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    (axis,) = normalize_dims(dim, x.ndim, "tensor_split")
    size = x.shape[axis]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        lengths = [size // n + (1 if i < size % n else 0) for i in range(n)]
        bounds = [0, *itertools.accumulate(lengths)]
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], size]
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        start, stop = min(max(start, 0), size), min(max(stop, 0), size)
        pieces.append(x.narrow(axis, start, max(stop - start, 0)))
    return tuple(pieces)


def _split_along(name, dim, min_ndim):
    def split(input, indices_or_sections):
        x = as_tensor_arg(input, name)
        if x.ndim < min_ndim:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} dimension, but got a tensor "
                               f"with {x.ndim} dimensions!")
        axis = 0 if (name == "hsplit" and x.ndim == 1) else dim
        if isinstance(indices_or_sections, int) and x.shape[axis] % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {axis}, but the size of the "
                               f"dimension {x.shape[axis]} is not divisible by the split_size {indices_or_sections}!")
        return tensor_split(x, indices_or_sections, axis)

    split.__name__ = split.__qualname__ = name
    split.__doc__ = f"tensor_split along dim {dim} (numpy.{name}'s rule: sections must divide the size)."
    return split


hsplit = _split_along("hsplit", 1, 1)
vsplit = _split_along("vsplit", 0, 2)
dsplit = _split_along("dsplit", 2, 3)


def diagflat(input, offset=0):
    """A 2-D matrix with the flattened ``input`` on its ``offset`` diagonal."""
    from soma.ops import diag_embed

    return diag_embed(as_tensor_arg(input, "diagflat").reshape(-1), offset)


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that dim removed (a view, as x[:, index])."""
    x = as_tensor_arg(input, "select")
    (axis,) = normalize_dims(dim, x.ndim, "select")
    size = x.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {tuple(x.shape)} at dimension "
                         f"{axis}")
    return x[(slice(None),) * axis + (int(index),)]


def unfold(input, dimension, size, step):
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last dim."""
    x = as_tensor_arg(input, "unfold")
    (axis,) = normalize_dims(dimension, x.ndim, "unfold")
    length = x.shape[axis] if x.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    starts = np.arange(0, length - size + 1, step, like=x._array)
    windows = starts[:, None] + np.arange(size, like=x._array)[None, :]  # (n, size) positions along the dim
    picked = x[(slice(None),) * axis + (Tensor._make(windows, False),)]  # dims: ..., n, size, ...
    return picked.movedim(axis + 1, -1)


def unravel_index(indices, shape):
    """The coordinates (one int64 tensor per dim of ``shape``) of flat ``indices``."""
    flat = indices._array if isinstance(indices, Tensor) else np.asarray(indices)  # a list: on the host
    if flat.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {flat.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    total = math.prod(shape)
    if flat.size and (flat.min() < -total or flat.max() >= total):
        raise RuntimeError("'indices' must be in range [-prod(shape), prod(shape) - 1]")
    return tuple(Tensor._make(c.astype(np.int64), False) for c in np.unravel_index(flat % total, shape))
