"""Statistics built from the reductions: aminmax, std_mean/var_mean, nansum/nanmean, count_nonzero, diff,
cov, corrcoef, isin. Compositions of differentiable ops, so their gradients are the reductions'.

    nansum = Σ over the non-NaN xᵢ        nanmean = nansum / (count of non-NaN)
    cov(X) = (X - x̄)(X - x̄)ᵀ / (N - correction), rows are variables, columns observations
    corrcoef(X)ᵢⱼ = cov(X)ᵢⱼ / √(cov(X)ᵢᵢ cov(X)ⱼⱼ)       diff(x)ᵢ = xᵢ₊₁ - xᵢ (n times)
"""

from collections import namedtuple

import numpy as np

from soma.ops._common import as_tensor_arg
from soma.ops.reduction import normalize_dims
from soma.tensor import Tensor

__all__ = ["aminmax", "std_mean", "var_mean", "nansum", "nanmean", "count_nonzero", "diff", "cov", "corrcoef",
           "isin"]

aminmax_result = namedtuple("aminmax", ["min", "max"])


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) together, over ``dim`` or over everything (ties share the gradient, as amin/amax)."""
    x = as_tensor_arg(input, "aminmax")
    if x._array.size == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    dims = () if dim is None else dim
    return aminmax_result(x.amin(dims, keepdim), x.amax(dims, keepdim))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``."""
    x = as_tensor_arg(input, "var_mean")
    return x.var(dim, unbiased, keepdim, correction=correction), x.mean(dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``."""
    x = as_tensor_arg(input, "std_mean")
    return x.std(dim, unbiased, keepdim, correction=correction), x.mean(dim, keepdim)


def _not_nan(x):
    return Tensor._make(~np.isnan(x._array), False)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Σ over ``dim`` counting NaN as 0 (the gradient at a NaN is 0)."""
    from soma.ops import where

    x = as_tensor_arg(input, "nansum")
    if x._array.dtype.kind != "f":
        return x.sum(dim, keepdim, dtype=dtype)
    return where(_not_nan(x), x, 0.0).sum(dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean over ``dim`` of the non-NaN values (NaN where all are NaN)."""
    x = as_tensor_arg(input, "nanmean")
    if x._array.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {x.dtype}")
    count = _not_nan(x).to(x.dtype).sum(dim, keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return nansum(x, dim, keepdim, dtype=dtype) / count


def count_nonzero(input, dim=None):
    """The number of non-zero elements over ``dim`` (int64)."""
    x = as_tensor_arg(input, "count_nonzero")
    axes = None if dim is None else normalize_dims(dim, x.ndim, "count_nonzero")
    return Tensor._make(np.asarray(np.count_nonzero(x._array, axis=axes), dtype=np.int64), False)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim`` (prepend/append joined first)."""
    from soma.ops import cat

    x = as_tensor_arg(input, "diff")
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    (axis,) = normalize_dims(dim, x.ndim, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    x = cat(parts, axis) if len(parts) > 1 else x
    for _ in range(n):
        size = x.shape[axis]
        x = x.narrow(axis, 1, max(size - 1, 0)) - x.narrow(axis, 0, max(size - 1, 0))
    return x


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance of the rows (variables) of ``input`` over its columns (observations)."""
    x = as_tensor_arg(input, "cov")
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {x.ndim} "
                           "dimensions")
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov(): fweights and aweights are not supported by soma yet")
    x = x.reshape(1, -1) if x.ndim < 2 else x
    if x._array.dtype.kind != "f":
        x = x.float()
    n = x.shape[1]
    centred = x - x.mean(1, keepdim=True)
    product = centred @ centred.t() / max(n - correction, 0)
    return product.squeeze() if input.ndim < 2 else product


def corrcoef(input):
    """Pearson's correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal().sqrt()
    return (c / d.unsqueeze(1) / d.unsqueeze(0)).clamp(-1, 1)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """A bool tensor: whether each element of ``elements`` is among ``test_elements``."""
    values = elements._array if isinstance(elements, Tensor) else np.asarray(elements)
    tests = test_elements._array if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor._make(np.isin(values, tests, invert=invert), False)
