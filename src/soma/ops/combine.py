"""Elementwise combinations built from the primitives: lerp, logaddexp, hypot, fmax/fmin, nan_to_num,
addmm/baddbmm/outer, isclose/allclose.

Each is a composition of differentiable ops, so its gradient is the chain rule through
them; the formula is in each docstring.
"""

import numpy as np

from soma.backend import as_array
from soma.ops._common import as_tensor_arg, promote, raw
from soma.ops.arithmetic import abs, maximum, where
from soma.ops.comparison import isnan
from soma.ops.linalg import matmul
from soma.ops.pointwise import exp, log1p, sqrt
from soma.tensor import Tensor

__all__ = ["lerp", "logaddexp", "hypot", "fmax", "fmin", "nan_to_num", "addmm", "baddbmm", "addmv", "outer", "ger",
           "isclose", "allclose"]


def lerp(input, end, weight):
    """start + weight · (end - start)"""
    return input + weight * (end - input)


def logaddexp(input, other):
    """ln(eᵃ + eᵇ) = max(a, b) + ln(1 + e^-|a - b|), stable for large arguments."""
    a, b = promote(as_tensor_arg(input, "logaddexp"), as_tensor_arg(other, "logaddexp", "other"))
    return maximum(a, b) + log1p(exp(-abs(a - b)))


def hypot(input, other):
    """√(a² + b²)"""
    return sqrt(input * input + other * other)


def fmax(input, other):
    """max(a, b) that ignores NaN (NaN only where both are NaN); the gradient goes to the chosen side."""
    a, b = as_tensor_arg(input, "fmax"), as_tensor_arg(other, "fmax", "other")
    return where(((a >= b) | isnan(b)), a, b)


def fmin(input, other):
    """min(a, b) that ignores NaN; the gradient goes to the chosen side."""
    a, b = as_tensor_arg(input, "fmin"), as_tensor_arg(other, "fmin", "other")
    return where(((a <= b) | isnan(b)), a, b)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN → ``nan``, +inf → ``posinf`` (default: the dtype's largest), -inf → ``neginf``; gradient 1 where finite."""
    input = as_tensor_arg(input, "nan_to_num")
    if input.dtype.kind not in "fc":
        return input.clone()
    info = np.finfo(input.dtype)
    array = raw(input)
    out = where(Tensor._make(np.isnan(array), False), nan, input)
    out = where(Tensor._make(np.isposinf(array), False), info.max if posinf is None else posinf, out)
    return where(Tensor._make(np.isneginf(array), False), info.min if neginf is None else neginf, out)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """β · input + α · mat1 @ mat2"""
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"addmm: expected 2-D matrices, got {tuple(mat1.shape)} and {tuple(mat2.shape)}")
    return _scaled_sum(input, matmul(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """β · input + α · batch1 @ batch2 (batched)"""
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise RuntimeError(f"baddbmm: expected 3-D tensors, got {tuple(batch1.shape)} and {tuple(batch2.shape)}")
    return _scaled_sum(input, matmul(batch1, batch2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """β · input + α · mat @ vec"""
    return _scaled_sum(input, matmul(mat, vec), beta, alpha)


def _scaled_sum(input, product, beta, alpha):
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:  # PyTorch ignores input's values entirely (NaN in it does not propagate), only its shape
        return scaled.expand(*np.broadcast_shapes(input.shape, scaled.shape))
    return (input if beta == 1 else input * beta) + scaled


def outer(input, vec2):
    """aᵢ bⱼ"""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D vectors, got {tuple(input.shape)} and {tuple(vec2.shape)}")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol · |b| elementwise (a bool tensor)."""
    a, b = promote(as_tensor_arg(input, "isclose"), as_tensor_arg(other, "isclose", "other"))
    return Tensor._make(as_array(np.isclose(raw(a), raw(b), rtol=rtol, atol=atol, equal_nan=equal_nan)), False)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if every element is close (a Python bool, as in PyTorch)."""
    return bool(np.all(raw(isclose(input, other, rtol, atol, equal_nan))))
