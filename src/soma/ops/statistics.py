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
           "isin", "quantile", "nanquantile", "bucketize", "histogram", "trapezoid", "cumulative_trapezoid"]

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
    return Tensor._make((x._array != 0).sum(axis=axes, dtype=np.int64), False)  # a 0-d array, not an int


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
    like = (elements if isinstance(elements, Tensor) else test_elements)._array  # a number goes beside the tensor
    values = elements._array if isinstance(elements, Tensor) else np.asarray(elements, like=like)
    tests = test_elements._array if isinstance(test_elements, Tensor) else np.asarray(test_elements, like=like)
    return Tensor._make(np.isin(values, tests, invert=invert), False)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    """The q-quantiles along ``dim`` from the sorted values (the gradient goes to the one or two values read)."""
    from soma.ops import gather, sort, stack

    x = as_tensor_arg(input, name)
    if x._array.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype, got {x.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                           f"Got {interpolation}")
    if isinstance(q, Tensor) and q._array.dtype != x._array.dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor (got {q.dtype} and {x.dtype})")
    qs = q._array if isinstance(q, Tensor) else np.asarray(q, dtype=np.float64, like=x._array)
    if qs.ndim > 1 or (qs.size and (qs.min() < 0 or qs.max() > 1)):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1] and q must be a scalar or 1D tensor")
    if dim is None:
        x, axis = x.reshape(-1), 0
    else:
        (axis,) = normalize_dims(dim, x.ndim, name)
    if x.shape[axis] == 0:
        raise IndexError(f"{name}() input tensor must be non-empty")
    ordered = sort(x, axis).values  # NaN sorts last
    nan = np.isnan(x._array)
    count = (~nan).sum(axis=axis, keepdims=True) if ignore_nan else np.full_like(
        x._array, x.shape[axis], shape=x.shape[:axis] + (1,) + x.shape[axis + 1:], dtype=np.int64)
    results = []
    for value in np.atleast_1d(qs):
        position = value * (np.maximum(count, 1) - 1)
        low, high = np.floor(position).astype(np.int64), np.ceil(position).astype(np.int64)
        weight = position - low
        if interpolation == "lower":
            high, weight = low, weight * 0
        elif interpolation == "higher":
            low, weight = high, weight * 0
        elif interpolation == "nearest":
            low = high = np.round(position).astype(np.int64)
        elif interpolation == "midpoint":
            weight = np.where(high > low, 0.5, 0.0)
        undefined = (count == 0) if ignore_nan else nan.any(axis=axis, keepdims=True)
        if undefined.any():  # the result is the last NaN (sorted last), which then gets the gradient, as PyTorch
            last = x.shape[axis] - 1
            low, high, weight = np.where(undefined, last, low), np.where(undefined, last, high), weight * ~undefined
        a, b = gather(ordered, axis, Tensor._make(low, False)), gather(ordered, axis, Tensor._make(high, False))
        out = a + (b - a) * Tensor._make(weight.astype(x._array.dtype), False) if np.any(weight) else a
        results.append(out if keepdim and dim is not None else out.squeeze(axis))
    if keepdim and dim is None:
        results = [r.reshape((1,) * input.ndim) for r in results]
    return stack(results, 0) if qs.ndim else results[0]


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-quantiles of ``input`` along ``dim`` (all elements when None); NaN where a slice has NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """:func:`quantile` ignoring NaN values (NaN only where a slice is all NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """For each value, the index of the bucket of the sorted ``boundaries`` it falls into (int64)."""
    edges = as_tensor_arg(boundaries, "bucketize", "boundaries")._array
    values = input._array if isinstance(input, Tensor) else np.asarray(input, like=edges)
    if edges.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({edges.ndim})")
    index = np.searchsorted(edges, values, side="right" if right else "left")
    return Tensor._make(index.astype(np.int32 if out_int32 else np.int64), False)


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """(hist, bin_edges) as numpy.histogram: ``bins`` equal bins over ``range`` (the data's by default)."""
    x = as_tensor_arg(input, "histogram")
    edges_in = bins._array if isinstance(bins, Tensor) else bins
    counts, edges = np.histogram(x._array, edges_in, range=range,
                                 weights=None if weight is None else weight._array, density=density)
    dtype = x._array.dtype
    return Tensor._make(counts.astype(dtype), False), Tensor._make(edges.astype(dtype), False)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """∫ y by the trapezoidal rule along ``dim``: Σ (yᵢ + yᵢ₊₁)/2 · Δxᵢ (Δx = dx, or the spacing of x)."""
    return _trapezoids(y, x, dx, dim).sum(dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral of y along ``dim`` (one element shorter)."""
    return _trapezoids(y, x, dx, dim).cumsum(dim)


def _trapezoids(y, x, dx, dim):
    y = as_tensor_arg(y, "trapezoid", "y")
    (axis,) = normalize_dims(dim, y.ndim, "trapezoid")
    n = y.shape[axis]
    mean = (y.narrow(axis, 1, max(n - 1, 0)) + y.narrow(axis, 0, max(n - 1, 0))) / 2
    if x is None:
        return mean * (1.0 if dx is None else dx)
    steps = diff(x, dim=-1 if x.ndim == 1 else axis)
    if x.ndim == 1 and y.ndim > 1:
        steps = steps.reshape((-1,) + (1,) * (y.ndim - axis - 1))
    return mean * steps
