"""Reductions: sum, mean, amax/amin, max/min along a dim, prod, logsumexp, cumsum; var, std, norm.

The backward of a reduction spreads the gradient back over the reduced elements:
evenly for sum and mean, to the chosen element for max along a dim, in equal shares
among the tied maxima for amax (PyTorch's rules).
"""

import builtins
from collections import namedtuple

import numpy as np

from soma.autograd.function import Function
from soma.tensor import Tensor

__all__ = [
    "Sum", "Mean", "Amax", "Amin", "MaxDim", "Prod", "LogSumExp", "Cumsum",
    "sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "prod", "logsumexp",
    "cumsum", "var", "std", "norm", "normalize_dims",
]

values_indices = namedtuple("values_indices", ["values", "indices"])


def normalize_dims(dim, ndim, name="reduction"):
    """``dim`` (None, int or tuple) as a tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    size = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not -size <= d < size:
            raise IndexError(
                f"{name}: dimension {d} is out of range for a tensor with {ndim} dimensions"
            )
        out.append(d % size)
    return tuple(out)


def _expand_back(grad, shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's ``shape``."""
    if not keepdim and shape:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    """y = Σᵢ xᵢ over ``axes``"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.meta = (x.shape, axes, keepdim)
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        # ∂y/∂xᵢ = 1
        return _expand_back(grad, *ctx.meta), None, None


class Mean(Function):
    """y = (1/n) Σᵢ xᵢ over ``axes``"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.meta = (x.shape, axes, keepdim)
        ctx.count = int(np.prod([x.shape[a] for a in axes]))
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        # ∂y/∂xᵢ = 1/n
        return _expand_back(grad / ctx.count, *ctx.meta), None, None


