"""Rounding and integer division: floor, ceil, round, trunc, sign, frac, //, %, fmod.

floor, ceil, round, trunc and sign are step functions: their derivative is 0 wherever
it exists, and PyTorch gives them a zero gradient (so ``requires_grad`` flows through).
``remainder`` (Python's ``%``, the sign of the divisor) and ``fmod`` (C's, the sign of the
dividend) are a - q·b for q = floor(a/b) or trunc(a/b): ∂/∂a = 1 and ∂/∂b = -q.
"""

import numpy as np

from soma._promotion import result_type
from soma.autograd.function import Function
from soma.ops._common import as_tensor_arg, broadcast_shape, promote, raw, shape_of, write_out
from soma.ops.arithmetic import sign_of, unbroadcast
from soma.tensor import Tensor

__all__ = [
    "floor", "ceil", "round", "trunc", "fix", "sign", "sgn", "frac", "floor_divide", "trunc_divide", "remainder",
    "fmod",
]


class Step(Function):
    """y = f(x) for a step function f (floor, ceil, round, trunc, sign): dy/dx = 0."""

    @staticmethod
    def forward(ctx, x, function):
        return function(x)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad), None

    @staticmethod
    def formula(ctx, grad):
        return Tensor._make(np.zeros_like(grad._array), False), None


class StepBinary(Function):
    """z = f(a, b) for a piecewise-constant f (floor or trunc division).

    The result stays in the graph (``requires_grad`` flows), but, as in PyTorch, backward through
    it is an error rather than a silent zero.
    """

    @staticmethod
    def forward(ctx, a, b, function):
        ctx.function = function.__name__
        return function(a, b)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"derivative for {ctx.function} is not implemented")

    formula = backward


class Remainder(Function):
    """z = a - q·b with q = floor(a/b) (remainder) or trunc(a/b) (fmod); ∂z/∂a = 1, ∂z/∂b = -q."""

    connected = True  # ∂z/∂b = -q(a, b) hangs on a and b (with zero derivative), as in PyTorch

    @staticmethod
    def forward(ctx, a, b, function, quotient):
        ctx.save_for_backward(a, b)
        ctx.quotient = quotient
        return function(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_b = unbroadcast(-grad * ctx.quotient(a, b), shape_of(b)) if need_b else None
        return (unbroadcast(grad, shape_of(a)) if need_a else None), grad_b, None, None

    formula = backward  # ∂z/∂a = 1 and ∂z/∂b = -q are piecewise constant: the same expression records on a Tensor


def _unary_step(name, function, bool_ok=True):
    def op(input, *, out=None):
        input = as_tensor_arg(input, name)
        if input._array.dtype.kind in "iub":  # rounding an integer changes nothing
            if input._array.dtype.kind == "b" and not bool_ok:
                raise NotImplementedError(f"\"{name}_vml_cpu\" not implemented for 'Bool'")
            bools = input._array.dtype.kind == "b"
            array = input._array.copy() if name != "sign" or bools else np.sign(input._array)
            return write_out(Tensor._make(array, False), out, name)
        return write_out(Step.apply(input, function), out, name)

    op.__name__ = op.__qualname__ = name
    return op


floor = _unary_step("floor", np.floor, bool_ok=False)
ceil = _unary_step("ceil", np.ceil, bool_ok=False)
trunc = fix = _unary_step("trunc", np.trunc, bool_ok=False)
sign = _unary_step("sign", sign_of)
sgn = sign
_round = _unary_step("round", np.round, bool_ok=False)  # NumPy rounds half to even, as PyTorch does


def round(input, *, decimals=0, out=None):  # noqa: A001  (PyTorch's name)
    """Round half to even (as PyTorch), to ``decimals`` decimal places."""
    if decimals == 0:
        return _round(input, out=out)
    input = as_tensor_arg(input, "round")
    return write_out(Step.apply(input, lambda x: np.round(x, decimals)), out, "round")


def frac(input, *, out=None):
    """x - trunc(x): the fractional part, with the sign of x; d/dx = 1."""
    input = as_tensor_arg(input, "frac")
    if input._array.dtype.kind != "f":
        raise RuntimeError(f"frac: \"frac_cpu\" not implemented for '{input.dtype}'")
    return write_out(input - trunc(input), out, "frac")


def _integer_division_checked(name, a, b):
    empty = 0 in np.broadcast_shapes(shape_of(raw(a)), shape_of(raw(b)))
    if not empty and np.result_type(raw(a)).kind in "iub" and np.any(np.equal(raw(b), 0)):
        raise RuntimeError(f"{name}: ZeroDivisionError (integer division by zero)")


def _binary_step(name, function):
    def op(input, other, *, out=None):
        a, b = promote(input, other)
        broadcast_shape(name, shape_of(raw(a)), shape_of(raw(b)))
        _integer_division_checked(name, a, b)
        if result_type(a, b).kind == "b":
            raise RuntimeError(f"{name}: \"{name}_cpu\" not implemented for 'Bool'")
        return write_out(StepBinary.apply(a, b, function), out, name)

    op.__name__ = op.__qualname__ = name
    return op


def _trunc_div(a, b):
    if np.result_type(a, b).kind == "f":
        return np.trunc(a / b)
    quotient = np.floor_divide(a, b)
    return quotient + ((quotient < 0) & (quotient * b != a))  # floor → towards zero for negative quotients


floor_divide = _binary_step("floor_divide", np.floor_divide)
trunc_divide = _binary_step("div", _trunc_div)


def _remainder_op(name, function, quotient):
    def op(input, other, *, out=None):
        a, b = promote(input, other)
        broadcast_shape(name, shape_of(raw(a)), shape_of(raw(b)))
        if result_type(a, b).kind == "b":
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")
        _integer_division_checked(name, a, b)
        return write_out(Remainder.apply(a, b, function, quotient), out, name)

    op.__name__ = op.__qualname__ = name
    return op


remainder = _remainder_op("remainder", np.remainder, lambda a, b: np.floor_divide(a, b))
fmod = _remainder_op("fmod", np.fmod, lambda a, b: np.trunc(a / b))
