"""Memory formats: how a tensor's elements are laid out (``soma.contiguous_format``, ``soma.channels_last``, ...).

The values never depend on the format; only the strides do. ``channels_last`` keeps a 4-D
NCHW tensor's channels adjacent in memory (NHWC order), ``channels_last_3d`` the same for 5-D,
``preserve_format`` keeps the input's layout, ``contiguous_format`` is row-major.
"""

import numpy as np

__all__ = ["memory_format", "contiguous_format", "preserve_format", "channels_last", "channels_last_3d",
           "in_format"]


class memory_format:
    """One of PyTorch's memory formats (compared by identity; ``repr`` is its name)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"soma.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
_ORDERS = {channels_last: (4, (0, 2, 3, 1)), channels_last_3d: (5, (0, 2, 3, 4, 1))}


def in_format(array, fmt, name):
    """``array``'s values copied into the layout ``fmt`` asks for (a strided view of a permuted copy)."""
    if fmt is preserve_format:
        return array.copy(order="K")
    if fmt is contiguous_format:
        return np.ascontiguousarray(array)
    if fmt not in _ORDERS:
        raise TypeError(f"{name}(): memory_format must be a soma memory format, not {fmt!r}")
    ndim, order = _ORDERS[fmt]
    if array.ndim != ndim:
        raise RuntimeError(f"{name}(): required rank {ndim} tensor to use {fmt.name} format, got {array.ndim}")
    return np.ascontiguousarray(array.transpose(order)).transpose(np.argsort(order))


def clone(input, *, memory_format=preserve_format):
    """A copy of ``input`` that records the graph (the gradient passes unchanged), laid out in ``memory_format``."""
    from soma.ops._common import as_tensor_arg
    from soma.ops.shape import Clone

    input = as_tensor_arg(input, "clone")
    out = Clone.apply(input)
    if memory_format is not contiguous_format:
        out._array = in_format(input._array, memory_format, "clone")  # the same values, other strides
    return out
