"""Batch, layer, RMS and synchronized batch normalization in differentiable primitives.

Each kernel's forward again, in mean / subtract / multiply / rsqrt (notes' notation):

    μ = mean(x),  σ² = mean((x − μ)²),  x̂ = (x − μ)·(σ² + ε)^(−½),  y = γ·x̂ + β

over the kernel's axes: batch norm every axis but the channel (or, in evaluation, the
given running μ, σ², constants); layer norm the trailing ``ndims`` axes; RMS norm
x̂ = x·(mean(x²) + ε)^(−½) with no centering. Synchronized batch norm sums over every
rank with :class:`RankSum`, an all-reduce that is linear in its input (its backward is
the all-reduce of the gradient, every rank's loss counting), so the engine
differentiates it again like any linear op.
"""


from soma.autograd.function import Function
from soma.backend import as_array
from soma.nn.functional.normalization import BatchNorm, LayerNorm, RMSNorm
from soma.nn.parallel.sync_batchnorm import _sum_over_ranks, _SyncBatchNorm
from soma.tensor import Tensor

__all__ = ["RankSum"]


class RankSum(Function):
    """y = Σ_ranks x (every rank gets the sum); ∂L/∂x = Σ_ranks ∂L/∂y: the all-reduce of the gradient."""

    linear = True

    @staticmethod
    def forward(ctx, x, group):
        return _sum_over_ranks(x, group)

    @staticmethod
    def backward(ctx, grad):
        return _sum_over_ranks(grad, ctx.inputs[1]), None


def _normalize(x, mean, var, eps, weight, bias, shape):
    """γ·(x − μ)/√(σ² + ε) + β, γ and β reshaped to broadcast as ``shape``."""
    out = (x - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def _constant(array, shape):
    return Tensor._make(as_array(array).reshape(shape), False)


def _batch_norm(ctx, x, weight, bias, mean, var, eps, use_batch_stats, stats_out=None):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if use_batch_stats:
        mean = x.mean(axes, keepdim=True)
        var = ((x - mean) ** 2).mean(axes, keepdim=True)
    else:  # running statistics: constants
        mean, var = _constant(mean, shape), _constant(var, shape)
    return _normalize(x, mean, var, eps, weight, bias, shape)


def _layer_norm(ctx, x, weight, bias, ndims, eps):
    axes = tuple(range(x.ndim - ndims, x.ndim))
    mean = x.mean(axes, keepdim=True)
    var = ((x - mean) ** 2).mean(axes, keepdim=True)
    return _normalize(x, mean, var, eps, weight, bias, tuple(x.shape[x.ndim - ndims :]))


def _rms_norm(ctx, x, weight, ndims, eps):
    axes = tuple(range(x.ndim - ndims, x.ndim))
    out = x * ((x * x).mean(axes, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def _sync_batch_norm(ctx, x, weight, bias, eps, group, stats_out):
    axes, shape, count = ctx.axes, ctx.shape, ctx.count
    mean = RankSum.apply(x.sum(axes), group).reshape(shape) / count
    var = RankSum.apply(((x - mean) ** 2).sum(axes), group).reshape(shape) / count
    return _normalize(x, mean, var, eps, weight, bias, shape)


BatchNorm.composite = staticmethod(_batch_norm)
LayerNorm.composite = staticmethod(_layer_norm)
RMSNorm.composite = staticmethod(_rms_norm)
_SyncBatchNorm.composite = staticmethod(_sync_batch_norm)
