"""Elementwise arithmetic with NumPy broadcasting: + - * / ** maximum minimum where clamp abs.

Every binary backward ends in :func:`unbroadcast`: when an input was broadcast up
to the output's shape, its gradient is the output gradient summed over the
broadcast dimensions ("the backward of expand is a sum").
"""

import numpy as np

from soma._promotion import float_result, result_type
from soma.autograd.function import Function
from soma.ops._common import as_tensor_arg, broadcast_shape, promote, raw, shape_of, to_dtype, write_out
from soma.tensor import Tensor

__all__ = [
    "unbroadcast", "Add", "Sub", "Mul", "Div", "Neg", "Pow", "Maximum", "Minimum", "Where",
    "Clamp", "Abs", "add", "sub", "mul", "div", "neg", "pow", "maximum", "minimum", "where",
    "clamp", "abs", "masked_fill", "clip", "clamp_min", "clamp_max", "true_divide", "divide", "multiply",
    "subtract", "negative", "absolute",
]


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting."""
    if isinstance(grad, Tensor):
        return sum_to(grad, shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def sum_to(grad, shape):
    """:func:`unbroadcast` for a Tensor gradient, recorded (the differentiable backward's form)."""
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        from soma.ops.reduction import Sum

        grad = Sum.apply(grad, axes, True)
    return grad.reshape(shape)


_shape = shape_of


class Add(Function):
    """z = a + b"""

    linear = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a + b

    @staticmethod
    def backward(ctx, grad):
        # dz/da = 1, dz/db = 1
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad, ctx.shapes[0]) if need_a else None,
            unbroadcast(grad, ctx.shapes[1]) if need_b else None,
        )


class Sub(Function):
    """z = a - b"""

    linear = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a - b

    @staticmethod
    def backward(ctx, grad):
        # dz/da = 1, dz/db = -1
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad, ctx.shapes[0]) if need_a else None,
            unbroadcast(-grad, ctx.shapes[1]) if need_b else None,
        )


class Mul(Function):
    """z = a * b"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        # dz/da = b, dz/db = a
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad * b, a.shape) if need_a else None,
            unbroadcast(grad * a, b.shape) if need_b else None,
        )

    @staticmethod
    def formula(ctx, grad):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (
            sum_to(grad * b, _shape(a)) if need_a else None,
            sum_to(grad * a, _shape(b)) if need_b else None,
        )


class Div(Function):
    """z = a / b"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        # dz/da = 1/b, dz/db = -a/b²
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_b = unbroadcast(-grad * a / (b * b), b.shape) if need_b else None
        return (unbroadcast(grad / b, _shape(a)) if need_a else None, grad_b)

    @staticmethod
    def formula(ctx, grad):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        grad_b = sum_to(-grad * a / (b * b), _shape(b)) if need_b else None
        return (sum_to(grad / b, _shape(a)) if need_a else None, grad_b)


def sign_of(a):
    """sign(a) as PyTorch computes it: (a > 0) - (a < 0), so NaN has sign 0."""
    return ((a > 0).astype(a.dtype) - (a < 0)).astype(a.dtype, copy=False)


def integer_power(a, b):
    """a ** b for integer arrays, with PyTorch's answer for negative exponents (1, ±1 for base -1, else 0)."""
    if not np.any(np.less(b, 0)):
        return a**b
    a, b = np.broadcast_arrays(a, b)
    negative = b < 0
    out = np.zeros_like(a, shape=np.broadcast_shapes(a.shape, b.shape), dtype=np.result_type(a, b))
    out[~negative] = a[~negative] ** b[~negative]
    odd = (b % 2) != 0
    out[negative & (a == 1)] = 1
    out[negative & (a == -1)] = np.where(odd, -1, 1)[negative & (a == -1)]
    return out


