"""Composites of the activation kernels (:mod:`soma.nn.functional.activation`): y = f(x) in primitive ops.

Each composite computes the kernel's values and, differentiated, the kernel's f′(x),
including PyTorch's choice at the kinks: the branch of a piecewise function is picked
by the mask the kernel saved (a constant), so the derivative at the kink is the one
the kernel's backward uses (leaky_relu′(0) = slope, hardtanh′ = 0 on the clip points,
elu′(0) = α, hardswish′(-3) = 0 and hardswish′(3) = 1). Second derivatives are those of the branch
(0 on the linear pieces).

The smooth gates share one softplus, ln(1 + eᶻ), written on two masked branches,
z + ln(1 + e⁻ᶻ) for z > 0 and ln(1 + eᶻ) otherwise: the kernels' values exactly,
no overflow, and σ(z) as derivative everywhere (also at z = 0, where the kernels'
max(z, 0) + ln(1 + e^(-|z|)) would differentiate to 0).
"""

import math
from typing import Any

import numpy as np

from soma.backend import as_array
from soma.nn.functional import activation as _kernels
from soma.ops.arithmetic import where
from soma.ops.pointwise import stable_sigmoid
from soma.tensor import Tensor

__all__ = ["softplus", "constant", "straight_through"]


def constant(array):
    """``array`` as a Tensor outside the graph (a value the composite does not differentiate)."""
    return Tensor._make(as_array(array), False)


def straight_through(x, value, slope):
    """``value`` (an array: the kernel's output), with derivative ``slope`` (a number or an array) in x.

    value + (x - x₀)·slope with x₀ the constant x: the same numbers, the chosen first
    derivative, second derivative 0. Where x is not finite (x - x₀ is NaN) the value is kept.
    """
    base = constant(value)
    x0 = constant(x._array)
    finite = np.isfinite(x._array)
    moved = base + (x - x0) * slope
    return moved if finite.all() else where(finite, moved, base)


def softplus(z):
    """ln(1 + eᶻ), stably, with derivative σ(z) everywhere (see the module docstring)."""
    positive = z._array > 0
    up = where(positive, z, 0)  # the other branch sees 0, so nothing overflows in it
    down = where(positive, 0, z)
    return where(positive, up + (-up).exp().log1p(), down.exp().log1p())


def _leaky_relu(ctx, x, slope):
    (positive,) = ctx.saved_tensors
    return x * constant(np.where(positive, 1, slope).astype(x.dtype))  # exactly x or slope·x, as the kernel


def _elu(ctx, x, alpha, scale, input_scale):
    positive, _ = ctx.saved_tensors
    negative = alpha * (where(positive, 0, x) * input_scale).expm1()
    at_zero = x._array == 0  # slope α·input_scale there, second derivative 0 (PyTorch's x < 0 mask)
    if at_zero.any():
        negative = where(at_zero, x * (alpha * input_scale), negative)
    y = where(positive, x, negative)
    return y * scale if scale != 1 else y


def _hardtanh(ctx, x, low, high):
    (inside,) = ctx.saved_tensors
    return where(inside, x, constant(np.clip(x._array, low, high)))


def _threshold(ctx, x, threshold, value):
    (above,) = ctx.saved_tensors
    return where(above, x, constant(np.full((), value, x.dtype, like=x._array)))


def _prelu(ctx, x, weight):
    _, a, positive = ctx.saved_tensors
    slope = weight.reshape(np.shape(a)) if np.shape(a) != tuple(weight.shape) else weight
    return where(positive, x, slope * x)


def _gelu(ctx, x, approximate):
    if approximate == "tanh":
        inner = _kernels.GELU_TANH_SCALE * (x + _kernels.GELU_TANH_CUBIC * (x * x * x))
        return 0.5 * x * (1 + inner.tanh())
    return x * (0.5 * (1 + (x / math.sqrt(2)).erf()))


def _silu(ctx, x, beta):
    return x * (x * beta if beta != 1 else x).sigmoid()


def _softplus(ctx, x, beta, threshold):
    bx, linear = ctx.saved_tensors
    soft = softplus(x * beta) / beta
    on_threshold = bx == threshold  # slope σ(βx), second derivative 0 there (PyTorch's βx < threshold mask)
    if on_threshold.any():
        soft = where(on_threshold, straight_through(x, soft._array, constant(stable_sigmoid(bx))), soft)
    return where(linear, x, soft)


def _logsigmoid(ctx, x):
    return -softplus(-x)


def _mish(ctx, x):
    return x * softplus(x).tanh()


def _softsign(ctx, x):
    return x / (1 + x.abs())


def _hardswish(ctx, x):
    # x·relu6(x + 3)/6 with relu6's argument a constant 0 or 6 outside [-3, 3]: the kernel's slopes
    array = x._array
    middle = (array > -3) & (array < 3)
    return x * where(middle, x + 3, constant(np.clip(array + 3, 0, 6))) / 6


def _hardsigmoid(ctx, x):
    (inside,) = ctx.saved_tensors
    sixth = x.dtype.type(np.float32(1.0) / np.float32(6.0))  # the kernel's float32 slope, in every dtype
    value = np.clip(x._array + 3, 0, 6) / 6
    return straight_through(x, value, constant(inside * sixth))


def _heaviside(ctx, x, threshold, straight):
    value = (x._array >= threshold).astype(x.dtype)
    return straight_through(x, value, 1 if straight else 0)  # straight-through: the identity's derivative


_COMPOSITES: dict[Any, Any] = {  # node class -> its composite (the values differ in signature)
    _kernels.LeakyRelu: _leaky_relu, _kernels.Elu: _elu, _kernels.Hardtanh: _hardtanh,
    _kernels.Threshold: _threshold, _kernels.Prelu: _prelu, _kernels.Gelu: _gelu, _kernels.Silu: _silu,
    _kernels.Softplus: _softplus, _kernels.LogSigmoid: _logsigmoid, _kernels.Mish: _mish,
    _kernels.Softsign: _softsign, _kernels.Hardswish: _hardswish, _kernels.Hardsigmoid: _hardsigmoid,
    _kernels.Heaviside: _heaviside,
}
for _kernel, _composite in _COMPOSITES.items():
    _kernel.composite = staticmethod(_composite)

# PyTorch's backward of these (mask times grad) is differentiable in x with zero derivative:
# the second derivative is a zero tensor, not "unused"
for _kernel in (_kernels.LeakyRelu, _kernels.Hardtanh, _kernels.Threshold, _kernels.Hardsigmoid,
                _kernels.Heaviside):
    _kernel.connected = True
