"""Normalization: F.batch_norm (over the batch, per channel) and F.layer_norm (over features, per sample).

Both compute x̂ = (x - μ)/√(σ² + ε) and y = γ·x̂ + β; they differ only in which
axes μ and σ² are taken over: batch norm over every axis but the channel axis 1
((N, C), (N, C, L), (N, C, H, W) all work, so BatchNorm1d and BatchNorm2d share it),
layer norm over the trailing ``normalized_shape`` axes.

Each is one fused node. With M the number of elements averaged and g = ∂L/∂x̂:
``∂L/∂x = (1/σ̂)·(g - mean(g) - x̂·mean(g·x̂))`` (the mean over the normalized axes),
``∂L/∂γ = Σ ∂L/∂y·x̂``, ``∂L/∂β = Σ ∂L/∂y``.
"""

import math

import numpy as np

from soma._errors import ShapeError, check_floating, check_same_dtype
from soma.autograd.function import Function, mark_dirty
from soma.ops._common import raw as _raw
from soma.ops.shape import pad

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "BatchNorm", "LayerNorm"]


def _affine_grads(grad, xhat, need_w, need_b, axes, shape):
    """∂L/∂γ = Σ g·x̂ and ∂L/∂β = Σ g over ``axes``, reshaped to the parameter ``shape``."""
    grad_w = (grad * xhat).sum(axis=axes).reshape(shape) if need_w else None
    grad_b = grad.sum(axis=axes).reshape(shape) if need_b else None
    return grad_w, grad_b


def _normalized_input_grad(g, xhat, invstd, axes):
    """∂L/∂x from g = ∂L/∂x̂ when μ and σ² were computed over ``axes``."""
    mean_g = g.mean(axis=axes, keepdims=True)
    mean_gx = (g * xhat).mean(axis=axes, keepdims=True)
    return invstd * (g - mean_g - xhat * mean_gx)


