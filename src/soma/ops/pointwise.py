"""Elementwise functions of one tensor: exp, log, sqrt, sin, cos, tanh, sigmoid, relu.

Each backward multiplies the incoming gradient by the function's derivative, written
in the comment beside it. sigmoid and tanh save their output, since their
derivatives are cheapest in terms of it.
"""

import numpy as np

from soma._promotion import get_default_dtype
from soma.autograd.function import Function
from soma.ops._common import as_tensor_arg, write_out
from soma.tensor import Tensor

__all__ = [
    "Exp", "Log", "Log1p", "Expm1", "Sqrt", "Sin", "Cos", "Tanh", "Sigmoid", "Relu",
    "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu",
    "stable_sigmoid", "Rsqrt", "Reciprocal", "Square", "rsqrt", "reciprocal", "square",
]


class Exp(Function):
    """y = eˣ"""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y  # d(eˣ)/dx = eˣ

    @staticmethod
    def formula(ctx, grad):
        (x,) = ctx.inputs
        return grad * Exp.apply(x)


class Log(Function):
    """y = ln x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x  # d(ln x)/dx = 1/x

    @staticmethod
    def formula(ctx, grad):
        (x,) = ctx.inputs
        return grad / x


class Log1p(Function):
    """y = ln(1 + x), accurate for small x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)  # d ln(1+x)/dx = 1/(1+x)

    @staticmethod
    def formula(ctx, grad):
        (x,) = ctx.inputs
        return grad / (x + 1)


class Expm1(Function):
    """y = eˣ - 1, accurate for small x"""

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1)  # d(eˣ - 1)/dx = eˣ

    @staticmethod
    def formula(ctx, grad):
        (x,) = ctx.inputs
        return grad * Exp.apply(x)


class Sqrt(Function):
    """y = √x"""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)  # d√x/dx = 1/(2√x)

    @staticmethod
    def formula(ctx, grad):
        (x,) = ctx.inputs
        return grad / (Sqrt.apply(x) * 2)


class Sin(Function):
    """y = sin x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)  # d sin x/dx = cos x

    @staticmethod
    def formula(ctx, grad):
        (x,) = ctx.inputs
        return grad * Cos.apply(x)


class Cos(Function):
    """y = cos x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * np.sin(x)  # d cos x/dx = -sin x

    @staticmethod
    def formula(ctx, grad):
        (x,) = ctx.inputs
        return -(grad * Sin.apply(x))


class Tanh(Function):
    """y = tanh x = (eˣ - e⁻ˣ)/(eˣ + e⁻ˣ)"""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)  # d tanh/dx = 1 - tanh²

    @staticmethod
    def formula(ctx, grad):
        y = Tanh.apply(ctx.inputs[0])
        return grad * (1 - y * y)


def stable_sigmoid(x):
    """σ(x) = 1/(1 + e⁻ˣ) without overflow: e^(-|x|) never exceeds 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """y = σ(x) = 1/(1 + e⁻ˣ)"""

    @staticmethod
    def forward(ctx, x):
        y = stable_sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)  # dσ/dx = σ(1 - σ)

    @staticmethod
    def formula(ctx, grad):
        y = Sigmoid.apply(ctx.inputs[0])
        return grad * y * (1 - y)


class Relu(Function):
    """y = max(0, x); the gradient at x = 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(~(x <= 0))  # PyTorch passes the gradient unless relu(x) <= 0, so NaN passes it
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask  # dy/dx = 1 for x > 0, else 0

    formula = backward  # grad times a constant mask: the same expression records on a Tensor
    connected = True  # as PyTorch's threshold_backward(grad, x): differentiable (with zero derivative) in x


def _float_unary(function, name):
    """The functional form of ``function``: integer and bool inputs compute in the default float dtype."""

    def op(input, *, out=None):
        input = as_tensor_arg(input, name)
        if input._array.dtype.kind not in "fc":
            input = Tensor._make(input._array.astype(get_default_dtype()), False)
        result = function.apply(input)
        return result if out is None else write_out(result, out, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = function.__doc__
    return op


exp = _float_unary(Exp, "exp")
log = _float_unary(Log, "log")
log1p = _float_unary(Log1p, "log1p")
expm1 = _float_unary(Expm1, "expm1")
sqrt = _float_unary(Sqrt, "sqrt")
sin = _float_unary(Sin, "sin")
cos = _float_unary(Cos, "cos")
tanh = _float_unary(Tanh, "tanh")
sigmoid = _float_unary(Sigmoid, "sigmoid")


def relu(input, inplace=False):
    """y = max(0, x); ``inplace=True`` writes y into x (as every in-place op: rebased in the graph)."""
    input = as_tensor_arg(input, "relu")
    if input._array.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if inplace:
        return input._inplace("relu_", Relu.apply)
    return Relu.apply(input)


class Rsqrt(Function):
    """y = 1/√x"""

    @staticmethod
    def forward(ctx, x):
        y = 1 / np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * -0.5 * y * y * y  # d(x^-½)/dx = -½ x^-3/2 = -½ y³

    @staticmethod
    def formula(ctx, grad):
        y = Rsqrt.apply(ctx.inputs[0])
        return grad * -0.5 * y * y * y


class Reciprocal(Function):
    """y = 1/x"""

    @staticmethod
    def forward(ctx, x):
        y = 1 / x
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * -(y * y)  # d(1/x)/dx = -1/x² = -y²

    @staticmethod
    def formula(ctx, grad):
        y = Reciprocal.apply(ctx.inputs[0])
        return grad * -(y * y)


class Square(Function):
    """y = x²"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x  # d(x²)/dx = 2x

    @staticmethod
    def formula(ctx, grad):
        (x,) = ctx.inputs
        return grad * 2 * x


rsqrt = _float_unary(Rsqrt, "rsqrt")
reciprocal = _float_unary(Reciprocal, "reciprocal")


def square(input, *, out=None):
    """y = x² (integers stay integers; bools become int64, as in PyTorch)."""
    input = as_tensor_arg(input, "square")
    if input._array.dtype.kind == "b":
        input = Tensor._make(input._array.astype(np.int64), False)
    return write_out(Square.apply(input), out, "square")
