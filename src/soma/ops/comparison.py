"""Comparisons, logic and bits: == != < <= > >=, logical_*, bitwise_* (& | ^ ~ << >>), isnan/isinf/isfinite.

None of these is differentiable: their results are bool (or integer) tensors outside the
graph. Comparisons promote their operands first (PyTorch's rules, :mod:`soma._promotion`),
so ``int_tensor == 2.5`` compares in floating point. The bitwise operators act on the bits
of integer tensors and are the logical operators on bool tensors; on floats they are an
error, as in PyTorch.
"""

import numpy as np

from soma.ops._common import as_tensor_arg, broadcast_shape, promote, raw, shape_of, write_out
from soma.tensor import Tensor

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "isreal", "signbit", "equal",
]


def _result(array, out, name):
    return write_out(Tensor._make(array, False), out, name)


def _binary(name, ufunc, kinds=None, tensors_only=False):
    def op(input, other, *, out=None):
        if tensors_only:
            as_tensor_arg(input, name)
            as_tensor_arg(other, name, "other")
        a, b = promote(input, other)
        a, b = raw(a), raw(b)
        broadcast_shape(name, shape_of(a), shape_of(b))
        if kinds is not None:
            dtype = np.result_type(a, b)
            if dtype.kind not in kinds:
                raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_torch_name(dtype)}'")
        return _result(ufunc(a, b), out, name)

    op.__name__ = op.__qualname__ = name
    return op


def _torch_name(dtype):
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "complex64": "ComplexFloat",
             "complex128": "ComplexDouble", "bool": "Bool"}
    return names.get(str(dtype), str(dtype))


eq = _binary("eq", np.equal)
ne = not_equal = _binary("ne", np.not_equal)
lt = less = _binary("lt", np.less)
le = less_equal = _binary("le", np.less_equal)
gt = greater = _binary("gt", np.greater)
ge = greater_equal = _binary("ge", np.greater_equal)
logical_and = _binary("logical_and", np.logical_and, tensors_only=True)
logical_or = _binary("logical_or", np.logical_or, tensors_only=True)
logical_xor = _binary("logical_xor", np.logical_xor, tensors_only=True)
bitwise_and = _binary("bitwise_and", np.bitwise_and, "iub")
bitwise_or = _binary("bitwise_or", np.bitwise_or, "iub")
bitwise_xor = _binary("bitwise_xor", np.bitwise_xor, "iub")
bitwise_left_shift = _binary("bitwise_left_shift", np.left_shift, "iu")
bitwise_right_shift = _binary("bitwise_right_shift", np.right_shift, "iu")


def logical_not(input, *, out=None):
    return _result(np.logical_not(raw(as_tensor_arg(input, "logical_not"))), out, "logical_not")


def bitwise_not(input, *, out=None):
    array = raw(as_tensor_arg(input, "bitwise_not"))
    if array.dtype.kind not in "iub":
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for '{_torch_name(array.dtype)}'")
    return _result(np.invert(array), out, "bitwise_not")


def _predicate(name, ufunc, integer_value):
    def op(input):
        array = raw(as_tensor_arg(input, name))
        if array.dtype.kind in "iub":
            return Tensor._make(np.full_like(array, integer_value, dtype=bool), False)
        return Tensor._make(ufunc(array), False)

    op.__name__ = op.__qualname__ = name
    return op


isnan = _predicate("isnan", np.isnan, False)
isinf = _predicate("isinf", np.isinf, False)
isfinite = _predicate("isfinite", np.isfinite, True)
isposinf = _predicate("isposinf", np.isposinf, False)
isneginf = _predicate("isneginf", np.isneginf, False)
isreal = _predicate("isreal", np.isreal, True)


def signbit(input, *, out=None):
    return _result(np.signbit(raw(as_tensor_arg(input, "signbit"))), out, "signbit")


def equal(input, other):
    """True if the two tensors have the same shape and elements (a Python bool, as in PyTorch)."""
    a, b = raw(as_tensor_arg(input, "equal")), raw(as_tensor_arg(other, "equal", "other"))
    return a.shape == b.shape and bool(np.array_equal(a, b))
