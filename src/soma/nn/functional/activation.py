"""Activation functions y = f(z), each with its derivative f′(z) written beside it.

An artificial neuron computes ``z = Σᵢ wᵢxᵢ + b`` and fires ``y = f(z)`` (notes 000,
001). The notes' activations: the step (Heaviside) function, identity, sigmoid, tanh,
ReLU and its relatives (leaky ReLU, PReLU, ELU, SELU), Swish/SiLU, GELU, softplus,
softmax. sigmoid, tanh, relu and softmax live in :mod:`soma.ops.pointwise` and
:mod:`soma.ops.softmax`; they are re-exported here with PyTorch's signatures.

Derivatives at the kinks follow PyTorch: ReLU′(0) = 0, LeakyReLU′(0) = slope,
ELU′(0) = α, hardtanh′ = 0 at the clip points. At NaN they are those of PyTorch's
vectorized CPU loop, which computes nearly every element of a real tensor (its scalar
loop over the last few elements disagrees on some; docs/pytorch-parity.md):
hardtanh′(NaN) = relu6′(NaN) = 0, elu′(NaN) = selu′ = celu′ = hardswish′(NaN) = NaN.
"""

import math

import numpy as np

from soma._errors import DTypeError, check_floating, check_same_dtype
from soma.autograd.function import Function
from soma.ops import pointwise as _pointwise
from soma.ops import special
from soma.ops._common import honours_inplace
from soma.ops.arithmetic import unbroadcast
from soma.ops.pointwise import Relu, Tanh, stable_sigmoid
from soma.ops.reduction import normalize_dims
from soma.ops.softmax import log_softmax as _log_softmax
from soma.ops.softmax import softmax as _softmax

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
    "softplus", "hardtanh", "hardsigmoid", "hardswish", "logsigmoid", "softsign", "tanhshrink",
    "threshold", "prelu", "heaviside", "step", "softmin", "softmax", "log_softmax", "sigmoid",
    "tanh", "identity", "erf", "glu", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "selu_", "celu_",
]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def erf(x):
    """The error function on an array, erf(x) = 2/√π ∫₀ˣ e^(-t²) dt, in x's dtype: the kernel of
    ``soma.erf`` (SciPy's where installed, else :func:`soma.ops.special.erf_without_scipy`)."""
    return special.apply_kernel("erf", x)


# ---------------------------------------------------------------- the ReLU family
class LeakyRelu(Function):
    """y = x for x > 0, else slope·x"""

    @staticmethod
    def forward(ctx, x, slope):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.slope = slope
        return np.where(positive, x, x * slope)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return np.where(positive, grad, grad * ctx.slope), None  # y′ = 1 or slope


class Elu(Function):
    """y = x for x > 0, else α(eˣ - 1); ``scale`` multiplies both branches (SELU)"""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        positive = x > 0  # NaN takes the other branch: value and slope NaN, as PyTorch's vectorized kernel
        negative = alpha * np.expm1(np.minimum(x, 0) * input_scale)
        y = np.where(positive, x, negative)
        if scale != 1:
            y = y * scale
        ctx.save_for_backward(positive, negative)
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        return y

    @staticmethod
    def backward(ctx, grad):
        # y′ = scale for x > 0, else scale·input_scale·α·e^(input_scale·x) = scale·input_scale·(neg + α)
        positive, negative = ctx.saved_tensors
        alpha, scale, input_scale = ctx.alpha, ctx.scale, ctx.input_scale
        slope = np.where(positive, scale, scale * input_scale * (negative + alpha))
        return grad * slope, None, None, None


class Hardtanh(Function):
    """y = clamp(x, min_val, max_val)"""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward((x > low) & (x < high))  # NaN is not inside (slope 0), as PyTorch's vectorized kernel
        clipped = np.clip(x, low, high)
        return clipped.astype(x.dtype) if x.dtype.kind in "iu" else clipped  # integers stay integers

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None  # y′ = 1 strictly inside, 0 on and beyond the clip points


