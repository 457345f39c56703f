"""Functions on the representation of numbers: gcd, lcm (integers), ldexp, frexp, nextafter, heaviside.

ldexp(x, e) = x · 2ᵉ is differentiable in x (∂/∂x = 2ᵉ); the others are piecewise constant or
integer-valued and carry no gradient, as in PyTorch.
"""

import numpy as np

from soma.ops._common import as_tensor_arg, promote
from soma.tensor import Tensor

__all__ = ["gcd", "lcm", "ldexp", "frexp", "nextafter", "heaviside"]


def _integers(name, input, other):
    a, b = promote(as_tensor_arg(input, name), other)
    if a._array.dtype.kind not in "iu":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{a.dtype}'")
    return a._array, b._array if isinstance(b, Tensor) else b


def gcd(input, other):
    """The greatest common divisor, elementwise (integers)."""
    return Tensor._make(np.gcd(*_integers("gcd", input, other)), False)


def lcm(input, other):
    """The least common multiple, elementwise (integers)."""
    return Tensor._make(np.lcm(*_integers("lcm", input, other)), False)


def ldexp(input, other):
    """input · 2^other (float result; differentiable in input)."""
    x = as_tensor_arg(input, "ldexp")
    if x._array.dtype.kind not in "fc":
        x = x.float()
    exponent = other._array if isinstance(other, Tensor) else np.asarray(other, like=x._array)
    return x * Tensor._make(np.exp2(exponent).astype(x._array.dtype), False)


def frexp(input):
    """(mantissa, exponent) with input = mantissa · 2^exponent, |mantissa| in [0.5, 1) (exponent int32)."""
    x = as_tensor_arg(input, "frexp")
    if x._array.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got {x.dtype}")
    mantissa, exponent = np.frexp(x._array)
    return Tensor._make(mantissa, False), Tensor._make(exponent.astype(np.int32), False)


def nextafter(input, other):
    """The next representable float after input towards other, elementwise."""
    a, b = promote(as_tensor_arg(input, "nextafter"), other)
    return Tensor._make(np.nextafter(a._array, b._array if isinstance(b, Tensor) else b), False)


def heaviside(input, values):
    """0 for x < 0, ``values`` at x = 0, 1 for x > 0 (input and values of one dtype, as PyTorch)."""
    x, v = as_tensor_arg(input, "heaviside"), as_tensor_arg(values, "heaviside", "values")
    if x._array.dtype != v._array.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes ({x.dtype} and "
                           f"{v.dtype})")
    return Tensor._make(np.heaviside(x._array, v._array).astype(x._array.dtype), False)
