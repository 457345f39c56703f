"""ONNX nodes for soma's layers: one small converter per family, and the table ``CONVERTERS``.

    layer                          ONNX
    Identity, Dropout*             nothing (eval mode: the identity)
    Linear on (N, in)              Gemm(x, W, b, transB=1):  y = x·Wᵀ + b
    Linear on (N, ..., in)         MatMul(x, Transpose(W)) + b
    Flatten(1, -1)                 Flatten(axis=1); other dims: Reshape (batch dim kept as −1)
    Unflatten(dim ≥ 1)             Reshape
    Conv1d/2d                      Conv(kernel_shape, strides, pads, dilations, group);
                                   'same'/'valid'/int padding become explicit pads
    ConvTranspose1d/2d             ConvTranspose(..., output_padding)
    MaxPool1d/2d                   MaxPool(kernel_shape, strides, pads, dilations, ceil_mode)
    AvgPool1d/2d                   AveragePool(kernel_shape, strides, pads, ceil_mode, count_include_pad)
    AdaptiveAvgPool1d/2d           GlobalAveragePool for output size 1; AveragePool when the
                                   input size is a multiple of the output size
    BatchNorm1d/2d (eval)          BatchNormalization(x, γ, β, running_mean, running_var)
    LayerNorm                      LayerNormalization(x, γ, β, axis=−len(normalized_shape))
    activations                    see :mod:`soma.onnx.activations`

ONNX lists pads as all the "begin" sides, then all the "end" sides:
``[top, left, bottom, right]`` for a 2-D window. A converter has the signature
``convert(graph, module, prefix, x, shape) -> y`` (see :class:`soma.onnx.exporter.Graph`).
"""

import numpy as np

from soma import nn
from soma.nn.functional.conv import same_padding
from soma.onnx.activations import ACTIVATIONS

__all__ = ["CONVERTERS"]


def _unsupported(module, why):
    return NotImplementedError(f"soma.onnx.export: {type(module).__name__} {why}")


def _ints(value, n):
    """An int-or-tuple hyper-parameter as a list of n ints."""
    return [int(v) for v in value] if isinstance(value, (tuple, list)) else [int(value)] * n


def _pads(before_after):
    """[(before, after) per axis] → ONNX's [before..., after...]."""
    return [b for b, _ in before_after] + [a for _, a in before_after]


def _spatial(module, shape, n):
    """Check that a 1-d/2-d layer sees a batch (N, C, *n spatial dims); ONNX has no unbatched form."""
    if len(shape) != n + 2:
        raise _unsupported(module, f"got input of shape {shape}: only batched (N, C, ...) inputs export")
    return n


def identity(graph, module, prefix, x, shape):
    return x


def linear(graph, module, prefix, x, shape):
    weight = graph.weight(prefix, "weight", module.weight)
    bias = [graph.weight(prefix, "bias", module.bias)] if module.bias is not None else []
    if len(shape) == 2:
        return graph.op("Gemm", [x, weight, *bias], prefix, transB=1)
    y = graph.op("MatMul", [x, graph.op("Transpose", [weight], prefix)], prefix)
    return graph.op("Add", [y, *bias], prefix) if bias else y


def _reshape(graph, prefix, x, out_shape):
    """Reshape to ``out_shape`` with dim 0 (which holds the batch) left to ONNX as −1."""
    target = graph.constant(prefix, "shape", [-1, *out_shape[1:]], np.int64)
    return graph.op("Reshape", [x, target], prefix)


def flatten(graph, module, prefix, x, shape):
    rank = len(shape)
    start, end = module.start_dim % rank, module.end_dim % rank
    if start == 1 and end == rank - 1:
        return graph.op("Flatten", [x], prefix, axis=1)
    return _reshape(graph, prefix, x, (*shape[:start], int(np.prod(shape[start:end + 1])), *shape[end + 1:]))


def unflatten(graph, module, prefix, x, shape):
    dim = module.dim % len(shape)
    if dim == 0:
        raise _unsupported(module, "of dim 0 would split the batch dimension")
    sizes = list(module.unflattened_size)
    if -1 in sizes:
        sizes[sizes.index(-1)] = shape[dim] // -int(np.prod(sizes))
    return _reshape(graph, prefix, x, (*shape[:dim], *sizes, *shape[dim + 1:]))


def _conv_pads(module):
    if module.padding == "valid":
        return [0] * len(module.kernel_size) * 2
    if module.padding == "same":
        return _pads([same_padding(k, d) for k, d in zip(module.kernel_size, module.dilation)])
    return _pads([(p, p) for p in module.padding])


