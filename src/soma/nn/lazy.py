"""Lazy layers: LazyLinear, LazyConv1d/2d, LazyConvTranspose1d/2d, LazyBatchNorm1d/2d/3d.

A lazy layer leaves its input size (in_features, in_channels, num_features) to be read off the first
input: its weights start as :class:`UninitializedParameter` (and running statistics as
:class:`UninitializedBuffer`), the first forward gives them their shapes and PyTorch's initialization, and
the layer becomes the plain one (``type(layer) is nn.Linear`` afterwards), as in PyTorch. The parameter
objects stay the same ones, so an optimizer built before that first forward still trains them (PyTorch
asks for the dry run first; soma does not need it). Loading a state_dict into a lazy layer gives the
weights the checkpoint's shapes.
"""

from typing import Any

import numpy as np

from soma.nn.common_types import DeviceLike, DTypeLike, _size_any_t
from soma.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from soma.nn.linear import Linear
from soma.nn.module import Parameter
from soma.nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from soma.tensor import Tensor

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "LazyLinear", "LazyConv1d",
           "LazyConv2d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d"]


class _Uninitialized:
    """A tensor with no shape yet: ``materialize(shape)`` gives it one (and its final class)."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None):
        dtype = self._array.dtype if dtype is None else np.dtype(dtype)
        self._array = np.empty(tuple(shape), dtype, like=self._array)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def __repr__(self):
        return f"<{type(self).__name__}>"


class UninitializedParameter(_Uninitialized, Parameter):
    __slots__ = ()
    cls_to_become = Parameter


class UninitializedBuffer(_Uninitialized, Tensor):
    __slots__ = ()
    cls_to_become = Tensor


def _uninitialize(module, names):
    for name in names:
        tensor = getattr(module, name, None)
        if tensor is not None:
            tensor.__class__ = UninitializedParameter if isinstance(tensor, Parameter) else UninitializedBuffer


def _infer_on_first_call(module, args):
    module.initialize_parameters(*args)
    if not module.has_uninitialized_params():
        module._lazy_hook.remove()
        del module._lazy_hook
        module.__class__ = module.cls_to_become


class LazyModuleMixin:
    """What the lazy layers share: the first forward's pre-hook that shapes, initializes and converts them."""

    cls_to_become: type | None = None
    _lazy_names: tuple[str, ...] = ("weight", "bias")

    def _make_lazy(self):
        _uninitialize(self, self._lazy_names)
        self._lazy_hook = self.register_forward_pre_hook(_infer_on_first_call)

    def has_uninitialized_params(self):
        tensors = [*self._parameters.values(), *self._buffers.values()]
        return any(isinstance(t, _Uninitialized) for t in tensors)

    def reset_parameters(self):
        if not self.has_uninitialized_params():
            super().reset_parameters()

    def _materialize(self, shapes):
        """Give the uninitialized tensors their shapes and PyTorch's initial values (none left: nothing to do)."""
        if not self.has_uninitialized_params():
            return
        for name, shape in shapes.items():
            tensor = getattr(self, name, None)
            if isinstance(tensor, _Uninitialized):
                tensor.materialize(shape)
        self.reset_parameters()


class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`~soma.nn.Linear` whose ``in_features`` is the last size of its first input.

    Shape: (*, H_in) → (*, out_features).
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(0, out_features, bias, device, dtype)
        self._make_lazy()

    def initialize_parameters(self, input, *args):
        self.in_features = int(input.shape[-1])  # (also after a state_dict gave the weights their shapes)
        self._materialize({"weight": (self.out_features, self.in_features), "bias": (self.out_features,)})


class _LazyConv(LazyModuleMixin):
    def __init__(self, out_channels: int, kernel_size: _size_any_t, *args: Any, **kwargs: Any) -> None:
        super().__init__(0, out_channels, kernel_size, *args, **kwargs)  # type: ignore[call-arg]
        self._make_lazy()

    def initialize_parameters(self, input, *args):
        batched = input.ndim == self._spatial + 2
        self.in_channels = int(input.shape[1] if batched else input.shape[0])
        if self.in_channels % self.groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({self.in_channels}) must be divisible by groups "
                             f"({self.groups})")
        out, groups = self.out_channels, self.groups
        lead = (self.in_channels, out // groups) if self._transposed else (out, self.in_channels // groups)
        self._materialize({"weight": (*lead, *self.kernel_size), "bias": (out,)})


class LazyConv1d(_LazyConv, Conv1d):
    """A :class:`~soma.nn.Conv1d` whose ``in_channels`` is read off its first input.

    Shape: (N, C_in, L) or (C_in, L) → (N, out_channels, L_out), as Conv1d.
    """

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """A :class:`~soma.nn.Conv2d` whose ``in_channels`` is read off its first input.

    Shape: (N, C_in, H, W) or (C_in, H, W) → (N, out_channels, H_out, W_out), as Conv2d.
    """

    cls_to_become = Conv2d


class LazyConvTranspose1d(_LazyConv, ConvTranspose1d):
    """A :class:`~soma.nn.ConvTranspose1d` whose ``in_channels`` is read off its first input.
    Shape: as ConvTranspose1d."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConv, ConvTranspose2d):
    """A :class:`~soma.nn.ConvTranspose2d` whose ``in_channels`` is read off its first input.
    Shape: as ConvTranspose2d."""

    cls_to_become = ConvTranspose2d


class _LazyBatchNorm(LazyModuleMixin):
    _lazy_names = ("weight", "bias", "running_mean", "running_var")

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype)  # type: ignore[call-arg]
        self._make_lazy()

    def initialize_parameters(self, input, *args):
        self.num_features = int(input.shape[1] if input.ndim > 1 else input.shape[0])
        self._materialize({name: (self.num_features,) for name in self._lazy_names})


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """A :class:`~soma.nn.BatchNorm1d` whose ``num_features`` is read off its first input. Shape: as BatchNorm1d."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """A :class:`~soma.nn.BatchNorm2d` whose ``num_features`` is read off its first input. Shape: as BatchNorm2d."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    """A :class:`~soma.nn.BatchNorm3d` whose ``num_features`` is read off its first input. Shape: as BatchNorm3d."""

    cls_to_become = BatchNorm3d
