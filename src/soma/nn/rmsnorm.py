"""RMSNorm: rescale each sample by its root mean square, y = γ·x/√(mean(x²) + ε).

LayerNorm without the mean: it keeps the rescaling (what stabilizes training) and drops the
re-centering and β, one reduction fewer per position; used by most recent Transformers.
"""

from collections.abc import Sequence

import numpy as np

from soma._device import resolve
from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.functional.normalization import rms_norm
from soma.nn.module import Module, Parameter
from soma.tensor import Tensor

__all__ = ["RMSNorm"]


class RMSNorm(Module):
    """y = γ·x/√(mean(x²) + ε), the mean over the trailing ``normalized_shape`` dimensions of each sample.

    Args:
        normalized_shape: the trailing shape normalized over (an int for the last dimension).
        eps: added to mean(x²); None (default) uses the input dtype's machine epsilon, as PyTorch.
        elementwise_affine: learn γ (initialized to ones) of shape ``normalized_shape``.

    Shape:
        input ``(*, *normalized_shape)``, output the same.

    Example::

        >>> nn.RMSNorm(16)(soma.randn(2, 5, 16)).shape
        (2, 5, 16)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None, elementwise_affine: bool = True,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        resolve(device, "RMSNorm")
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, np.dtype(np.float32 if dtype is None else dtype)))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight._array[...] = 1

    def forward(self, x: Tensor) -> Tensor:
        n = len(self.normalized_shape)
        if x.ndim < n or tuple(x.shape[x.ndim - n:]) != self.normalized_shape:
            raise RuntimeError(f"RMSNorm(normalized_shape={self.normalized_shape}) got input of shape "
                               f"{tuple(x.shape)}: expected (*, {', '.join(map(str, self.normalized_shape))})")
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
