"""softmax and log_softmax along a dimension, computed stably.

softmax(x)ᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m) with m = maxⱼ xⱼ: subtracting the maximum
changes nothing mathematically and keeps every exponent ≤ 0, so nothing overflows.
"""

import numpy as np

from soma.autograd.function import Function
from soma.ops.reduction import normalize_dims
from soma.tensor import Tensor

__all__ = ["Softmax", "LogSoftmax", "softmax", "log_softmax"]


class Softmax(Function):
    """yᵢ = e^(xᵢ) / Σⱼ e^(xⱼ)"""

    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - _max(x, dim))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        # ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ - yⱼ)  ⇒  ∂L/∂x = y ⊙ (g - Σ g⊙y)
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(axis=ctx.dim, keepdims=True)), None

    @staticmethod
    def formula(ctx, grad):
        y = Softmax.apply(ctx.inputs[0], ctx.dim)
        return y * (grad - (grad * y).sum(dim=ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    """yᵢ = xᵢ - log Σⱼ e^(xⱼ)"""

    @staticmethod
    def forward(ctx, x, dim):
        shifted = x - _max(x, dim)
        y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        # ∂yᵢ/∂xⱼ = δᵢⱼ - softmax(x)ⱼ  ⇒  ∂L/∂x = g - softmax(x)·Σ g
        (y,) = ctx.saved_tensors
        return grad - np.exp(y) * grad.sum(axis=ctx.dim, keepdims=True), None

    @staticmethod
    def formula(ctx, grad):
        y = LogSoftmax.apply(ctx.inputs[0], ctx.dim)
        return grad - y.exp() * grad.sum(dim=ctx.dim, keepdim=True), None


def _max(x, dim):
    """The maximum along ``dim``, kept as a dimension (an empty slice's is -inf, so empty inputs work)."""
    return np.max(x, axis=dim, keepdims=True, initial=-np.inf)


def _dim(input, dim, name):
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if input.ndim in (0, 1, 3) else 1
    (dim,) = normalize_dims(dim, input.ndim, name)
    return dim


def _apply(function, input, dim, dtype, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    dim = _dim(input, dim, name)
    if dtype is not None:
        input = input.to(dtype)
    if input._array.dtype.kind not in "fc" and not input._array.size:
        return Tensor._make(input._array.copy(), False)  # nothing to compute: PyTorch returns the empty input
    if input._array.dtype.kind not in "fc":
        raise NotImplementedError(f"{name}: \"{name}_lastdim_kernel_impl\" not implemented for '{input.dtype}'")
    if input.ndim == 0:
        return function.apply(input.reshape(1), 0).reshape(())
    return function.apply(input, dim)


def softmax(input, dim=None, dtype=None):
    """softmax(x)ᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m) along ``dim``."""
    return _apply(Softmax, input, dim, dtype, "softmax")


def log_softmax(input, dim=None, dtype=None):
    """log_softmax(x)ᵢ = xᵢ - m - ln Σⱼ e^(xⱼ - m) along ``dim``."""
    return _apply(LogSoftmax, input, dim, dtype, "log_softmax")
