"""Gradient clipping: rescale (clip_grad_norm_) or clamp (clip_grad_value_) gradients in place.

Exploding gradients (notes 004: products of many factors larger than 1) make single
steps huge; clipping the gradient's norm to ``max_norm`` keeps each step's size
bounded while keeping its direction. Call between ``loss.backward()`` and
``optimizer.step()``.
"""

import math

import numpy as np

from soma.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grad_norm", "get_total_norm"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad._array for p in parameters if p.grad is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """‖(g₁, g₂, ...)‖ₚ of all the arrays together, as a 0-d tensor."""
    arrays = [t._array if isinstance(t, Tensor) else t for t in tensors]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor._make(np.array(0.0, np.float32), False)
    dtype = arrays[0].dtype
    if norm_type == math.inf:
        total = max(float(np.abs(a).max()) if a.size else 0.0 for a in arrays)
    else:
        per = [np.linalg.norm(a.reshape(-1), ord=norm_type) for a in arrays]
        total = float(np.linalg.norm(np.stack(per), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(np.full((), total, dtype, like=arrays[0]), False)  # beside the gradients, as PyTorch


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients by min(1, max_norm / (‖g‖ + 1e-6)) in place; returns the norm ‖g‖ before clipping.

    ``‖g‖`` is the ``norm_type``-norm of all the gradients joined into one vector.

    Example::

        >>> loss.backward()
        >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> optimizer.step()
    """
    grads = _grads(parameters if isinstance(parameters, Tensor) else list(parameters))
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    coefficient = min(float(max_norm) / (float(total._array) + 1e-6), 1.0)
    if coefficient < 1.0:
        for g in grads:
            g *= g.dtype.type(coefficient)
    return total


clip_grad_norm = clip_grad_norm_


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters if isinstance(parameters, Tensor) else list(parameters)):
        np.clip(g, -clip_value, clip_value, out=g)
