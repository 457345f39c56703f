"""Elementwise arithmetic with NumPy broadcasting: + - * / ** maximum minimum where clamp abs.

Every binary backward ends in :func:`unbroadcast`: when an input was broadcast up
to the output's shape, its gradient is the output gradient summed over the
broadcast dimensions ("the backward of expand is a sum").
"""

import numpy as np

from soma.autograd.function import Function
from soma.tensor import Tensor

__all__ = [
    "unbroadcast", "Add", "Sub", "Mul", "Div", "Neg", "Pow", "Maximum", "Minimum", "Where",
    "Clamp", "Abs", "add", "sub", "mul", "div", "neg", "pow", "maximum", "minimum", "where",
    "clamp", "abs", "masked_fill",
]


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _shape(value):
    return value.shape if hasattr(value, "shape") else ()


class Add(Function):
    """z = a + b"""

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


class Neg(Function):
    """z = -a"""

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
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # dz/da = b·a^(b-1), dz/db = a^b·ln a
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(grad * b * a ** (b - 1), a.shape)
        if need_b:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0, np.nan))
            grad_b = unbroadcast(grad * out * log_a, b.shape)
        return grad_a, grad_b


class Maximum(Function):
    """z = max(a, b) elementwise; ties share the gradient equally, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share = (a > b) + 0.5 * (a == b)
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad * share, _shape(a)) if need_a else None,
            unbroadcast(grad * (1 - share), _shape(b)) if need_b else None,
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
        share = (a < b) + 0.5 * (a == b)
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad * share, _shape(a)) if need_a else None,
            unbroadcast(grad * (1 - share), _shape(b)) if need_b else None,
        )


class Where(Function):
    """z = a where condition else b"""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        ctx.shapes = (_shape(a), _shape(b))
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        _, need_a, need_b = ctx.needs_input_grad
        zero = np.zeros((), grad.dtype)
        return (
            None,
            unbroadcast(np.where(ctx.condition, grad, zero), ctx.shapes[0]) if need_a else None,
            unbroadcast(np.where(ctx.condition, zero, grad), ctx.shapes[1]) if need_b else None,
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
        inside = np.ones(a.shape, dtype=bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        return grad * inside, None, None


class Abs(Function):
    """z = |a|"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        # d|a|/da = sign(a), 0 at a = 0
        (a,) = ctx.saved_tensors
        return grad * np.sign(a)


def _check_binary(name, a, b):
    sa, sb = _shape(a), _shape(b)
    try:
        return np.broadcast_shapes(sa, sb)
    except ValueError:
        raise ValueError(
            f"{name}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast together"
        ) from None


def _binary(function, name):
    def op(a, b):
        try:
            return function.apply(a, b)
        except ValueError:
            _check_binary(name, _raw(a), _raw(b))
            raise

    op.__name__ = name
    op.__doc__ = function.__doc__
    return op


def _raw(value):
    return value._array if isinstance(value, Tensor) else value


add = _binary(Add, "add")
sub = _binary(Sub, "sub")
mul = _binary(Mul, "mul")
maximum = _binary(Maximum, "maximum")
minimum = _binary(Minimum, "minimum")


def div(a, b):
    """z = a / b; integer tensors divide to float32, as in PyTorch."""
    if isinstance(a, Tensor) and a._array.dtype.kind in "iub" and not _is_float(b):
        a = Tensor._make(a._array.astype(np.float32), False)
    elif isinstance(b, Tensor) and b._array.dtype.kind in "iub" and not _is_float(a):
        b = Tensor._make(b._array.astype(np.float32), False)
    return _binary_div(a, b)


def _is_float(value):
    return isinstance(value, Tensor) and value._array.dtype.kind == "f"


_binary_div = _binary(Div, "div")


def neg(a):
    return Neg.apply(a)


def pow(a, exponent):
    """z = a ** exponent (either may be a tensor)."""
    return Pow.apply(a, exponent)


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (either may be a number)."""
    condition = _raw(condition)
    return Where.apply(condition, a, b)


def masked_fill(a, mask, value):
    """``a`` with ``value`` where ``mask`` is True."""
    return Where.apply(_raw(mask), _raw(value) if isinstance(value, Tensor) else value, a)


def clamp(a, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(a, _raw(min), _raw(max))


def abs(a):
    return Abs.apply(a)
