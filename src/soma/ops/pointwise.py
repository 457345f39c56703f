"""Elementwise functions of one tensor: exp, log, sqrt, sin, cos, tanh, sigmoid, relu.

Each backward multiplies the incoming gradient by the function's derivative, written
in the comment beside it. sigmoid and tanh save their output, since their
derivatives are cheapest in terms of it.
"""

import numpy as np

from soma.autograd.function import Function

__all__ = [
    "Exp", "Log", "Log1p", "Expm1", "Sqrt", "Sin", "Cos", "Tanh", "Sigmoid", "Relu",
    "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu",
    "stable_sigmoid",
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


class Relu(Function):
    """y = max(0, x); the gradient at x = 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask  # dy/dx = 1 for x > 0, else 0


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def log1p(x):
    return Log1p.apply(x)


def expm1(x):
    return Expm1.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return Relu.apply(x)