class Threshold(Function):
    """y = x if x > threshold else value"""

    @staticmethod
    def forward(ctx, x, threshold, value):
        above = ~(x <= threshold)  # NaN passes through, as PyTorch's x <= threshold ? value : x
        ctx.save_for_backward(above)
        return np.where(above, x, x.dtype.type(value))

    @staticmethod
    def backward(ctx, grad):
        (above,) = ctx.saved_tensors
        return grad * above, None, None  # y′ = 1 above the threshold, 0 below


class Prelu(Function):
    """y = x for x > 0, else a·x with a learned slope a per channel (dim 1)"""

    @staticmethod
    def forward(ctx, x, weight):
        a = weight.reshape((1, -1) + (1,) * (x.ndim - 2)) if x.ndim >= 2 and weight.size > 1 else weight
        positive = x > 0
        ctx.save_for_backward(x, a, positive)
        ctx.weight_shape = weight.shape
        return np.where(positive, x, a * x)

    @staticmethod
    def backward(ctx, grad):
        # ∂y/∂x = 1 or a; ∂y/∂a = 0 or x
        x, a, positive = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        grad_x = np.where(positive, grad, grad * a) if need_x else None
        grad_w = None
        if need_w:
            grad_w = np.where(positive, 0, grad * x)
            grad_w = unbroadcast(grad_w, np.shape(a)).reshape(ctx.weight_shape)
        return grad_x, grad_w


# -------------------------------------------------------- smooth gated activations
GELU_TANH_SCALE = math.sqrt(2 / math.pi)  # the tanh approximation: Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³)))
GELU_TANH_CUBIC = 0.044715  # (Hendrycks & Gimpel's fit of the cubic term)


class Gelu(Function):
    """y = x·Φ(x) (exact, with erf) or its tanh approximation"""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = GELU_TANH_SCALE * (x + GELU_TANH_CUBIC * x**3)
            t = np.tanh(inner)
            ctx.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
        ctx.save_for_backward(x, cdf)
        y = x * cdf
        if x.dtype != np.float64:  # PyTorch's float32/16 kernel gives gelu(+inf) = NaN (its float64 one, +inf)
            y[np.isposinf(x)] = np.nan
        return y

    @staticmethod
    def backward(ctx, grad):
        x, t_or_cdf = ctx.saved_tensors
        if ctx.approximate == "tanh":
            # y′ = ½(1 + t) + ½x(1 - t²)·√(2/π)(1 + 3·0.044715x²)
            t = t_or_cdf
            d_inner = GELU_TANH_SCALE * (1 + 3 * GELU_TANH_CUBIC * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner), None
        # y′ = Φ(x) + x·φ(x)
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad * (t_or_cdf + x * pdf), None


class Silu(Function):
    """y = x·σ(βx) (SiLU for β = 1; Swish with β)"""

    @staticmethod
    def forward(ctx, x, beta):
        s = stable_sigmoid(x * beta if beta != 1 else x)
        ctx.save_for_backward(x, s)
        ctx.beta = beta
        return x * s

    @staticmethod
    def backward(ctx, grad):
        # y′ = σ(βx) + βx·σ(βx)(1 - σ(βx))
        x, s = ctx.saved_tensors
        return grad * (s * (1 + ctx.beta * x * (1 - s))), None


class Softplus(Function):
    """y = (1/β)·ln(1 + e^(βx)), and y = x where βx > threshold"""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        bx = x * beta
        linear = bx > threshold
        soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
        ctx.save_for_backward(bx, linear)
        return np.where(linear, x, soft)

    @staticmethod
    def backward(ctx, grad):
        bx, linear = ctx.saved_tensors
        return np.where(linear, grad, grad * stable_sigmoid(bx)), None, None  # y′ = σ(βx)


