"""Trigonometric, hyperbolic and base-2/base-10 functions, elementwise, each with its derivative.

    tan′ = 1 + tan²        asin′ = 1/√(1-x²)     acos′ = -1/√(1-x²)     atan′ = 1/(1+x²)
    sinh′ = cosh           cosh′ = sinh          asinh′ = 1/√(x²+1)     acosh′ = 1/√(x²-1)
    atanh′ = 1/(1-x²)      log2′ = 1/(x ln 2)    log10′ = 1/(x ln 10)   exp2′ = 2ˣ ln 2
    sinc(x) = sin(πx)/(πx), sinc′ = (cos(πx) - sinc x)/x (0 at 0)
    atan2(y, x) = the angle of (x, y): ∂/∂y = x/(x²+y²), ∂/∂x = -y/(x²+y²)

Each derivative is written once over an array namespace (:class:`soma.ops.special.Elementwise`),
so the same line is the NumPy backward and, over soma's ops, the differentiable backward.
logit, xlogy, copysign, float_power and logaddexp2 are compositions of differentiable ops.
Integer inputs compute in the default float dtype, as PyTorch's.
"""

import math

import numpy as np

from soma.autograd.function import Function
from soma.ops._common import as_tensor_arg, broadcast_shape, write_out
from soma.ops.special import _float_input, elementwise
from soma.tensor import Tensor

__all__ = [
    "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2", "log10", "exp2",
    "deg2rad", "rad2deg", "sinc", "atan2", "logit", "xlogy", "copysign", "float_power", "logaddexp2", "positive",
    "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2",
]


def _sinc(x):
    return np.sinc(x)  # NumPy's is the normalized sinc, as PyTorch's


def _sinc_derivative(x, y, lib):
    safe = lib.where(x == 0, 1.0, x)
    # at 0: sinc′ = 0, written as x·sinc″(0) so that its own derivative there is right (-π²/3)
    return lib.where(x == 0, x * (-math.pi**2 / 3), (lib.cos(safe * math.pi) - y) / safe)


LN2, LN10 = math.log(2.0), math.log(10.0)
Tan, tan = elementwise("Tan", np.tan, lambda x, y, lib: y * y + 1, "y = tan x")
Asin, asin = elementwise("Asin", np.arcsin, lambda x, y, lib: (1 - x * x) ** -0.5, "y = arcsin x")
Acos, acos = elementwise("Acos", np.arccos, lambda x, y, lib: -((1 - x * x) ** -0.5), "y = arccos x")
Atan, atan = elementwise("Atan", np.arctan, lambda x, y, lib: 1 / (x * x + 1), "y = arctan x")
Sinh, sinh = elementwise("Sinh", np.sinh, lambda x, y, lib: lib.cosh(x), "y = sinh x")
Cosh, cosh = elementwise("Cosh", np.cosh, lambda x, y, lib: lib.sinh(x), "y = cosh x")
Asinh, asinh = elementwise("Asinh", np.arcsinh, lambda x, y, lib: (x * x + 1) ** -0.5, "y = arsinh x")
Acosh, acosh = elementwise("Acosh", np.arccosh, lambda x, y, lib: ((x - 1) * (x + 1)) ** -0.5, "y = arcosh x")
Atanh, atanh = elementwise("Atanh", np.arctanh, lambda x, y, lib: 1 / (1 - x * x), "y = artanh x")
Log2, log2 = elementwise("Log2", np.log2, lambda x, y, lib: 1 / (x * LN2), "y = log₂ x")
Log10, log10 = elementwise("Log10", np.log10, lambda x, y, lib: 1 / (x * LN10), "y = log₁₀ x")
Exp2, exp2 = elementwise("Exp2", np.exp2, lambda x, y, lib: y * LN2, "y = 2ˣ")
Deg2rad, deg2rad = elementwise("Deg2rad", np.deg2rad, lambda x, y, lib: math.pi / 180, "y = x · π/180")
Rad2deg, rad2deg = elementwise("Rad2deg", np.rad2deg, lambda x, y, lib: 180 / math.pi, "y = x · 180/π")
Sinc, sinc = elementwise("Sinc", _sinc, _sinc_derivative, "y = sin(πx)/(πx) (1 at 0)")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


class Atan2(Function):
    """θ = atan2(y, x), the angle of the point (x, y), in (-π, π]"""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = grad / (x * x + y * y)
        return scale * x, -scale * y

    @staticmethod
    def formula(ctx, grad):
        y, x = ctx.inputs
        scale = grad / (x * x + y * y)
        return scale * x, -scale * y


def _same_shape_floats(name, input, other):
    """(input, other) as float tensors of one dtype and one (broadcast) shape, expanded differentiably."""
    from soma.ops._common import promote
    from soma.ops.shape import expand

    input = as_tensor_arg(input, name)
    if not isinstance(other, Tensor):  # a number, beside the tensor
        other = Tensor._make(np.asarray(other, dtype=input._array.dtype, like=input._array), False)
    input, other = promote(_float_input(input, name), _float_input(other, name))
    shape = broadcast_shape(name, input.shape, other.shape)
    return tuple(t if tuple(t.shape) == shape else expand(t, shape) for t in (input, other))


def atan2(input, other, *, out=None):
    """The angle of the point (other, input), elementwise: atan2(y=input, x=other)."""
    return write_out(Atan2.apply(*_same_shape_floats("atan2", input, other)), out, "atan2")


arctan2 = atan2


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when ``eps`` is given (zero gradient outside)."""
    p = _float_input(input, "logit")
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return write_out(p.log() - (-p).log1p(), out, "logit")


def xlogy(input, other, *, out=None):
    """x · log y, and 0 where x = 0 (unless y is NaN), as PyTorch's."""
    from soma.ops import where

    x, y = _same_shape_floats("xlogy", input, other)
    zero = Tensor._make((x._array == 0) & ~np.isnan(y._array), False)
    safe_y = where(zero, 1.0, y)
    return write_out(where(zero, 0.0, x * safe_y.log()), out, "xlogy")


def copysign(input, other, *, out=None):
    """|input| with the sign of ``other`` (the sign bit: -0.0 counts as negative)."""
    from soma.ops import where

    x, y = _same_shape_floats("copysign", input, other)
    flip = Tensor._make(np.signbit(x._array) != np.signbit(y._array), False)
    everywhere = Tensor._make(np.ones_like(x._array, dtype=bool), False)
    return write_out(where(everywhere, where(flip, -x, x), y), out, "copysign")  # other: a zero gradient


def float_power(input, exponent, *, out=None):
    """input ** exponent computed in float64, as PyTorch's float_power."""
    base = as_tensor_arg(input, "float_power").double()
    exponent = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return write_out(base**exponent, out, "float_power")


def logaddexp2(input, other, *, out=None):
    """log₂(2ˣ + 2ʸ) without overflow."""
    from soma.ops import logaddexp

    x, y = _same_shape_floats("logaddexp2", input, other)
    return write_out(logaddexp(x * LN2, y * LN2) / LN2, out, "logaddexp2")


def positive(input):
    """``input`` itself (the unary plus); an error for bool tensors, as PyTorch's."""
    input = as_tensor_arg(input, "positive")
    if input._array.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input
