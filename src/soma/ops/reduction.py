"""Reductions: sum, mean, amax/amin, max/min along a dim, prod, logsumexp, cumsum; var, std, norm.

The backward of a reduction spreads the gradient back over the reduced elements:
evenly for sum and mean, to the chosen element for max along a dim, in equal shares
among the tied maxima for amax (PyTorch's rules).
"""

import builtins
import math
from collections import namedtuple

import numpy as np

from soma._promotion import get_default_dtype
from soma.autograd.function import Function
from soma.ops._common import as_tensor_arg, write_out
from soma.tensor import Tensor

__all__ = [
    "Sum", "Mean", "Amax", "Amin", "MaxDim", "Prod", "LogSumExp", "Cumsum",
    "sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "prod", "logsumexp",
    "cumsum", "var", "std", "normalize_dims", "all", "any",
]

values_indices = namedtuple("values_indices", ["values", "indices"])


def normalize_dims(dim, ndim, name="reduction", empty_means_all=True):
    """``dim`` (None, an int, or a tuple/list; empty means all) as a tuple of non-negative axes.

    ``empty_means_all=False`` is for ops where an empty list means no dims (permute, flip, squeeze).
    A 0-d tensor accepts dims 0 and -1, as in PyTorch. Out-of-range dims raise IndexError and
    repeated dims RuntimeError, with PyTorch's wording and the op's name.
    """
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        dims = (int(dim),)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
        if not dims:
            return tuple(range(ndim)) if empty_means_all else ()
    else:
        raise TypeError(f"{name}(): argument 'dim' must be int or tuple of ints, not {type(dim).__name__}")
    size = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{name}(): argument 'dim' must be int or tuple of ints, got an element {d!r}")
        if not -size <= d < size:
            raise IndexError(
                f"{name}: Dimension out of range (expected to be in range of [{-size}, {size - 1}], but got {d})"
            )
        d = int(d) % size
        if d in out:
            raise RuntimeError(f"{name}: dim {d} appears multiple times in the list of dims")
        out.append(d)
    return tuple(out)


# Up to this many elements a scalar's gradient is expanded by filling a fresh array: ~2 µs, where
# np.broadcast_to's Python-level wrapper costs ~5-10 µs, the largest item of a tiny op's backward.
# Past it the broadcast view wins (no memory to write).
FILL_UP_TO = 4096


def _expand_back(grad, shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's ``shape``."""
    if grad.ndim == 0:  # a reduction to a scalar: nothing to re-insert (a Tensor when create_graph differentiates)
        if type(grad) is np.ndarray and math.prod(shape) <= FILL_UP_TO:
            out = np.empty(shape, grad.dtype, like=grad)
            out[...] = grad
            return out
        return np.broadcast_to(grad, shape)
    if not keepdim and shape:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    """y = Σᵢ xᵢ over ``axes``"""

    linear = (0,)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        # ∂y/∂xᵢ = 1
        return _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdim), None, None


class Mean(Function):
    """y = (1/n) Σᵢ xᵢ over ``axes``"""

    linear = (0,)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.count = math.prod([x.shape[a] for a in axes])
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        # ∂y/∂xᵢ = 1/n
        return _expand_back(grad / ctx.count, ctx.shape, ctx.axes, ctx.keepdim), None, None


class Amax(Function):
    """y = max xᵢ over ``axes``; tied maxima share the gradient equally"""

    reduce = staticmethod(np.amax)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        y = type(ctx).reduce(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, ctx.saved_tensors[0].shape, ctx.axes, ctx.keepdim) * _share(ctx), None, None

    @staticmethod
    def formula(ctx, grad):
        x, y = ctx.saved_tensors
        return grad.reshape(y.shape) * _share(ctx).astype(x.dtype), None, None


def _share(ctx):
    """Each element's share of an extremum's gradient: 1/k for each of k tied winners, else 0."""
    x, y = ctx.saved_tensors
    winners = x == y
    return winners / winners.sum(axis=ctx.axes, keepdims=True)


class Amin(Amax):
    """y = min xᵢ over ``axes``; tied minima share the gradient equally"""

    reduce = staticmethod(np.amin)


