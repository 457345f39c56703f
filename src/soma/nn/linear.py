"""Fully connected layers and shape helpers: Identity, Linear, Bilinear, Flatten, Unflatten.

A layer of artificial neurons (see notes 000 and 004): every output neuron k computes
``zₖ = Σᵢ wₖᵢxᵢ + bₖ``; for a batch, ``z = x·Wᵀ + b``.
"""

import math
from collections.abc import Sequence
from typing import Any

from soma.nn import init
from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.functional.affine import bilinear, linear
from soma.nn.module import Module, empty_parameter
from soma.ops.shape import flatten, unflatten
from soma.tensor import Tensor

__all__ = ["Identity", "Linear", "Bilinear", "Flatten", "Unflatten"]


class Identity(Module):
    """y = x (a placeholder that accepts and ignores any constructor arguments).

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x·Wᵀ + b: a layer of ``out_features`` neurons each seeing ``in_features`` inputs.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (float32 by default).

    Shape:
        input ``(*, in_features)``, output ``(*, out_features)``.

    Attributes:
        weight: ``(out_features, in_features)``, initialized U(-1/√in_features, 1/√in_features)
            (``kaiming_uniform_`` with ``a=√5``, as PyTorch).
        bias: ``(out_features,)``, initialized U(-1/√in_features, 1/√in_features).

    Example::

        >>> layer = nn.Linear(784, 128)
        >>> layer(soma.randn(32, 784)).shape
        (32, 128)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = empty_parameter((out_features, in_features), dtype, "Linear", device)
        self.register_parameter("bias", empty_parameter(out_features, dtype, "Linear", device) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.fan_in_uniform_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise RuntimeError(
                f"Linear(in_features={self.in_features}) got input of shape {tuple(shape)}: "
                f"expected (*, {self.in_features})"
            )
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """yₖ = x₁ᵀ Aₖ x₂ + bₖ

    Args:
        in1_features, in2_features: sizes of the two inputs.
        out_features: size of the output.
        bias: learn an additive bias (default True).

    Attributes:
        weight: ``(out_features, in1_features, in2_features)``, U(-1/√in1, 1/√in1).
        bias: ``(out_features,)``, U(-1/√in1, 1/√in1).

    Shape:
        - Input1: ``(*, in1_features)``; Input2: ``(*, in2_features)``, the same leading dims.
        - Output: ``(*, out_features)``.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = empty_parameter((out_features, in1_features, in2_features), dtype, "Bilinear", device)
        self.register_parameter("bias", empty_parameter(out_features, dtype, "Bilinear", device) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        if input1.shape[-1] != self.in1_features or input2.shape[-1] != self.in2_features:
            raise RuntimeError(
                f"Bilinear(in1_features={self.in1_features}, in2_features={self.in2_features}) got "
                f"inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)}"
            )
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    """Flattens dimensions ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C·H·W).

    Shape:
        - Input: ``(*, S_start, ..., S_end, *)``.
        - Output: ``(*, S_start·...·S_end, *)``.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dimension ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28).

    Shape:
        - Input: ``(*, S_dim, *)`` with S_dim = Π unflattened_size.
        - Output: ``(*, U₁, ..., U_n, *)``, U = unflattened_size.
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        sizes = tuple(self.unflattened_size)
        dim = self.dim if self.dim >= 0 else self.dim + input.ndim
        if 0 <= dim < input.ndim and -1 not in sizes and math.prod(sizes) != input.shape[dim]:
            raise RuntimeError(f"Unflatten(dim={self.dim}, unflattened_size={sizes}) got input of shape "
                               f"{tuple(input.shape)}: the sizes must multiply to the size of dim {self.dim}")
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
