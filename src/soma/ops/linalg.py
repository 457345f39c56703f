"""Matrix products: matmul with NumPy's (and PyTorch's) batching and 1-D rules.

For C = A·B the gradients are ∂L/∂A = ∂L/∂C·Bᵀ and ∂L/∂B = Aᵀ·∂L/∂C; batch
dimensions that were broadcast are summed back down.
"""

import numpy as np

from soma.autograd.function import Function
from soma.ops._common import constant, raw, write_out
from soma.ops.arithmetic import sum_to, unbroadcast
from soma.tensor import Tensor

__all__ = ["MatMul", "matmul", "mm", "bmm", "dot"]


class MatMul(Function):
    """C = A·B"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the common case, without reshapes
            return (grad @ b.T if need_a else None, a.T @ grad if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
        return grad_a, grad_b

    @staticmethod
    def formula(ctx, grad):
        a, b = (constant(v) for v in ctx.inputs)
        need_a, need_b = ctx.needs_input_grad
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = grad.unsqueeze(-1) if b.ndim == 1 else grad
        g2 = g2.unsqueeze(-2) if a.ndim == 1 else g2
        grad_a = sum_to(MatMul.apply(g2, b2.transpose(-1, -2)), a2.shape).reshape(a.shape) if need_a else None
        grad_b = sum_to(MatMul.apply(a2.transpose(-1, -2), g2), b2.shape).reshape(b.shape) if need_b else None
        return grad_a, grad_b


def matmul(input, other, *, out=None):
    """Matrix product with NumPy/PyTorch broadcasting of batch dimensions (1-D operands as vectors)."""
    input, other = (Tensor._make(v, False) if isinstance(v, np.ndarray) else v for v in (input, other))
    for value, argument in ((input, "input"), (other, "other")):
        if not isinstance(value, Tensor):
            raise TypeError(f"matmul(): argument '{argument}' must be Tensor, not {type(value).__name__}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {input.dtype} != {other.dtype}")
    if input.dtype.kind == "b":
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    sa, sb = np.shape(raw(input)), np.shape(raw(other))
    if not sa or not sb:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got {sa} and {sb}")
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise RuntimeError(
            f"matmul: shapes {tuple(sa)} and {tuple(sb)} cannot be multiplied "
            f"({inner_a} != {inner_b})"
        )
    try:
        return write_out(MatMul.apply(input, other), out, "matmul")
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions of {tuple(sa)} and {tuple(sb)} cannot be broadcast"
        ) from None


def mm(input, other):
    if input.ndim != 2 or other.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {tuple(input.shape)} and {tuple(other.shape)}")
    return matmul(input, other)


def bmm(input, other):
    if input.ndim != 3 or other.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {tuple(input.shape)} and {tuple(other.shape)}")
    return matmul(input, other)


def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: expected 1-D tensors, got {tuple(input.shape)} and {tuple(other.shape)}")
    return matmul(input, other)