class MaxDim(Function):
    """y = x[argmax] along one dim (or argmin); the gradient goes to that element only"""

    linear = (0,)

    @staticmethod
    def forward(ctx, x, dim, keepdim, indices):
        ctx.shape, ctx.dim, ctx.keepdim, ctx.indices = x.shape, dim, keepdim, indices
        return np.take_along_axis(x, indices, axis=dim).squeeze(dim) if not keepdim else (
            np.take_along_axis(x, indices, axis=dim)
        )

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdim:
            grad = np.expand_dims(grad, ctx.dim)
        out = np.zeros_like(grad, shape=ctx.shape)
        np.put_along_axis(out, ctx.indices, grad, axis=ctx.dim)
        return out, None, None, None


class Prod(Function):
    """y = Πᵢ xᵢ along one dim (or over all elements)"""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        y = x.prod() if dim is None else x.prod(axis=dim, keepdims=True)
        ctx.save_for_backward(x, y)  # y (dim kept) serves the backward's y / xᵢ
        ctx.dim, ctx.keepdim = dim, keepdim
        return y if dim is None or keepdim else np.squeeze(y, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        # ∂y/∂xᵢ = Π_{j≠i} xⱼ: y/xᵢ when no x is 0 (PyTorch's formula, so inf/inf gives nan as there),
        # else from exclusive cumulative products, which stay exact with zeros
        x, y = ctx.saved_tensors
        dim, keepdim = ctx.dim, ctx.keepdim
        if x.size == 0 or not np.any(x == 0):
            if dim is not None and not keepdim:
                grad = np.expand_dims(grad, dim)
            with np.errstate(divide="ignore", invalid="ignore"):
                return (grad * (y / x)).astype(x.dtype, copy=False), None, None
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

    @staticmethod
    def formula(ctx, grad):
        # y/xᵢ recorded; with a zero in x the exclusive products' own derivative is not written yet
        x, y = ctx.saved_tensors
        if np.any(x == 0):
            raise RuntimeError("ProdBackward0: higher-order gradients of prod with zeros in the input are not "
                               "supported (create_graph=True)")
        (tx, dim, keepdim) = ctx.inputs
        kept = Prod.apply(tx, dim, True) if dim is not None else Prod.apply(tx, None, False)
        if dim is not None and not keepdim:
            grad = grad.unsqueeze(dim)
        return grad * (kept / tx), None, None


class LogSumExp(Function):
    """y = m + ln Σᵢ e^(xᵢ - m), with m = max xᵢ so no term overflows"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        m = np.amax(x, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)
        y = m + np.log(np.exp(x - m).sum(axis=axes, keepdims=True))
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        # ∂y/∂xᵢ = softmax(x)ᵢ
        x, y = ctx.saved_tensors
        return _expand_back(grad, x.shape, ctx.axes, ctx.keepdim) * np.exp(x - y), None, None

    @staticmethod
    def formula(ctx, grad):
        x = ctx.inputs[0]
        y = LogSumExp.apply(x, ctx.axes, True)
        return grad.reshape(y.shape) * (x - y).exp(), None, None


class Cumsum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along ``dim``"""

    linear = (0,)

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        # ∂L/∂xⱼ = Σ_{i≥j} ∂L/∂yᵢ: a cumulative sum from the end
        dim = ctx.dim
        return np.flip(np.cumsum(np.flip(grad, dim), axis=dim), dim), None


def _axes(x, dim, name):
    """The axes to reduce (none for a 0-d tensor, whose dim 0 / -1 is the tensor itself)."""
    axes = normalize_dims(dim, x.ndim, name)
    return axes if x.ndim else ()


def _check_nonempty(x, dim, axes, name):
    """PyTorch refuses max-like reductions over nothing: RuntimeError for a whole empty tensor, IndexError per dim."""
    if x._array.size:
        return
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            f"Specify the reduction dim with the 'dim' argument (input shape {tuple(x.shape)})."
        )
    for axis in axes:
        if x.shape[axis] == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim {axis} to have non-zero size (input shape {tuple(x.shape)})."
            )


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """y = Σᵢ xᵢ over ``dim`` (all dims if None or empty); integers and bools sum to int64, as in PyTorch."""
    x = as_tensor_arg(input, "sum")
    if dtype is not None:
        x = x.to(dtype)
    elif x._array.dtype.kind in "iub":
        x = x.long()
    return write_out(Sum.apply(x, _axes(x, dim, "sum"), keepdim), out, "sum")


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """y = (1/n) Σᵢ xᵢ over ``dim``; needs a floating dtype (or ``dtype=``), as in PyTorch."""
    x = as_tensor_arg(input, "mean")
    if dtype is not None:
        x = x.to(dtype)
    if x._array.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {x.dtype}"
        )
    return write_out(Mean.apply(x, _axes(x, dim, "mean"), keepdim), out, "mean")


