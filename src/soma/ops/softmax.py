"""softmax and log_softmax along a dimension, computed stably.

softmax(x)ᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m) with m = maxⱼ xⱼ: subtracting the maximum
changes nothing mathematically and keeps every exponent ≤ 0, so nothing overflows.
"""

import numpy as np

from soma.autograd.function import Function
from soma.ops.reduction import normalize_dims

__all__ = ["Softmax", "LogSoftmax", "softmax", "log_softmax"]


class Softmax(Function):
    """yᵢ = e^(xᵢ) / Σⱼ e^(xⱼ)"""

    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        # ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ - yⱼ)  ⇒  ∂L/∂x = y ⊙ (g - Σ g⊙y)
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(axis=ctx.dim, keepdims=True)), None


class LogSoftmax(Function):
    """yᵢ = xᵢ - log Σⱼ e^(xⱼ)"""

    @staticmethod
    def forward(ctx, x, dim):
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        # ∂yᵢ/∂xⱼ = δᵢⱼ - softmax(x)ⱼ  ⇒  ∂L/∂x = g - softmax(x)·Σ g
        (y,) = ctx.saved_tensors
        return grad - np.exp(y) * grad.sum(axis=ctx.dim, keepdims=True), None


def _dim(input, dim, name):
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if input.ndim in (0, 1, 3) else 1
    (dim,) = normalize_dims(dim, input.ndim, name)
    return dim


def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, _dim(input, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return LogSoftmax.apply(input, _dim(input, dim, "log_softmax"))