class Neg(Function):
    """z = -a"""

    linear = True

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """z = a ** b"""

    @staticmethod
    def forward(ctx, a, b):
        out = integer_power(a, b) if np.result_type(a, b).kind in "iu" else a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # dz/da = b·a^(b-1) (0 where b = 0, so 0⁰ has gradient 0), dz/db = a^b·ln a (0 where a = 0, b >= 0)
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_a:
                grad_a = unbroadcast(np.where(b == 0, 0, grad * b * a ** (b - 1)).astype(grad.dtype), _shape(a))
            if need_b:
                term = np.where((a == 0) & (b >= 0), 0, grad * out * np.log(a))
                grad_b = unbroadcast(term.astype(grad.dtype), _shape(b))
        return grad_a, grad_b

    @staticmethod
    def formula(ctx, grad):
        a, b, _ = ctx.saved_tensors
        ta, tb = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        zero = grad.dtype.type(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_a:
                grad_a = grad * tb * ta ** (tb - 1)
                if np.any(b == 0):  # 0⁰ has gradient 0 (a constant exponent without zeros needs no mask)
                    grad_a = Where.apply(np.equal(b, 0), zero, grad_a)
                grad_a = sum_to(grad_a, _shape(a))
            if need_b:
                safe = np.equal(a, 0) & np.greater_equal(b, 0)
                log_a = ta.log() if isinstance(ta, Tensor) else np.log(ta)
                grad_b = sum_to(Where.apply(safe, zero, grad * Pow.apply(ta, tb) * log_a), _shape(b))
        return grad_a, grad_b


class Maximum(Function):
    """z = max(a, b) elementwise; ties share the gradient equally, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's rule: the larger side gets the gradient, ties halve it, and NaN passes it to both
        a, b = ctx.saved_tensors
        return _extremum_grads(ctx, grad, a, b, a < b, a > b)

    formula = backward  # _extremum_grads records when handed a Tensor


def _extremum_grads(ctx, grad, a, b, a_loses, b_loses):
    need_a, need_b = ctx.needs_input_grad
    if isinstance(grad, Tensor):  # the recorded form: grad times a constant share (0, ½ or 1)
        half = np.where(a == b, 0.5, 1.0).astype(grad.dtype)
        return (
            sum_to(grad * np.where(a_loses, 0, half).astype(grad.dtype), _shape(a)) if need_a else None,
            sum_to(grad * np.where(b_loses, 0, half).astype(grad.dtype), _shape(b)) if need_b else None,
        )
    tied = np.where(a == b, grad / 2, grad)
    return (
        unbroadcast(np.where(a_loses, 0, tied), _shape(a)) if need_a else None,
        unbroadcast(np.where(b_loses, 0, tied), _shape(b)) if need_b else None,
    )


class Minimum(Function):
    """z = min(a, b) elementwise; ties share the gradient equally, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _extremum_grads(ctx, grad, a, b, a > b, a < b)

    formula = backward


class Where(Function):
    """z = a where condition else b"""

    linear = (1, 2)

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)  # saved, so changing the mask in place is caught
        ctx.shapes = (_shape(a), _shape(b))
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        zero = grad.dtype.type(0)
        return (
            None,
            unbroadcast(np.where(condition, grad, zero), ctx.shapes[0]) if need_a else None,
            unbroadcast(np.where(condition, zero, grad), ctx.shapes[1]) if need_b else None,
        )


class Clamp(Function):
    """z = min(max(a, low), high); the gradient passes where low <= a <= high."""

    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a)
        ctx.bounds = (low, high)
        return np.clip(a, low, high)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        low, high = ctx.bounds
        inside = np.ones_like(a, dtype=bool)
        if low is not None:
            inside = inside & (a >= low)
        if high is not None:
            inside = inside & (a <= high)
        return unbroadcast(grad * inside, a.shape), None, None

    formula = backward  # grad times a constant mask: the same expression records on a Tensor


