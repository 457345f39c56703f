"""Helpers several nn layer families share."""

from soma import backend
from soma.tensor import Tensor

__all__ = ["maybe_inplace", "beside"]


def beside(tensor, array):
    """``array``, computed on the host from sizes or Python data (gather indices, interpolation weights, a tree's
    node numbers), as a Tensor outside the graph on ``tensor``'s device, where the op that uses it runs."""
    return Tensor._make(backend.of(tensor._array).transfer(array), False)


def maybe_inplace(module, function, input, *args):
    """``function(input, *args)``, written into ``input`` when ``module.inplace`` is set (PyTorch's
    ``inplace=True``): the result is ``input`` itself, its history rebased onto the op, and a leaf
    that requires grad is an error, as for every in-place op."""
    if not module.inplace:
        return function(input, *args)
    return input._inplace(f"{type(module).__name__}(inplace=True)", function, *args)
