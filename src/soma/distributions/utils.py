"""Helpers the distributions share: broadcasting parameters, probabilities <-> logits, lazy parameters."""

import numbers

import numpy as np

import soma
import soma.nn.functional as F
from soma import random as _random

__all__ = ["broadcast_all", "lazy_property", "logits_to_probs", "probs_to_logits", "clamp_probs"]


def broadcast_all(*values):
    """Broadcast tensors and numbers together; numbers take the first tensor's dtype (else the default dtype)."""
    if not all(isinstance(v, (soma.Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects implementing "
                         "__torch_function__.")
    dtype = next((v.dtype for v in values if isinstance(v, soma.Tensor)), soma.get_default_dtype())
    tensors = [v if isinstance(v, soma.Tensor) else soma.tensor(float(v), dtype=dtype) for v in values]
    return soma.broadcast_tensors(*tensors)


def _sum_rightmost(value, dim):
    """Sum the ``dim`` rightmost dimensions of ``value``."""
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1) if dim > 0 else value


def clamp_probs(probs):
    """Probabilities kept in ``[eps, 1 - eps]`` of their dtype, so their logarithms stay finite."""
    eps = soma.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """``log p`` (``log p - log(1 - p)`` when ``is_binary``), on clamped probabilities."""
    clamped = clamp_probs(probs)
    return soma.log(clamped) - soma.log1p(-clamped) if is_binary else soma.log(clamped)


def logits_to_probs(logits, is_binary=False):
    """``sigmoid(logits)`` when ``is_binary``, else ``softmax(logits, -1)``."""
    return soma.sigmoid(logits) if is_binary else F.softmax(logits, dim=-1)


class lazy_property:  # noqa: N801  (PyTorch's name)
    """Computed on first access, then stored on the instance (``probs`` from ``logits`` and vice versa)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with soma.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _draw(fn, shape, dtype):
    """A tensor of ``shape`` drawn by ``fn(generator, shape)`` from soma's global generator (soma.manual_seed)."""
    array = np.asarray(fn(_random.generator(), tuple(shape)), dtype=dtype)
    return soma.tensor(array)