def amax(input, dim=(), keepdim=False, *, out=None):
    """The largest element over ``dim`` (all dims if empty); tied maxima share the gradient."""
    x = as_tensor_arg(input, "amax")
    axes = _axes(x, dim, "amax")
    _check_nonempty(x, dim, axes, "amax")
    return write_out(Amax.apply(x, axes, keepdim), out, "amax")


def amin(input, dim=(), keepdim=False, *, out=None):
    x = as_tensor_arg(input, "amin")
    axes = _axes(x, dim, "amin")
    _check_nonempty(x, dim, axes, "amin")
    return write_out(Amin.apply(x, axes, keepdim), out, "amin")


def _max_or_min(x, dim, keepdim, find, reduce, name):
    x = as_tensor_arg(x, name)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}(): keepdim needs dim")
        _check_nonempty(x, None, (), name)
        return reduce(x)
    (dim,) = normalize_dims(dim, x.ndim, name)
    if x.ndim == 0:
        return values_indices(x.clone(), Tensor._make(np.zeros((), np.int64, like=x._array), False))
    _check_nonempty(x, dim, (dim,), name)
    indices = np.expand_dims(_first_extreme(x._array, dim, find), dim)
    values = MaxDim.apply(x, dim, keepdim, indices)
    if not keepdim:
        indices = indices.squeeze(dim)
    return values_indices(values, Tensor._make(indices.astype(np.int64), False))


def _first_extreme(array, axis, find):
    """np.argmax/argmin, except that a NaN counts as the extreme (PyTorch propagates NaN and points at it)."""
    if array.dtype.kind == "f":
        nan = np.isnan(array)
        if nan.any():
            return np.where(nan.any(axis=axis), np.argmax(nan, axis=axis), find(np.where(nan, 0, array), axis=axis))
    return find(array, axis=axis)


def max(input, dim=None, keepdim=False, *, out=None):
    """max(x): the largest element; max(x, dim): (values, indices) along dim; max(x, other): maximum."""
    if isinstance(dim, Tensor):  # max(a, b) written as a.max(b) is maximum
        from soma.ops.arithmetic import maximum

        return maximum(input, dim)
    return _max_or_min(input, dim, keepdim, np.argmax, amax, "max")


def min(input, dim=None, keepdim=False, *, out=None):
    """min(x): the smallest element; min(x, dim): (values, indices) along dim; min(x, other): minimum."""
    if isinstance(dim, Tensor):
        from soma.ops.arithmetic import minimum

        return minimum(input, dim)
    return _max_or_min(input, dim, keepdim, np.argmin, amin, "min")


def _arg(x, dim, keepdim, find, name):
    x = as_tensor_arg(x, name)
    data = x._array
    if data.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if data.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        out = _first_extreme(data.reshape(-1), 0, find)
        if keepdim:
            out = np.reshape(out, (1,) * data.ndim)
        return Tensor._make(out.astype(np.int64), False)
    (dim,) = normalize_dims(dim, x.ndim, name)
    if data.ndim == 0:
        return Tensor._make(np.zeros((), np.int64, like=data), False)
    if data.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size (input shape {data.shape})")
    out = _first_extreme(data, dim, find)
    if keepdim:
        out = np.expand_dims(out, dim)
    return Tensor._make(out.astype(np.int64), False)


def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, np.argmax, "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, np.argmin, "argmin")


def _logical_reduction(name, reduce):
    def op(input, dim=None, keepdim=False, *, out=None):
        x = as_tensor_arg(input, name)
        axes = _axes(x, dim, name)
        result = reduce(x._array, axis=axes, keepdims=keepdim)
        dtype = np.uint8 if x._array.dtype == np.uint8 else np.bool_
        return write_out(Tensor._make(result.astype(dtype, copy=False), False), out, name)

    op.__name__ = op.__qualname__ = name
    return op


all = _logical_reduction("all", np.all)
any = _logical_reduction("any", np.any)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    x = as_tensor_arg(input, "prod")
    if dtype is not None:
        x = x.to(dtype)
    elif x._array.dtype.kind in "iub":
        x = x.long()
    if dim is not None:
        (dim,) = normalize_dims(dim, x.ndim, "prod")
        if x.ndim == 0:
            dim = None
    return Prod.apply(x, dim, keepdim)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """y = ln Σᵢ e^(xᵢ) over ``dim``, computed stably; integers compute in the default float dtype."""
    x = as_tensor_arg(input, "logsumexp")
    if x._array.dtype.kind not in "fc":
        x = x.to(get_default_dtype())
    return write_out(LogSumExp.apply(x, _axes(x, dim, "logsumexp"), keepdim), out, "logsumexp")


