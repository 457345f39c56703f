"""Running reductions along one dim: cumprod, cummax/cummin (values and indices), logcumsumexp.

(cumsum lives with the other sums in :mod:`soma.ops.reduction`.) For yᵢ = ∏ₖ≤ᵢ xₖ,

    ∂L/∂xⱼ = Σᵢ≥ⱼ gᵢ ∏ₖ≤ᵢ,ₖ≠ⱼ xₖ,

which is revcumsum(g·y)ⱼ / xⱼ before the first zero z of the slice, revcumsum(g·y′)_z at it
(y′: the running product with x_z replaced by 1) and 0 after it: exact with zeros, as
PyTorch's. cummax/cummin send each gradient to the element whose value the running
extreme holds (the latest of equal values, as PyTorch's indices). For yᵢ = log Σₖ≤ᵢ e^(xₖ),
∂L/∂xⱼ = Σᵢ≥ⱼ gᵢ e^(xⱼ - yᵢ), summed in log space for the positive and negative parts of g.
"""

from collections import namedtuple

import numpy as np

from soma.autograd.function import Function
from soma.ops._common import as_tensor_arg, write_out
from soma.ops.reduction import normalize_dims, running
from soma.tensor import Tensor

__all__ = ["cumprod", "cummax", "cummin", "logcumsumexp", "Cumprod", "LogCumSumExp"]

values_indices = namedtuple("values_indices", ["values", "indices"])


def _reverse_cumsum(array, dim):
    return np.flip(np.cumsum(np.flip(array, dim), axis=dim), dim)


def _first_zero_masks(x, dim):
    """(before, at): masks of the places before the first zero of each slice along ``dim``, and of that zero."""
    zero = x == 0
    seen = np.cumsum(zero, axis=dim)
    at = zero & (seen == 1)
    before = seen == 0
    return before, at


class _Running(Function):
    """y = a running reduction of x along ``dim`` (``accumulate``); x and y are kept for the backward"""

    @staticmethod
    def forward(ctx, x, dim):
        y = type(ctx).accumulate(x, axis=dim)
        ctx.save_for_backward(x, y)
        return y


class Cumprod(_Running):
    """yᵢ = ∏ₖ≤ᵢ xₖ along ``dim``"""

    accumulate = staticmethod(np.cumprod)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dim = ctx.inputs[1]
        if not (x == 0).any():
            return _reverse_cumsum(grad * y, dim) / x, None
        before, at = _first_zero_masks(x, dim)
        first = _reverse_cumsum(grad * y, dim) / np.where(before, x, 1)
        at_zero = _reverse_cumsum(grad * np.cumprod(np.where(at, 1, x), axis=dim), dim)
        return np.where(before, first, np.where(at, at_zero, 0)).astype(grad.dtype), None

    @staticmethod
    def formula(ctx, grad):
        # ∂L/∂xⱼ = Eⱼ·Sⱼ with Eⱼ = ∏ₖ<ⱼ xₖ and Sⱼ = gⱼ + xⱼ₊₁·Sⱼ₊₁: no division, so exact with zeros
        # to every order (a loop over the dim; only create_graph takes this path)
        from soma.ops import stack, unbind

        x, dim = ctx.inputs
        xs, gs = unbind(x, dim), unbind(grad, dim)
        n = len(xs)
        suffix = [gs[-1]]
        for j in range(n - 2, -1, -1):
            suffix.append(gs[j] + xs[j + 1] * suffix[-1])
        suffix.reverse()
        prefix, out = None, []
        for j in range(n):
            out.append(suffix[j] if prefix is None else prefix * suffix[j])
            prefix = xs[j] if prefix is None else prefix * xs[j]
        return stack(out, dim), None


cumprod = running(Cumprod, "cumprod", "yᵢ = x₀·x₁·…·xᵢ along ``dim`` (integers and bools accumulate in int64, as "
                                       "PyTorch).")


def _running_extreme_indices(x, dim, largest):
    """Where the running max (or min) along ``dim`` was last attained (a NaN holds until the next NaN)."""
    ufunc = np.maximum if largest else np.minimum
    with np.errstate(invalid="ignore"):
        values = ufunc.accumulate(x, axis=dim)
    positions = np.arange(x.shape[dim], like=x).reshape((-1,) + (1,) * (x.ndim - dim - 1))
    held = x == values
    if x.dtype.kind == "f":
        held |= np.isnan(x)
    return np.maximum.accumulate(np.where(held, positions, 0), axis=dim).astype(np.int64)


def _cum_extreme(input, dim, largest, name):
    from soma.ops.indexing import gather

    x = as_tensor_arg(input, name)
    (dim,) = normalize_dims(dim, x.ndim, name)
    if x.ndim == 0:
        return values_indices(x.clone(), Tensor._make(np.zeros((), np.int64, like=x._array), False))
    indices = Tensor._make(_running_extreme_indices(x._array, dim, largest), False)
    return values_indices(gather(x, dim, indices), indices)  # the gradient goes where the value came from


def cummax(input, dim):
    """(values, indices): the running maximum along ``dim``, and the index holding it (the latest if tied)."""
    return _cum_extreme(input, dim, True, "cummax")


def cummin(input, dim):
    """(values, indices): the running minimum along ``dim``, and the index holding it (the latest if tied)."""
    return _cum_extreme(input, dim, False, "cummin")


def _log_reverse_cumsum_exp(a, dim):
    return np.flip(np.logaddexp.accumulate(np.flip(a, dim), axis=dim), dim)


class LogCumSumExp(_Running):
    """yᵢ = log Σₖ≤ᵢ e^(xₖ) along ``dim``, accumulated with logaddexp (no overflow)"""

    accumulate = staticmethod(np.logaddexp.accumulate)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dim = ctx.inputs[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            positive = _log_reverse_cumsum_exp(np.log(np.maximum(grad, 0)) - y, dim)
            negative = _log_reverse_cumsum_exp(np.log(np.maximum(-grad, 0)) - y, dim)
            return (np.exp(x + positive) - np.exp(x + negative)).astype(grad.dtype), None

    @staticmethod
    def formula(ctx, grad):
        from soma.ops import cumsum, flip

        x, dim = ctx.inputs
        y = LogCumSumExp.apply(x, dim)
        # Σᵢ≥ⱼ gᵢ e^(xⱼ - yᵢ), written with the differentiable ops (second order away from overflow)
        return (x.exp() * flip(cumsum(flip(grad * (-y).exp(), (dim,)), dim), (dim,))), None


def logcumsumexp(input, dim, *, out=None):
    """yᵢ = log(e^(x₀) + … + e^(xᵢ)) along ``dim``, computed without overflow (floating point only)."""
    x = as_tensor_arg(input, "logcumsumexp")
    if x._array.dtype.kind not in "fc":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{x.dtype}'")
    (dim,) = normalize_dims(dim, x.ndim, "logcumsumexp")
    if x.ndim == 0:
        return write_out(x.clone(), out, "logcumsumexp")
    return write_out(LogCumSumExp.apply(x, dim), out, "logcumsumexp")