class Amax(Function):
    """y = max xᵢ over ``axes``; tied maxima share the gradient equally"""

    reduce = staticmethod(np.amax)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        y = type(ctx).reduce(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.meta = (x.shape, axes, keepdim)
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        shape, axes, keepdim = ctx.meta
        winners = x == y
        share = winners / winners.sum(axis=axes, keepdims=True)
        return _expand_back(grad, shape, axes, keepdim) * share, None, None


class Amin(Amax):
    """y = min xᵢ over ``axes``; tied minima share the gradient equally"""

    reduce = staticmethod(np.amin)


class MaxDim(Function):
    """y = x[argmax] along one dim (or argmin); the gradient goes to that element only"""

    @staticmethod
    def forward(ctx, x, dim, keepdim, indices):
        ctx.meta = (x.shape, dim, keepdim, indices)
        return np.take_along_axis(x, indices, axis=dim).squeeze(dim) if not keepdim else (
            np.take_along_axis(x, indices, axis=dim)
        )

    @staticmethod
    def backward(ctx, grad):
        shape, dim, keepdim, indices = ctx.meta
        if not keepdim:
            grad = np.expand_dims(grad, dim)
        out = np.zeros(shape, grad.dtype)
        np.put_along_axis(out, indices, grad, axis=dim)
        return out, None, None, None


class Prod(Function):
    """y = Πᵢ xᵢ along one dim (or over all elements)"""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.save_for_backward(x)
        ctx.meta = (dim, keepdim)
        if dim is None:
            return x.prod()
        return x.prod(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        # ∂y/∂xᵢ = Π_{j≠i} xⱼ, formed from exclusive cumulative products (exact with zeros)
        (x,) = ctx.saved_tensors
        dim, keepdim = ctx.meta
        flat = dim is None
        work = x.reshape(-1) if flat else x
        axis = 0 if flat else dim
        ones = np.ones_like(np.take(work, [0], axis=axis))
        left = np.cumprod(np.concatenate([ones, work], axis=axis), axis=axis)
        left = np.delete(left, -1, axis=axis)
        right = np.flip(
            np.cumprod(np.concatenate([ones, np.flip(work, axis)], axis=axis), axis=axis), axis
        )
        right = np.delete(right, 0, axis=axis)
        others = left * right
        if flat:
            return (grad * others).reshape(x.shape), None, None
        if not keepdim:
            grad = np.expand_dims(grad, dim)
        return grad * others, None, None


class LogSumExp(Function):
    """y = m + ln Σᵢ e^(xᵢ - m), with m = max xᵢ so no term overflows"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        m = np.amax(x, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        y = m + np.log(np.exp(x - m).sum(axis=axes, keepdims=True))
        ctx.save_for_backward(x, y)
        ctx.meta = (x.shape, axes, keepdim)
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        # ∂y/∂xᵢ = softmax(x)ᵢ
        x, y = ctx.saved_tensors
        return _expand_back(grad, *ctx.meta) * np.exp(x - y), None, None


class Cumsum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along ``dim``"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        # ∂L/∂xⱼ = Σ_{i≥j} ∂L/∂yᵢ: a cumulative sum from the end
        dim = ctx.dim
        return np.flip(np.cumsum(np.flip(grad, dim), axis=dim), dim), None


def sum(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    elif x._array.dtype.kind in "bu" or x._array.dtype == np.int32:
        x = x.long()
    return Sum.apply(x, normalize_dims(dim, x.ndim, "sum"), keepdim)


def mean(x, dim=None, keepdim=False):
    if x._array.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got {x.dtype}"
        )
    return Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)


def amax(x, dim=None, keepdim=False):
    return Amax.apply(x, normalize_dims(dim, x.ndim, "amax"), keepdim)


def amin(x, dim=None, keepdim=False):
    return Amin.apply(x, normalize_dims(dim, x.ndim, "amin"), keepdim)


def _max_or_min(x, dim, keepdim, find, reduce, name):
    if dim is None:
        return reduce(x)
    (dim,) = normalize_dims(dim, x.ndim, name)
    indices = np.expand_dims(find(x._array, axis=dim), dim)
    values = MaxDim.apply(x, dim, keepdim, indices)
    if not keepdim:
        indices = indices.squeeze(dim)
    return values_indices(values, Tensor._make(indices.astype(np.int64), False))


def max(x, dim=None, keepdim=False):
    """max(x): the largest element; max(x, dim): (values, indices) along dim, as in PyTorch."""
    if isinstance(dim, Tensor):  # max(a, b) written as a.max(b) is maximum
        from soma.ops.arithmetic import maximum

        return maximum(x, dim)
    return _max_or_min(x, dim, keepdim, np.argmax, amax, "max")


def min(x, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        from soma.ops.arithmetic import minimum

        return minimum(x, dim)
    return _max_or_min(x, dim, keepdim, np.argmin, amin, "min")


def _arg(x, dim, keepdim, find):
    data = x._array if isinstance(x, Tensor) else np.asarray(x)
    if dim is None:
        out = find(data.reshape(-1))
        return Tensor._make(np.asarray(out, dtype=np.int64), False)
    out = find(data, axis=dim)
    if keepdim:
        out = np.expand_dims(out, dim)
    return Tensor._make(np.asarray(out, dtype=np.int64), False)


def argmax(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, np.argmax)


def argmin(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, np.argmin)


def prod(x, dim=None, keepdim=False):
    if dim is not None:
        (dim,) = normalize_dims(dim, x.ndim, "prod")
    return Prod.apply(x, dim, keepdim)


def logsumexp(x, dim, keepdim=False):
    return LogSumExp.apply(x, normalize_dims(dim, x.ndim, "logsumexp"), keepdim)


def cumsum(x, dim):
    (dim,) = normalize_dims(dim, x.ndim, "cumsum")
    return Cumsum.apply(x, dim)


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """σ² = Σᵢ (xᵢ - x̄)² / (n - correction); correction = 1 (Bessel's) unless unbiased=False."""
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = normalize_dims(dim, x.ndim, "var")
    count = int(np.prod([x.shape[a] for a in axes]))
    centered = x - Mean.apply(x, axes, True)
    return Sum.apply(centered * centered, axes, keepdim) / builtins.max(count - correction, 0)


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """σ = √var"""
    return var(x, dim, unbiased, keepdim, correction).sqrt()


def norm(x, p=2, dim=None, keepdim=False):
    """‖x‖ₚ = (Σᵢ |xᵢ|ᵖ)^(1/p); p may be 1, 2, any positive number or inf."""
    axes = normalize_dims(dim, x.ndim, "norm")
    if p in ("fro", 2):
        return Sum.apply(x * x, axes, keepdim).sqrt()
    if p == 1:
        return Sum.apply(x.abs(), axes, keepdim)
    if p == float("inf"):
        return Amax.apply(x.abs(), axes, keepdim)
    return Sum.apply(x.abs() ** p, axes, keepdim) ** (1.0 / p)
