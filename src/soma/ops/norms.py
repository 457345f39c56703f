"""p-norms: y = ‖x‖ₚ = (Σᵢ |xᵢ|ᵖ)^(1/p) over some dimensions (``soma.norm``, ``Tensor.norm``), and
``renorm``, which caps the p-norm of each slice.

A reduction of its own family: its backward depends on p (sign x for p = 1, x/y for p = 2,
the tied extreme elements for p = ±inf, and sign(x)·|x|^(p-1)/y^(p-1) otherwise), where the
sums, means and extrema of :mod:`soma.ops.reduction` share one expand-back rule.
"""

import numpy as np

from soma.autograd.function import Function, is_grad_enabled
from soma.ops._common import write_out
from soma.ops.reduction import Sum, _axes, _floatas_tensor_arg, _where
from soma.tensor import Tensor

__all__ = ["Norm", "norm", "renorm"]


class Norm(Function):
    """y = ‖x‖ₚ = (Σᵢ |xᵢ|ᵖ)^(1/p) over ``axes``, for p > 0 and p = ±inf.

    ∂y/∂xᵢ = sign(xᵢ)·|xᵢ|^(p-1) / y^(p-1); 0 where y = 0 (PyTorch's subgradient at the origin).
    For p = ±inf the gradient goes to the elements of largest (smallest) |x|, shared among ties.
    """

    connected = True  # PyTorch's gradient hangs on x through sign(x), so differentiating it again gives zeros

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        magnitude = np.abs(x)
        if p == np.inf:
            y = np.amax(magnitude, axis=axes, keepdims=True)
        elif p == -np.inf:
            y = np.amin(magnitude, axis=axes, keepdims=True)
        elif p == 2:
            y = np.sqrt(np.sum(magnitude * magnitude, axis=axes, keepdims=True))
        elif p == 1:
            y = np.sum(magnitude, axis=axes, keepdims=True)
        else:
            y = np.sum(magnitude**p, axis=axes, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        p, axes = ctx.p, ctx.axes
        grad = grad if ctx.keepdim else np.expand_dims(grad, axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            if np.isinf(p) or p == 1:
                local = _piecewise_linear_local(x, y, p, axes)
            elif p == 2:
                local = np.where(y == 0, 0, x / y)
            else:  # for p < 1 also 0 where x = 0 (|x|^(p-1) = ∞ there), as PyTorch's norm_backward
                local = np.where(_no_slope(x, y, p), 0, np.sign(x) * np.abs(x) ** (p - 1) / y ** (p - 1))
        return (grad * local).astype(x.dtype, copy=False), None, None, None

    @staticmethod
    def formula(ctx, grad):
        x, y = ctx.saved_tensors
        tx, p, axes, _ = ctx.inputs
        grad = grad.reshape(y.shape)
        if np.isinf(p) or p == 1:  # piecewise linear: the local derivative is a constant
            return grad * _piecewise_linear_local(x, y, p, axes).astype(x.dtype), None, None, None
        norm = Norm.apply(tx, p, axes, True)
        zero = grad.dtype.type(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                local = tx / norm
            else:
                local = tx.abs() ** (p - 1) * np.sign(x) / norm ** (p - 1)
        return _where(_no_slope(x, y, p), zero, grad * local), None, None, None


def _no_slope(x, y, p):
    """Where the subgradient of ‖x‖ₚ is 0: y = 0, and for p < 1 also x = 0 (PyTorch's masks)."""
    return (y == 0) | (x == 0) if p < 1 else y == 0


def _piecewise_linear_local(x, y, p, axes):
    """∂‖x‖ₚ/∂x for p = 1 (sign x) and p = ±inf (sign x, shared among the tied extreme elements)."""
    if p == 1:
        return np.sign(x) * np.ones_like(y)
    hit = np.abs(x) == y
    return np.sign(x) * (hit / np.sum(hit, axis=axes, keepdims=True))


def norm(input, p="fro", dim=None, keepdim=False, *, out=None, dtype=None):
    """‖x‖ₚ = (Σᵢ |xᵢ|ᵖ)^(1/p) over ``dim`` (all if None); p may be "fro", any number > 0, inf or -inf; p = 0
    counts the non-zero elements. The gradient at x = 0 is 0, as in PyTorch."""
    x = _floatas_tensor_arg(input, "norm")
    if dtype is not None:
        x = x.to(dtype)
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str) or not isinstance(p, (int, float, np.number)):
        raise RuntimeError(f"norm: p must be a number, 'fro' or None, got {p!r}")
    axes = _axes(x, dim, "norm")
    if p == 0:
        count = Tensor._make(np.sum(x._array != 0, axis=axes, keepdims=keepdim).astype(x.dtype), False)
        if x.requires_grad and is_grad_enabled():  # in the graph with zero derivative, as PyTorch's
            from soma.autograd.graph import Connect

            count = Connect.apply(count, x)
        return write_out(count, out, "norm")
    if p < 0 and not np.isinf(p):
        magnitude = x.abs()
        return write_out(Sum.apply(magnitude**p, axes, keepdim) ** (1.0 / p), out, "norm")
    if np.isinf(p):
        for axis in axes:  # max and min have no identity: PyTorch's vector_norm refuses an empty dimension
            if x.shape[axis] == 0:
                raise RuntimeError(f"norm: linalg.vector_norm cannot compute the {p} norm on the dimension {axis} "
                                   f"because this dimension is empty (input shape {tuple(x.shape)})")
    return write_out(Norm.apply(x, float(p), axes, keepdim), out, "norm")


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice ``input.select(dim, i)`` whose p-norm exceeds ``maxnorm`` scaled down to it:
    xᵢ · maxnorm / (‖xᵢ‖ₚ + 10⁻⁷) where ‖xᵢ‖ₚ > maxnorm, xᵢ elsewhere (PyTorch's 10⁻⁷ keeps 0/0 away).
    A composition, so the gradient includes the norm's dependence on xᵢ, as PyTorch's."""
    from soma.ops.arithmetic import where

    x = _floatas_tensor_arg(input, "renorm")
    if x.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    (axis,) = _axes(x, dim, "renorm")
    others = tuple(a for a in range(x.ndim) if a != axis)
    norms = norm(x, p, others, keepdim=True)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return write_out(x * factor.to(x.dtype), out, "renorm")