class LogSigmoid(Function):
    """y = ln σ(x) = -softplus(-x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * stable_sigmoid(-x)  # y′ = 1 - σ(x) = σ(-x)


class Mish(Function):
    """y = x·tanh(softplus(x))"""

    @staticmethod
    def forward(ctx, x):
        t = np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, grad):
        # y′ = tanh(sp(x)) + x·(1 - tanh²(sp(x)))·σ(x)
        x, t = ctx.saved_tensors
        return grad * (t + x * (1 - t * t) * stable_sigmoid(x))


class Softsign(Function):
    """y = x / (1 + |x|)"""

    @staticmethod
    def forward(ctx, x):
        d = 1 + np.abs(x)
        ctx.save_for_backward(x, d)
        with np.errstate(invalid="ignore"):  # ±inf/inf = NaN, as PyTorch's
            return x / d

    @staticmethod
    def backward(ctx, grad):
        # y′ = 1/d - x·sign(x)/d² = 1/(1 + |x|)², written as the quotient rule (as PyTorch differentiates its
        # x / (1 + |x|)): NaN at x = ±inf (∞/∞), where 1/d² would say 0
        x, d = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            return grad / d - grad * x / (d * d) * np.sign(x)


class Hardswish(Function):
    """y = x·relu6(x + 3)/6"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        # y′ = 0 for x ≤ -3, x/3 + ½ for -3 < x < 3, 1 from 3 on (PyTorch's boundary choice)
        (x,) = ctx.saved_tensors
        slope = np.where(x <= -3, 0.0, np.where(x >= 3, 1.0, x / 3 + 0.5)).astype(x.dtype)  # NaN at NaN
        return grad * slope


class Hardsigmoid(Function):
    """y = relu6(x + 3)/6"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward((x > -3) & (x < 3))
        return np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        # y′ = 1/6 strictly between -3 and 3, else 0; PyTorch's kernel multiplies by the float32
        # constant 1/6 in every dtype (0.1666666716... in float64 too), and so does soma, to match it
        return grad * inside * grad.dtype.type(np.float32(1.0) / np.float32(6.0))


class Heaviside(Function):
    """y = 1 if x ≥ threshold else 0 (the step function of notes 000/001)"""

    @staticmethod
    def forward(ctx, x, threshold, straight_through):
        ctx.straight_through = straight_through
        return (x >= threshold).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        # y′ = 0 wherever it exists (everywhere but the jump); straight-through passes grad as if y = x
        if ctx.straight_through:
            return grad, None, None
        return np.zeros_like(grad), None, None


# --------------------------------------------------------------- functional forms
def _check(input, name):
    if input.dtype.kind != "f":
        raise DTypeError(f"{name}: expected a floating-point tensor, got dtype {input.dtype}")


def identity(input):
    """y = x (the linear activation)."""
    return input


@honours_inplace
def relu(input, inplace=False):
    """y = max(0, x)"""
    return Relu.apply(input)


def relu_(input):
    """relu in place (``F.relu_``)."""
    return relu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    """leaky_relu in place (``F.leaky_relu_``)."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input, alpha=1.0):
    """elu in place (``F.elu_``)."""
    return elu(input, alpha, inplace=True)


def selu_(input):
    """selu in place (``F.selu_``)."""
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):
    """celu in place (``F.celu_``)."""
    return celu(input, alpha, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """hardtanh in place (``F.hardtanh_``)."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    """threshold in place (``F.threshold_``)."""
    return input._inplace("threshold_", Threshold.apply, threshold, value)


def sigmoid(input):
    """y = σ(x) = 1/(1 + e⁻ˣ) (integers compute in the default float dtype)"""
    return _pointwise.sigmoid(input)


def tanh(input):
    """y = tanh x (integers compute in the default float dtype)"""
    return _pointwise.tanh(input)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """yᵢ = e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim``"""
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """yᵢ = xᵢ - ln Σⱼ e^(xⱼ) along ``dim``"""
    return _log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """yᵢ = e^(-xᵢ) / Σⱼ e^(-xⱼ)"""
    if dtype is None:
        check_floating("softmin", input)  # PyTorch's softmax kernels take floats (or a dtype= to cast to)
    return _softmax(-input, dim, dtype)


@honours_inplace
def leaky_relu(input, negative_slope=0.01, inplace=False):
    """y = x for x > 0, else negative_slope·x"""
    check_floating("leaky_relu", input)
    return LeakyRelu.apply(input, negative_slope)


@honours_inplace
def elu(input, alpha=1.0, inplace=False):
    """y = x for x > 0, else α(eˣ - 1)"""
    check_floating("elu", input)
    return Elu.apply(input, alpha, 1, 1)


@honours_inplace
def selu(input, inplace=False):
    """y = λ·elu(x, α) with λ ≈ 1.0507, α ≈ 1.6733 (self-normalizing)"""
    check_floating("selu", input)
    return Elu.apply(input, SELU_ALPHA, SELU_SCALE, 1)


@honours_inplace
def celu(input, alpha=1.0, inplace=False):
    """y = x for x > 0, else α(e^(x/α) - 1)"""
    check_floating("celu", input)
    if alpha == 0:
        raise ValueError("celu: alpha must not be zero")
    return Elu.apply(input, alpha, 1, 1 / alpha)


def gelu(input, approximate="none"):
    """y = x·Φ(x), Φ the standard normal CDF; approximate='tanh' uses ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    check_floating("gelu", input)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate)


