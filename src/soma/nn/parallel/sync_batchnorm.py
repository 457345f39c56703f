"""``SyncBatchNorm``: batch normalization over the whole batch of every rank (``torch.nn.SyncBatchNorm``).

With data parallelism each rank sees ``b`` of the ``W·b`` samples of a step; plain
batch norm would normalize with each rank's own ``μ_r, σ²_r``. Synchronized batch
norm takes the statistics over all ``M = Σ_r M_r`` values of a channel (``M_r`` =
rank r's values per channel: batch × spatial positions):

    μ = (1/M) Σ_r Σ x,        σ² = (1/M) Σ_r Σ (x - μ)²          (two all-reduces)

then x̂ = (x - μ)/√(σ² + ε), y = γ·x̂ + β as usual. Backward, with g = ∂L/∂x̂:

    ∂L/∂x = (1/σ̂)·(g - (1/M)Σ_all g - x̂·(1/M)Σ_all g·x̂)            (one all-reduce)

and ∂L/∂γ = Σ g_y·x̂, ∂L/∂β = Σ g_y over this rank's values (DistributedDataParallel
averages those). So W ranks with batch b compute what one process computes with
batch W·b. Outside a process group, or in eval mode, it is plain batch norm.

Example:
    >>> model = SyncBatchNorm.convert_sync_batchnorm(DigitsCNN())   # every BatchNorm*d replaced
    >>> model = DistributedDataParallel(model)
"""

from typing import Any

import numpy as np

from soma import distributed as dist
from soma.autograd.function import Function
from soma.backend import contiguous
from soma.distributed.process_group import _default_group
from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.functional.normalization import _affine_grads, _update_running
from soma.nn.normalization import _BatchNorm
from soma.tensor import Tensor

__all__ = ["SyncBatchNorm"]


def _sum_over_ranks(array, group):
    buffer = Tensor._make(contiguous(array), False)
    dist.all_reduce(buffer, group=group)
    return buffer._array


class _SyncBatchNorm(Function):
    """y = γ·(x - μ)/√(σ² + ε) + β with μ, σ² per channel over every rank's batch"""

    @staticmethod
    def forward(ctx, x, weight, bias, eps, group, stats_out):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        channels = x.shape[1]
        local = np.concatenate([x.sum(axis=axes), [x.size // max(channels, 1)]]).astype(np.float64)
        total = _sum_over_ranks(local, group)
        count = total[-1]
        mean = (total[:-1] / count).astype(x.dtype)
        centered = x - mean.reshape(shape)
        var = (_sum_over_ranks((centered * centered).sum(axis=axes, dtype=np.float64), group) / count)
        var = var.astype(x.dtype)
        stats_out.extend((mean, var, int(count)))
        invstd = 1.0 / np.sqrt(var.reshape(shape) + eps)
        xhat = centered * invstd
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.axes, ctx.shape, ctx.count, ctx.group = axes, shape, float(count), group
        out = xhat * weight.reshape(shape) if weight is not None else xhat
        return out + bias.reshape(shape) if bias is not None else out

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        axes, shape = ctx.axes, ctx.shape
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = grad * weight.reshape(shape) if weight is not None else grad
        sums = np.concatenate([g.sum(axis=axes, dtype=np.float64), (g * xhat).sum(axis=axes, dtype=np.float64)])
        sums = _sum_over_ranks(sums, ctx.group) / ctx.count  # every rank takes part, whatever it needs
        grad_x = None
        if need_x:
            mean_g, mean_gx = (part.astype(g.dtype).reshape(shape) for part in np.split(sums, 2))
            grad_x = invstd * (g - mean_g - xhat * mean_gx)
        grad_w, grad_b = _affine_grads(grad, xhat, need_w, need_b, axes, (-1,))
        return grad_x, grad_w, grad_b, None, None, None


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics span every rank of the process group.

    Args: those of ``BatchNorm2d``, and ``process_group`` (default: the whole group).

    Shape:
        - Input: ``(N, C, *)``.
        - Output: same as input.
    """

    _dims = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group: Any = None, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:
        if not (self.training and dist.is_initialized()):
            return super().forward(input)
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked._array += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._array)
        group = _default_group(self.process_group)
        stats: list[Tensor] = []
        out = _SyncBatchNorm.apply(input, self.weight, self.bias, self.eps, group, stats)
        mean, var, count = stats
        stats.clear()  # an input of the node, kept after its backward: no arrays left in it
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}"
            )
        if self.track_running_stats:
            _update_running(self.running_mean, self.running_var, (mean, var), factor, count)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every ``BatchNorm*d`` replaced by a SyncBatchNorm sharing its parameters and buffers."""
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            tensors = [t for t in (*module._parameters.values(), *module._buffers.values()) if t is not None]
            dtype = next((t.dtype for t in tensors if t.dtype.kind == "f"), None)
            sync = cls(module.num_features, module.eps, module.momentum, module.affine,
                       module.track_running_stats, process_group, dtype=dtype)
            for name, param in module._parameters.items():
                sync.register_parameter(name, param)
            for name, buffer in module._buffers.items():
                sync.register_buffer(name, buffer)
            sync.train(module.training)
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                module.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return module