def conv(graph, module, prefix, x, shape):
    if module.padding_mode != "zeros":
        raise _unsupported(module, f"with padding_mode={module.padding_mode!r}: only 'zeros' exports")
    _spatial(module, shape, len(module.kernel_size))
    inputs = [x, graph.weight(prefix, "weight", module.weight)]
    if module.bias is not None:
        inputs.append(graph.weight(prefix, "bias", module.bias))
    attributes = dict(kernel_shape=list(module.kernel_size), strides=list(module.stride),
                      pads=_conv_pads(module), dilations=list(module.dilation), group=module.groups)
    if isinstance(module, nn.ConvTranspose1d | nn.ConvTranspose2d):
        return graph.op("ConvTranspose", inputs, prefix, output_padding=list(module.output_padding), **attributes)
    return graph.op("Conv", inputs, prefix, **attributes)


_ONE_DIMENSIONAL = (nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d)


def _window(module, shape):
    """kernel_shape, strides and pads of a pooling layer."""
    n = _spatial(module, shape, 1 if type(module) in _ONE_DIMENSIONAL else 2)
    padding = _ints(module.padding, n)
    return dict(kernel_shape=_ints(module.kernel_size, n), strides=_ints(module.stride, n),
                pads=padding + padding, ceil_mode=int(module.ceil_mode))


def max_pool(graph, module, prefix, x, shape):
    if module.return_indices:
        raise _unsupported(module, "with return_indices=True does not export (a second output)")
    dilations = _ints(module.dilation, len(shape) - 2)
    return graph.op("MaxPool", [x], prefix, dilations=dilations, **_window(module, shape))


def avg_pool(graph, module, prefix, x, shape):
    if getattr(module, "divisor_override", None) is not None:
        raise _unsupported(module, "with divisor_override does not export (AveragePool has no divisor)")
    return graph.op("AveragePool", [x], prefix, count_include_pad=int(module.count_include_pad),
                    **_window(module, shape))


def adaptive_avg_pool(graph, module, prefix, x, shape):
    n = _spatial(module, shape, 1 if type(module) in _ONE_DIMENSIONAL else 2)
    sizes = shape[2:]
    outputs = module.output_size if isinstance(module.output_size, (tuple, list)) else [module.output_size] * n
    wanted = [size if out is None else out for out, size in zip(outputs, sizes)]  # None keeps that size
    if all(out == 1 for out in wanted):
        return graph.op("GlobalAveragePool", [x], prefix)
    if any(size % out for size, out in zip(sizes, wanted)):
        raise _unsupported(module, f"from {tuple(sizes)} to {tuple(wanted)} has unequal bins: only output "
                                   "sizes that divide the input size export (or 1, global pooling)")
    kernel = [size // out for size, out in zip(sizes, wanted)]
    return graph.op("AveragePool", [x], prefix, kernel_shape=kernel, strides=kernel)


def _affine(graph, module, prefix, shape):
    """γ and β as initializers: the module's own, or ones and zeros when it has none."""
    gamma = graph.weight(prefix, "weight", module.weight) if module.weight is not None else graph.constant(
        prefix, "ones", np.ones(shape))
    beta = graph.weight(prefix, "bias", module.bias) if module.bias is not None else graph.constant(
        prefix, "zeros", np.zeros(shape))
    return gamma, beta


def batch_norm(graph, module, prefix, x, shape):
    if module.running_mean is None:
        raise _unsupported(module, "with track_running_stats=False normalizes by batch statistics in eval "
                                   "mode too; export needs running statistics")
    gamma, beta = _affine(graph, module, prefix, (module.num_features,))
    inputs = [x, gamma, beta, graph.weight(prefix, "running_mean", module.running_mean),
              graph.weight(prefix, "running_var", module.running_var)]
    return graph.op("BatchNormalization", inputs, prefix, epsilon=float(module.eps))


def layer_norm(graph, module, prefix, x, shape):
    graph.check_opset(17, "LayerNorm (LayerNormalization)")
    gamma, beta = _affine(graph, module, prefix, module.normalized_shape)
    return graph.op("LayerNormalization", [x, gamma, beta], prefix, axis=-len(module.normalized_shape),
                    epsilon=float(module.eps))


CONVERTERS = {
    **dict.fromkeys((nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d), identity),
    nn.Linear: linear,
    nn.Flatten: flatten,
    nn.Unflatten: unflatten,
    **dict.fromkeys((nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d), conv),
    **dict.fromkeys((nn.MaxPool1d, nn.MaxPool2d), max_pool),
    **dict.fromkeys((nn.AvgPool1d, nn.AvgPool2d), avg_pool),
    **dict.fromkeys((nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d), adaptive_avg_pool),
    **dict.fromkeys((nn.BatchNorm1d, nn.BatchNorm2d), batch_norm),
    nn.LayerNorm: layer_norm,
    **ACTIVATIONS,
}