class Abs(Function):
    """z = |a|"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        # d|a|/da = sign(a), 0 at a = 0 (and at NaN, as PyTorch's sgn)
        (a,) = ctx.saved_tensors
        return grad * sign_of(a)

    formula = backward  # grad times the constant sign(a): the same expression records on a Tensor
    connected = True  # as PyTorch's grad * a.sgn(): hangs on a (with zero derivative)


def _binary(function, name, doc):
    def op(input, other, *, out=None):
        a, b = promote(input, other)
        try:
            result = function.apply(a, b)
        except ValueError:
            broadcast_shape(name, shape_of(raw(a)), shape_of(raw(b)))
            raise
        return result if out is None else write_out(result, out, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


mul = _binary(Mul, "mul", "z = input * other, broadcast, in the dtype PyTorch promotes to.")
_maximum = _binary(Maximum, "maximum", None)
_minimum = _binary(Minimum, "minimum", None)


def maximum(input, other, *, out=None):
    """z = max(input, other) elementwise (both tensors); ties share the gradient."""
    return _maximum(as_tensor_arg(input, "maximum"), as_tensor_arg(other, "maximum", "other"), out=out)


def minimum(input, other, *, out=None):
    """z = min(input, other) elementwise (both tensors); ties share the gradient."""
    return _minimum(as_tensor_arg(input, "minimum"), as_tensor_arg(other, "minimum", "other"), out=out)
_add = _binary(Add, "add", None)
_sub = _binary(Sub, "sub", None)


def _scaled(other, alpha, name, input):
    if alpha == 1:
        return other
    kind = result_type(input, other).kind
    if isinstance(alpha, float) and kind in "iub":
        raise RuntimeError(f"{name}: for integral input tensors, argument alpha must not be a floating point number.")
    return mul(other, alpha)


def add(input, other, *, alpha=1, out=None):
    """z = input + alpha · other"""
    return _add(input, _scaled(other, alpha, "add", input), out=out)


def sub(input, other, *, alpha=1, out=None):
    """z = input - alpha · other"""
    if _is_bool(input) and _is_bool(other):
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return _sub(input, _scaled(other, alpha, "sub", input), out=out)


def _is_bool(value):
    return isinstance(value, (bool, np.bool_)) or (isinstance(value, Tensor) and value._array.dtype.kind == "b")


_true_div = _binary(Div, "div", None)


def div(input, other, *, rounding_mode=None, out=None):
    """z = input / other: true division (integers divide to the default float dtype), or rounded to
    ``"trunc"`` (towards zero) or ``"floor"`` (down), which keep integer dtypes."""
    if rounding_mode is None:
        dtype = float_result(result_type(input, other))
        return _true_div(to_dtype(input, dtype), to_dtype(other, dtype), out=out)
    if rounding_mode == "floor":
        from soma.ops.rounding import floor_divide

        return floor_divide(input, other, out=out)
    if rounding_mode == "trunc":
        from soma.ops.rounding import trunc_divide

        return trunc_divide(input, other, out=out)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


true_divide = divide = div
multiply, subtract = mul, sub


def neg(input, *, out=None):
    """z = -input"""
    if _is_bool(input):
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
            "use the `~` or `logical_not()` operator instead."
        )
    return write_out(Neg.apply(as_tensor_arg(input, "neg")), out, "neg")


negative = neg


def pow(input, exponent, *, out=None):
    """z = input ** exponent (either may be a tensor; integers to negative integer powers are an error)."""
    a, b = promote(input, exponent)
    kind = np.result_type(raw(a)).kind
    if kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    empty = 0 in np.broadcast_shapes(shape_of(raw(a)), shape_of(raw(b)))
    scalar_exponent = not isinstance(exponent, Tensor)
    if kind in "iu" and scalar_exponent and not empty and np.any(np.less(raw(b), 0)):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    try:
        result = Pow.apply(a, b)
    except ValueError:
        broadcast_shape("pow", shape_of(raw(a)), shape_of(raw(b)))
        raise
    return write_out(result, out, "pow")


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (either may be a number).

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.
    """
    if input is None and other is None:
        return tuple(Tensor._make(i.astype(np.int64), False) for i in np.nonzero(raw(condition)))
    mask = raw(condition)
    if getattr(mask, "dtype", None) != np.bool_:
        kind = getattr(mask, "dtype", type(mask).__name__)
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {kind}")
    a, b = promote(input, other)
    broadcast_shape("where", mask.shape, shape_of(raw(a)), shape_of(raw(b)))
    return write_out(Where.apply(mask, a, b), out, "where")


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or a 0-d tensor) where the bool ``mask`` is True."""
    input = as_tensor_arg(input, "masked_fill")
    mask = raw(mask)
    if getattr(mask, "dtype", None) != np.bool_:
        kind = getattr(mask, "dtype", type(mask).__name__)
        raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with dtype {kind}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(
                "masked_fill only supports a 0-dimensional value tensor, "
                f"but got tensor with {value.ndim} dimension(s)."
            )
    elif not isinstance(value, (bool, int, float, complex, np.generic)):
        raise TypeError(f"masked_fill(): argument 'value' must be Number or Tensor, not {type(value).__name__}")
    broadcast_shape("masked_fill", mask.shape, input.shape)
    return Where.apply(mask, to_dtype(value, input._array.dtype), input)


def clamp(input, min=None, max=None, *, out=None):
    """z = min(max(input, min), max); the gradient passes where min <= input <= max."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    input = as_tensor_arg(input, "clamp")
    dtype = result_type(input, min, max)
    low, high = raw(to_dtype(min, dtype)), raw(to_dtype(max, dtype))
    return write_out(Clamp.apply(to_dtype(input, dtype), low, high), out, "clamp")


clip = clamp


def clamp_min(input, min):
    return clamp(input, min, None)


def clamp_max(input, max):
    return clamp(input, None, max)


def abs(input, *, out=None):
    """z = |input|"""
    input = as_tensor_arg(input, "abs")
    if input._array.dtype.kind == "b":
        raise RuntimeError("abs(): operation is not supported for bool tensors")
    return write_out(Abs.apply(input), out, "abs")


absolute = abs
