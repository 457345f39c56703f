"""Normalization layers: BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, GroupNorm, LocalResponseNorm.

Batch normalization (Ioffe & Szegedy): for each channel, x̂ = (x - μ_B)/√(σ²_B + ε)
over the mini-batch, then y = γ·x̂ + β with learned γ (``weight``) and β (``bias``).
During training it also keeps running averages of μ and σ² (buffers
``running_mean``, ``running_var``, ``num_batches_tracked``, the same names as
PyTorch's state_dict), which ``eval()`` mode uses instead of the batch's statistics.
"""

from collections.abc import Sequence

import numpy as np

from soma._errors import ShapeError, check_same_dtype
from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.functional.normalization import batch_norm, group_norm, layer_norm, local_response_norm
from soma.nn.module import Module, empty_parameter
from soma.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "LocalResponseNorm"]


class _NormBase(Module):
    """Shared by BatchNorm1d/2d/3d and InstanceNorm1d/2d/3d (PyTorch's ``_NormBase``): the parameters,
    the running statistics, their reset and the repr.

    Args:
        num_features: C, the number of channels (dim 1 of the input).
        eps: added to σ² for stability (1e-5).
        momentum: weight of the new batch in the running averages (0.1);
            ``None`` for a cumulative (equal-weight) average over all batches seen.
        affine: learn γ and β (initialized to 1 and 0).
        bias: learn β too (keyword-only, as in PyTorch 2.13).
        track_running_stats: keep running statistics; without them the batch's
            statistics are used in eval mode too.
    """

    _dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: DeviceLike | None = None, dtype: DTypeLike | None = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        stat = empty_parameter(num_features, dtype, name, device)  # checks the size, dtype and device
        dtype = stat.dtype
        self.register_parameter("weight", empty_parameter(num_features, dtype, name, fill=1) if affine else None)
        self.register_parameter("bias", empty_parameter(num_features, dtype, name, fill=0) if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._make(np.zeros(num_features, dtype), False))
            self.register_buffer("running_var", Tensor._make(np.ones(num_features, dtype), False))
            self.register_buffer("num_batches_tracked", Tensor._make(np.array(0, np.int64), False))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._array[...] = 0
            self.running_var._array[...] = 1
            self.num_batches_tracked._array[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            self.weight._array[...] = 1
        if self.bias is not None:
            self.bias._array[...] = 0

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Shared by BatchNorm1d/2d/3d, which differ only in the input dimensions they accept."""

    def _check_input(self, input):
        if input.ndim not in self._dims or input.shape[1] != self.num_features:
            expected = " or ".join(
                "(" + ", ".join(["N", str(self.num_features), "L", "H", "W"][:d] if d < 4 else
                                ["N", str(self.num_features)] + ["D", "H", "W"][5 - d:]) + ")"
                for d in self._dims
            )
            raise ShapeError(
                f"{type(self).__name__}(num_features={self.num_features}) got input of shape "
                f"{tuple(input.shape)}: expected {expected}"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        check_same_dtype(type(self).__name__, input=input, weight=self.weight, running_mean=self.running_mean)
        if self.training and input.numel() == self.num_features:
            raise ValueError(f"{type(self).__name__}: Expected more than 1 value per channel when training, got "
                             f"input size {tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._array += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._array)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight, self.bias, use_batch, factor, self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, per channel C (see :class:`_BatchNorm`).

    Shape:
        - Input: ``(N, C)`` or ``(N, C, L)``, C = num_features.
        - Output: the input's shape.

    Example::

        >>> bn = nn.BatchNorm1d(64)
        >>> bn(soma.randn(32, 64)).shape
        (32, 64)
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs, per channel C (see :class:`_BatchNorm`).

    Shape:
        - Input: ``(N, C, H, W)``, C = num_features.
        - Output: the input's shape.
    """

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) inputs, per channel C.

    Shape:
        - Input: ``(N, C, D, H, W)``, C = num_features.
        - Output: the input's shape.
    """

    _dims = (5,)


class LayerNorm(Module):
    """y = γ·(x - μ)/√(σ² + ε) + β with μ, σ² over the last dims of each sample.

    Args:
        normalized_shape: the trailing shape normalized over (an int for the last dim).
        eps: added to σ² (1e-5).
        elementwise_affine: learn γ (ones) and β (zeros) of shape ``normalized_shape``.
        bias: learn β (when elementwise_affine).

    Shape:
        - Input: ``(N, *)`` ending in ``normalized_shape``.
        - Output: the input's shape.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        shape = self.normalized_shape
        weight = empty_parameter(shape, dtype, "LayerNorm", device, fill=1)  # checks the shape, dtype and device
        self.register_parameter("weight", weight if elementwise_affine else None)
        self.register_parameter("bias", empty_parameter(shape, dtype, "LayerNorm", fill=0)
                                if elementwise_affine and bias else None)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight._array[...] = 1
        if self.bias is not None:
            self.bias._array[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        n = len(self.normalized_shape)
        if tuple(input.shape[input.ndim - n:]) != self.normalized_shape or input.ndim < n:
            raise RuntimeError(
                f"LayerNorm(normalized_shape={self.normalized_shape}) got input of shape "
                f"{tuple(input.shape)}: expected (*, {', '.join(map(str, self.normalized_shape))})"
            )
        check_same_dtype("LayerNorm", input=input, weight=self.weight)
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalize each sample over groups of channels: y = γ·x̂ + β per channel.

    Shape:
        - Input: ``(N, C, *)``, C = num_channels (a multiple of num_groups).
        - Output: the input's shape.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        weight = empty_parameter(num_channels, dtype, "GroupNorm", device, fill=1)  # checks size, dtype, device
        self.register_parameter("weight", weight if affine else None)
        self.register_parameter("bias", empty_parameter(num_channels, dtype, "GroupNorm", fill=0)
                                if affine and bias else None)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise RuntimeError(
                f"GroupNorm(num_channels={self.num_channels}) got input of shape {tuple(input.shape)}"
            )
        check_same_dtype("GroupNorm", input=input, weight=self.weight)
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class LocalResponseNorm(Module):
    """b_c = a_c / (k + (α/n)·Σ_{c'} a_{c'}²)^β over the n = ``size`` channels around c (AlexNet's lateral
    inhibition; see :func:`soma.nn.functional.local_response_norm`). No parameters.

    Shape:
        - Input: ``(N, C, *)``, at least 3 dimensions.
        - Output: the input's shape.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
