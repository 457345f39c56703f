"""Flatten parameters into one vector and back (for line searches, second-order methods, inspection)."""

import numpy as np

from soma.autograd.function import mark_dirty
from soma.ops.shape import cat
from soma.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """All parameters, flattened and joined in order, as one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into each parameter, in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {tuple(vec.shape)}")
    parameters = list(parameters)
    needed = sum(p._array.size for p in parameters)
    if vec.shape[0] != needed:
        raise ValueError(
            f"vector_to_parameters: vec has {vec.shape[0]} elements but the parameters hold {needed}"
        )
    offset = 0
    data = vec._array
    for p in parameters:
        n = p._array.size
        p._array[...] = np.reshape(data[offset:offset + n], p._array.shape)
        offset += n
    mark_dirty(*parameters)