@honours_inplace
def silu(input, inplace=False):
    """y = x·σ(x) (Swish with β = 1)"""
    check_floating("silu", input)
    return Silu.apply(input, 1)


@honours_inplace
def mish(input, inplace=False):
    check_floating("mish", input)
    return Mish.apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    """y = (1/β)·ln(1 + e^(βx)), linear where βx > threshold"""
    check_floating("softplus", input)
    return Softplus.apply(input, beta, threshold)


@honours_inplace
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """y = clamp(x, min_val, max_val)"""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return Hardtanh.apply(input, min_val, max_val)


@honours_inplace
def relu6(input, inplace=False):
    """y = min(max(0, x), 6)"""
    return Hardtanh.apply(input, 0.0, 6.0)


@honours_inplace
def hardsigmoid(input, inplace=False):
    """y = relu6(x + 3)/6"""
    check_floating("hardsigmoid", input)
    return Hardsigmoid.apply(input)


@honours_inplace
def hardswish(input, inplace=False):
    check_floating("hardswish", input)
    return Hardswish.apply(input)


def logsigmoid(input):
    check_floating("logsigmoid", input)
    return LogSigmoid.apply(input)


def softsign(input):
    return Softsign.apply(_floating(input))


def tanhshrink(input):
    """y = x - tanh x"""
    input = _floating(input)
    return input - Tanh.apply(input)


def _floating(input):
    """Integer inputs of the ops PyTorch computes in floating point become the default float dtype (float32)."""
    return input if input.dtype.kind == "f" else input.float()


@honours_inplace
def threshold(input, threshold, value, inplace=False):
    """y = x if x > threshold else value"""
    return Threshold.apply(input, threshold, value)


def glu(input, dim=-1):
    """GLU(a, b) = a ⊗ σ(b), a and b the first and second half of the input along ``dim`` (the gated
    linear unit: each output is a value times a sigmoid gate). ∂/∂a = σ(b), ∂/∂b = a·σ(b)(1 - σ(b))."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    check_floating("glu", input)
    (dim,) = normalize_dims(dim, input.ndim, "glu")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim} is size {size} "
                           f"(input of shape {tuple(input.shape)})")
    a, b = input.chunk(2, dim)
    return a * _pointwise.sigmoid(b)


def prelu(input, weight):
    """y = x for x > 0, else a·x, with one learned slope per channel (dim 1) or one shared."""
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight._array.size not in (1, channels):
        raise RuntimeError(
            f"prelu: weight has {weight._array.size} slopes but the input of shape "
            f"{tuple(input.shape)} has {channels} channels (expected 1 or {channels})"
        )
    check_same_dtype("prelu", input=input, weight=weight)
    return Prelu.apply(input, weight)


def heaviside(input, threshold=0.0, straight_through=False):
    """The step function: y = 1 if x ≥ threshold else 0 (notes 000: f(x) = 1 if x ≥ 0).

    Gradient choice: the step is flat everywhere except at the jump, so its true
    derivative is 0 almost everywhere and gradient descent cannot train through it
    (this is why the perceptron has its own learning rule). With
    ``straight_through=True`` the backward pass uses the identity's gradient instead
    (the straight-through estimator), which lets a step neuron sit inside a network
    trained by backpropagation.
    """
    _check(input, "heaviside")
    return Heaviside.apply(input, threshold, straight_through)


step = heaviside
