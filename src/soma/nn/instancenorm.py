"""Instance normalization layers: InstanceNorm1d, InstanceNorm2d, InstanceNorm3d.

Instance normalization (Ulyanov et al.) normalizes each sample's channel on its own:
x̂ₙ꜀ = (xₙ꜀ - μₙ꜀)/√(σ²ₙ꜀ + ε) with μ, σ² over the positions (L, H·W or D·H·W) of sample n,
channel c, then y = γ·x̂ + β with γ (``weight``) and β (``bias``) learned per channel when
``affine``. It is batch norm of a batch of one, so a style or contrast of one image does not
leak into another's. With ``track_running_stats`` training also keeps running averages of μ and
σ² (the mean over the batch of each instance's statistics), and ``eval()`` normalizes with them.
"""

import warnings

from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.functional.normalization import instance_norm
from soma.nn.normalization import _NormBase
from soma.tensor import Tensor

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    """Shared by InstanceNorm1d/2d/3d, which differ in the number of spatial dims.

    Args:
        num_features: C, the number of channels.
        eps: added to σ² for stability (1e-5).
        momentum: weight of the new batch in the running averages (0.1); ``None`` leaves
            them as they are (as PyTorch's, which passes 0 for it).
        affine: learn γ and β per channel (initialized to 1 and 0); off by default.
        track_running_stats: keep running statistics and use them in eval mode; off by default.
        bias: learn β too (keyword-only).
    """

    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        name, unbatched = type(self).__name__, self._spatial + 1
        if input.ndim not in (unbatched, unbatched + 1):
            raise ValueError(f"{name}: expected {unbatched}D or {unbatched + 1}D input (got {input.ndim}D input "
                             f"of shape {tuple(input.shape)})")
        channel_dim = input.ndim - unbatched
        if input.shape[channel_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}: expected input's size at dim={channel_dim} to match num_features "
                                 f"({self.num_features}), but got: {input.shape[channel_dim]} (input of shape "
                                 f"{tuple(input.shape)})")
            warnings.warn(f"{name}: input's size at dim={channel_dim} does not match num_features. You can silence "
                          "this warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=2)
        batched = input if input.ndim > unbatched else input.unsqueeze(0)
        out = instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return out if input.ndim > unbatched else out.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or unbatched (C, L) inputs (see :class:`_InstanceNorm`).

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``, C = num_features.
        - Output: the input's shape.

    Example::

        >>> nn.InstanceNorm1d(4)(soma.randn(2, 4, 10)).shape
        (2, 4, 10)
    """

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or unbatched (C, H, W) inputs.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``, C = num_features.
        - Output: the input's shape.
    """

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or unbatched (C, D, H, W) inputs.

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, C = num_features.
        - Output: the input's shape.
    """

    _spatial = 3
