"""Activation layers: the module form of every function in :mod:`soma.nn.functional.activation`.

A neuron fires ``y = f(z)`` on its net input ``z = Σᵢ wᵢxᵢ + b`` (notes 000, 001);
these modules apply ``f`` elementwise, so ``nn.Sequential(nn.Linear(2, 2), nn.Sigmoid())``
is a layer of sigmoid neurons. Each has no parameters except PReLU (the slopes) and
Swish with ``trainable=True`` (β).
"""

import numpy as np

from soma.nn._utils import maybe_inplace
from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.functional import activation as F
from soma.nn.functional import randomized, shrink
from soma.nn.module import Module, Parameter, empty_parameter
from soma.tensor import Tensor

__all__ = [
    "Identity", "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU",
    "Swish", "Mish", "Sigmoid", "Tanh", "Softmax", "Softmax2d", "LogSoftmax", "Softmin", "Softplus",
    "Hardtanh", "Hardsigmoid", "Hardswish", "LogSigmoid", "Softsign", "Tanhshrink", "Threshold",
    "Step", "GLU", "Hardshrink", "Softshrink", "RReLU",
]

from soma.nn.linear import Identity  # noqa: E402  (the linear activation is nn.Identity)


class _Inplace(Module):
    """Activations taking PyTorch's ``inplace`` flag: ``inplace=True`` writes the result into the input."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """y = max(0, x)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.

    Example::

        >>> nn.ReLU()(soma.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.relu, input)


class ReLU6(_Inplace):
    """y = min(max(0, x), 6)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.relu6, input)


class LeakyReLU(Module):
    """y = x for x > 0, else negative_slope·x (notes 000 use slope 0.1, notes 001 use 0.01).

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.leaky_relu, input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """y = x for x > 0, else a·x, with a learned slope a (one, or one per channel).

    Args:
        num_parameters: 1 (shared) or the number of channels (dim 1 of the input).
        init: the initial slope (0.25).

    Shape:
        - Input: ``(*)``; with ``num_parameters`` > 1, dim 1 holds the channels.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = empty_parameter(num_parameters, dtype, "PReLU", device, fill=init)

    def reset_parameters(self):
        self.weight._array[...] = self.init

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """y = x for x > 0, else α(eˣ - 1)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.elu, input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """y = x for x > 0, else α(e^(x/α) - 1)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.celu, input, self.alpha)


class SELU(_Inplace):
    """y = λ·elu(x, α), λ ≈ 1.0507, α ≈ 1.6733

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.selu, input)


class GELU(Module):
    """y = x·Φ(x); ``approximate='tanh'`` for the tanh approximation.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_Inplace):
    """y = x·σ(x)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.silu, input)


class Swish(Module):
    """y = x·σ(βx): SiLU for β = 1; with ``trainable=True`` β is a learned parameter.

    Args:
        beta: the initial β (1.0).
        trainable: learn β (registered as the parameter ``beta``).

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, beta: float = 1.0, trainable: bool = False) -> None:
        super().__init__()
        self.trainable = trainable
        self.beta: Parameter | float
        if trainable:
            self.beta = Parameter(np.array([beta], dtype=np.float32))
        else:
            self.beta = float(beta)

    def forward(self, input: Tensor) -> Tensor:
        if not self.trainable:
            return F.Silu.apply(input, self.beta)
        return input * F.sigmoid(input * self.beta)

    def extra_repr(self):
        return "trainable=True" if self.trainable else f"beta={self.beta}"


class Mish(_Inplace):
    """y = x·tanh(softplus(x))

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.mish, input)


class Sigmoid(Module):
    """y = σ(x) = 1/(1 + e⁻ˣ), in (0, 1); σ′ = σ(1 - σ) ≤ 0.25 (notes 001).

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """y = tanh x = 2σ(2x) - 1, in (-1, 1).

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class _DimModule(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_DimModule):
    """yᵢ = e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim`` (class probabilities; notes 001).

    Shape:
        - Input: ``(*)``, any number of dimensions; ``dim`` is normalized over.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)


class Softmax2d(Module):
    """Softmax over the channels at every position: y_c = e^(x_c) / Σ_{c'} e^(x_{c'}) along dim -3.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead (shape "
                             f"{tuple(input.shape)})")
        return F.softmax(input, -3)


class LogSoftmax(_DimModule):
    """yᵢ = xᵢ - ln Σⱼ e^(xⱼ) along ``dim``

    Shape:
        - Input: ``(*)``, any number of dimensions; ``dim`` is normalized over.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)


class Softmin(_DimModule):
    """yᵢ = e^(-xᵢ) / Σⱼ e^(-xⱼ) along ``dim``

    Shape:
        - Input: ``(*)``, any number of dimensions; ``dim`` is normalized over.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim)


class Softplus(Module):
    """y = (1/β)·ln(1 + e^(βx)), linear where βx > threshold.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """y = clamp(x, min_val, max_val)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.hardtanh, input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class Hardsigmoid(_Inplace):
    """y = relu6(x + 3)/6

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.hardsigmoid, input)


class Hardswish(_Inplace):
    """y = x·relu6(x + 3)/6

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.hardswish, input)


class LogSigmoid(Module):
    """y = ln σ(x)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class Softsign(Module):
    """y = x / (1 + |x|)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


class Tanhshrink(Module):
    """y = x - tanh x

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanhshrink(input)


class Threshold(Module):
    """y = x if x > threshold else value

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.threshold, input, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}"


class Step(Module):
    """The step (Heaviside) activation: y = 1 if x ≥ threshold else 0 (notes 000, 001).

    With ``nn.Linear`` it makes the threshold neurons of notes 000: AND is
    ``Step()(x₁ + x₂ - 1.5)``, OR ``Step()(x₁ + x₂ - 0.5)``, NOT ``Step()(1 - 2x₁)``.

    Args:
        threshold: where the step jumps (0).
        straight_through: backpropagate as if the step were the identity (the
            straight-through estimator) instead of its true derivative, 0.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.

    Example::

        >>> nn.Step()(soma.tensor([5.0, -2.0, 0.0]))
        tensor([1., 0., 1.])
    """

    def __init__(self, threshold: float = 0.0, straight_through: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.straight_through = straight_through

    def forward(self, input: Tensor) -> Tensor:
        return F.heaviside(input, self.threshold, self.straight_through)

    def extra_repr(self):
        extra = f"threshold={self.threshold}"
        return extra + (", straight_through=True" if self.straight_through else "")


class GLU(_DimModule):
    """The gated linear unit: GLU(a, b) = a ⊗ σ(b), a and b the two halves of the input along ``dim``.

    Shape:
        - Input: ``(*₁, N, *₂)`` with N (even) at position ``dim``.
        - Output: ``(*₁, M, *₂)`` with M = N/2.

    Example::

        >>> nn.GLU()(soma.tensor([[2.0, 4.0, 0.0, 0.0]]))      # σ(0) = ½ gates both values
        tensor([[1., 2.]])
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim)

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)


class _Shrink(Module):
    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(_Shrink):
    """y = x if |x| > λ else 0

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return shrink.hardshrink(input, self.lambd)


class Softshrink(_Shrink):
    """y = x - λ for x > λ, x + λ for x < -λ, 0 between (soft thresholding, the L1 penalty's proximal step)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return shrink.softshrink(input, self.lambd)


class RReLU(Module):
    """The randomized leaky ReLU: y = x for x > 0, else a·x, with a ~ U(lower, upper) drawn per element in
    training (from soma's generator) and a = (lower + upper)/2 in eval.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, randomized.rrelu, input, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")