class BatchNorm(Function):
    """y = γ·(x - μ)/√(σ² + ε) + β per channel (axis 1), with batch statistics or given ones"""

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps, use_batch_stats, stats_out=None):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if use_batch_stats:
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)
            if stats_out is not None:  # hand the batch statistics to the running-average update
                stats_out.extend((mean.reshape(-1), var.reshape(-1)))
        else:
            centered = x - mean.reshape(shape)
            var = var.reshape(shape)
        invstd = 1.0 / np.sqrt(var + eps)
        xhat = centered * invstd
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.axes, ctx.shape, ctx.use_batch_stats = axes, shape, use_batch_stats
        out = xhat * weight.reshape(shape) if weight is not None else xhat
        if bias is not None:
            out = out + bias.reshape(shape)
        return out

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        axes, shape = ctx.axes, ctx.shape
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = None
        if need_x:
            g = grad * weight.reshape(shape) if weight is not None else grad
            # batch statistics depend on x; fixed (running) statistics do not: ∂x̂/∂x = 1/σ̂
            grad_x = _normalized_input_grad(g, xhat, invstd, axes) if ctx.use_batch_stats else g * invstd
        grad_w, grad_b = _affine_grads(grad, xhat, need_w, need_b, axes, (-1,))
        return grad_x, grad_w, grad_b, None, None, None, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """F.batch_norm over (N, C, *): normalize each channel with the batch's statistics (training)
    or with ``running_mean``/``running_var`` (evaluation).

    In training, the running statistics (when given) are updated in place:
    ``running = (1 - momentum)·running + momentum·batch`` with the unbiased batch variance.
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    channels = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (channels,):
            raise RuntimeError(
                f"batch_norm: {name} of shape {tuple(value.shape)} does not match the {channels} "
                f"channels of input {tuple(input.shape)}"
            )
    check_floating("batch_norm", input)
    check_same_dtype("batch_norm", input=input, weight=weight, bias=bias, running_mean=running_mean,
                     running_var=running_var)
    count = input._array.size // max(channels, 1)
    if training and count == 1:
        raise ValueError(
            f"batch_norm: Expected more than 1 value per channel when training, got input size {tuple(input.shape)}"
        )
    use_batch_stats = training or running_mean is None or running_var is None
    # an empty batch gives an empty output and leaves the running statistics alone, as PyTorch
    update = training and running_mean is not None and running_var is not None and count > 0
    stats = [] if update else None
    out = BatchNorm.apply(input, weight, bias, _raw(running_mean), _raw(running_var), eps,
                          use_batch_stats, stats)
    if update:
        _update_running(running_mean, running_var, stats, momentum, count)
        stats.clear()  # the list is one of the node's inputs, which outlive its backward: no arrays left in it
    return out


def _update_running(running_mean, running_var, stats, momentum, count):
    mean, var = stats
    m = momentum
    running_mean._array *= 1 - m
    running_mean._array += m * mean.astype(running_mean.dtype)
    running_var._array *= 1 - m
    running_var._array += (m * count / (count - 1)) * var.astype(running_var.dtype)
    mark_dirty(running_mean, running_var)


class LayerNorm(Function):
    """y = γ·(x - μ)/√(σ² + ε) + β with μ, σ² over the trailing ``len(γ.shape)`` axes"""

    @staticmethod
    def forward(ctx, x, weight, bias, ndims, eps):
        axes = tuple(range(x.ndim - ndims, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        invstd = 1.0 / np.sqrt(var + eps)
        xhat = centered * invstd
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.axes = axes
        out = xhat * weight if weight is not None else xhat
        if bias is not None:
            out = out + bias
        return out

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = None
        if need_x:
            g = grad * weight if weight is not None else grad
            grad_x = _normalized_input_grad(g, xhat, invstd, ctx.axes)
        batch_axes = tuple(range(grad.ndim - len(ctx.axes)))
        shape = xhat.shape[grad.ndim - len(ctx.axes):]
        grad_w, grad_b = _affine_grads(grad, xhat, need_w, need_b, batch_axes, shape)
        return grad_x, grad_w, grad_b, None, None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """F.layer_norm: normalize each sample over its last ``len(normalized_shape)`` dimensions."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    ndims = len(normalized_shape)
    if tuple(input.shape[input.ndim - ndims:]) != normalized_shape or input.ndim < ndims:
        raise RuntimeError(
            f"layer_norm: expected input with shape (*, {', '.join(map(str, normalized_shape))}), "
            f"got {tuple(input.shape)}"
        )
    check_floating("layer_norm", input)
    check_same_dtype("layer_norm", input=input, weight=weight, bias=bias)
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != normalized_shape:
            raise RuntimeError(
                f"layer_norm: {name} of shape {tuple(value.shape)} does not match normalized_shape "
                f"{normalized_shape}"
            )
    return LayerNorm.apply(input, weight, bias, ndims, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """F.group_norm: split the C channels into groups and layer-normalize each (sample, group)."""
    n, channels = input.shape[:2]
    if channels % num_groups:
        raise ShapeError(f"group_norm: {channels} channels are not divisible by num_groups={num_groups}")
    check_floating("group_norm", input)
    check_same_dtype("group_norm", input=input, weight=weight, bias=bias)
    grouped = input.reshape(n, num_groups, math.prod(input.shape[1:]) // num_groups)  # n may be 0
    normalized = LayerNorm.apply(grouped, None, None, 1, eps).reshape(input.shape)
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        normalized = normalized * weight.reshape(shape)
    if bias is not None:
        normalized = normalized + bias.reshape(shape)
    return normalized


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """F.instance_norm over (N, C, *): normalize each (sample, channel) over its positions.

    With ``use_input_stats`` (training) μ and σ² are each instance's own; the running statistics,
    when given, are updated in place with their mean over the batch, as PyTorch's:
    ``running_mean = (1 - m)·running_mean + m·meanₙ(μₙ)`` and the same for ``running_var`` with
    the unbiased per-instance variances σ²ₙ·M/(M - 1), M positions. Without ``use_input_stats``
    every instance is normalized with ``running_mean``/``running_var`` per channel (evaluation).
    """
    if (running_mean is None) != (running_var is None):
        raise ValueError("instance_norm: running_mean and running_var must either both be None or neither be None")
    if input.ndim < 2:
        raise ShapeError(f"instance_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    check_floating("instance_norm", input)
    channels = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (channels,):
            raise RuntimeError(f"instance_norm: {name} of shape {tuple(value.shape)} does not match the {channels} "
                               f"channels of input {tuple(input.shape)}")
    check_same_dtype("instance_norm", input=input, weight=weight, bias=bias, running_mean=running_mean,
                     running_var=running_var)
    if not use_input_stats:
        if running_mean is None:
            raise RuntimeError("instance_norm: expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    count = math.prod(input.shape[2:])
    if count <= 1:  # one value per (sample, channel): variance 0/0
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input of shape "
                         f"{tuple(input.shape)} (N, C, *spatial)")
    out = group_norm(input, channels, weight, bias, eps)
    if running_mean is not None and input.shape[0]:  # an empty batch leaves them alone (PyTorch's become NaN)
        x = _raw(input).reshape(input.shape[0], channels, count)
        mean = x.mean(axis=2)
        centered = x - mean[..., None]
        var = (centered * centered).mean(axis=2)
        _update_running(running_mean, running_var, (mean.mean(axis=0), var.mean(axis=0)), momentum, count)
    return out


class RMSNorm(Function):
    """y = γ·x/√(mean(x²) + ε) over the trailing ``ndims`` axes (no centering, no β)"""

    @staticmethod
    def forward(ctx, x, weight, ndims, eps):
        axes = tuple(range(x.ndim - ndims, x.ndim))
        inv_rms = 1.0 / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
        xhat = x * inv_rms
        ctx.save_for_backward(xhat, inv_rms, weight)
        ctx.axes = axes
        return xhat * weight if weight is not None else xhat

    @staticmethod
    def backward(ctx, grad):
        # with g = ∂L/∂x̂: ∂L/∂x = (g - x̂·mean(g·x̂)) / rms;  ∂L/∂γ = Σ ∂L/∂y·x̂
        xhat, inv_rms, weight = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[:2]
        grad_x = grad_w = None
        if need_x:
            g = grad * weight if weight is not None else grad
            grad_x = inv_rms * (g - xhat * (g * xhat).mean(axis=ctx.axes, keepdims=True))
        if need_w:
            batch_axes = tuple(range(grad.ndim - len(ctx.axes)))
            grad_w, _ = _affine_grads(grad, xhat, True, False, batch_axes, xhat.shape[grad.ndim - len(ctx.axes):])
        return grad_x, grad_w, None, None


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """F.rms_norm: y = γ·x/√(mean(x²) + ε) over the last ``len(normalized_shape)`` dimensions.

    ``eps`` defaults to the machine epsilon of the input's dtype (``torch.finfo(dtype).eps``), as PyTorch.
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    ndims = len(normalized_shape)
    if input.ndim < ndims or tuple(input.shape[input.ndim - ndims:]) != normalized_shape:
        raise RuntimeError(
            f"rms_norm: expected input with shape (*, {', '.join(map(str, normalized_shape))}), "
            f"got {tuple(input.shape)}"
        )
    if weight is not None and tuple(weight.shape) != normalized_shape:
        raise RuntimeError(f"rms_norm: weight of shape {tuple(weight.shape)} does not match normalized_shape "
                           f"{normalized_shape}")
    check_floating("rms_norm", input)
    eps = float(np.finfo(input.dtype).eps) if eps is None else float(eps)
    return RMSNorm.apply(input, weight, ndims, eps)


__all__ += ["RMSNorm", "rms_norm"]


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """F.local_response_norm over (N, C, *): each channel divided by its neighbours' energy across channels.

    ``b_c = a_c / (k + (α/n)·Σ_{c'} a_{c'}²)^β`` with n = ``size`` and c' running over the channels
    c - ⌊n/2⌋ … c + ⌊(n-1)/2⌋ (channels past the edges count as 0, the sum is still divided by n), as
    AlexNet's lateral inhibition. Composed of differentiable ops, so autograd gives its gradient.
    """
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions, shape {tuple(input.shape)})")
    if input.numel() == 0:
        return input
    if size < 1:
        raise RuntimeError(f"local_response_norm: size (the window over channels) must be at least 1, got {size}")
    channels = input.shape[1]
    widths = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    squares = pad(input * input, widths)  # zero channels beyond both edges
    window = squares[:, 0:channels]
    for shift in range(1, size):
        window = window + squares[:, shift:shift + channels]
    # the mean over the window, truncated for an integer input as PyTorch's average pooling of integers
    mean = window // size if input.dtype.kind in "iu" else window / size
    return input / (mean * alpha + k) ** beta


__all__ += ["local_response_norm"]