def running(function, name, doc):
    """The functional form of a running reduction along one dim (cumsum, cumprod): PyTorch's dtype rule
    (``dtype=``, else integers and bools accumulate in int64), and a 0-d input comes back as a copy."""

    def op(input, dim, *, dtype=None, out=None):
        x = as_tensor_arg(input, name)
        if dtype is not None:
            x = x.to(dtype)
        elif x._array.dtype.kind in "iub":
            x = x.long()
        (dim,) = normalize_dims(dim, x.ndim, name)
        if x.ndim == 0:
            return write_out(x.clone(), out, name)
        return write_out(function.apply(x, dim), out, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


cumsum = running(Cumsum, "cumsum", "yᵢ = x₀ + x₁ + … + xᵢ along ``dim`` (integers and bools accumulate in int64).")


def _floatas_tensor_arg(x, name):
    x = as_tensor_arg(x, name)
    if x._array.dtype.kind not in "fc":
        raise RuntimeError(f"{name}(): input dtype should be either floating point or complex. Got {x.dtype} instead.")
    return x


class Var(Function):
    """σ² = Σᵢ (xᵢ - x̄)² / max(n - c, 0) over ``axes`` (c: the correction), or σ = √σ² when ``root``.

    ∂σ²/∂xᵢ = 2 (xᵢ - x̄) / (n - c), and ∂σ/∂xᵢ = ∂σ²/∂xᵢ / (2σ) (0 where σ = 0): PyTorch's
    formulas, including n = c (infinite: NaN where xᵢ = x̄, else ∞).
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, root):
        count = math.prod([x.shape[a] for a in axes])
        mean = np.mean(x, axis=axes, keepdims=True) if x.size else x
        centered = x - mean
        with np.errstate(divide="ignore", invalid="ignore"):  # n <= correction: inf or nan, as in PyTorch
            y = np.sum(centered * centered, axis=axes, keepdims=True) / builtins.max(count - correction, 0)
            if root:
                y = np.sqrt(y)
        ctx.save_for_backward(centered, y, x == mean)
        ctx.axes, ctx.dof, ctx.keepdim, ctx.root = axes, count - correction, keepdim, root
        return (y if keepdim else np.squeeze(y, axis=axes)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        centered, y, at_mean = ctx.saved_tensors
        grad = grad if ctx.keepdim else np.expand_dims(grad, ctx.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.root:
                grad = np.where(y == 0, 0, grad / (2 * y))
            if ctx.dof == 0:
                out = grad * np.where(at_mean, np.nan, np.inf)
            else:
                out = (2.0 / ctx.dof) * grad * centered
        return out.astype(centered.dtype, copy=False), None, None, None, None

    @staticmethod
    def formula(ctx, grad):
        _, y, _ = ctx.saved_tensors
        x, axes, correction, _, root = ctx.inputs
        grad = grad.reshape(y.shape)
        if ctx.root:
            zero = grad.dtype.type(0)
            with np.errstate(divide="ignore", invalid="ignore"):
                grad = _where(y == 0, zero, grad / (Var.apply(x, axes, correction, True, True) * 2))
        if ctx.dof == 0:
            raise RuntimeError("VarBackward0: higher-order gradients with n <= correction are not supported")
        centered = x - Mean.apply(x, axes, True)
        return grad * centered * (2.0 / ctx.dof), None, None, None, None


def _variance(name, root):
    def op(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
        x = _floatas_tensor_arg(input, name)
        if correction is None:
            correction = 0 if unbiased is False else 1
        return write_out(Var.apply(x, _axes(x, dim, name), correction, keepdim, root), out, name)

    op.__name__ = op.__qualname__ = name
    return op


var = _variance("var", False)
std = _variance("std", True)
var.__doc__ = "σ² = Σᵢ (xᵢ - x̄)² / max(n - correction, 0); correction = 1 (Bessel's) unless unbiased=False."
std.__doc__ = "σ = √var"


def _where(condition, a, b):
    from soma.ops.arithmetic import Where

    return Where.apply(condition, a, b)
