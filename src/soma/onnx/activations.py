"""ONNX nodes for soma's activation layers.

An activation is applied elementwise, so each one becomes one ONNX operator when
the opset has it, or the few arithmetic nodes of its formula when it does not
(opset 17 has no Gelu, no Swish, no Mish):

    layer                 ONNX
    ReLU                  Relu
    LeakyReLU(a)          LeakyRelu(alpha=a)
    PReLU                 PRelu(x, a), a reshaped to (C, 1, ...) to broadcast over dim 1
    ELU(a) / CELU(a)      Elu(alpha=a) / Celu(alpha=a)
    SELU                  Selu (ONNX's default α, λ are SELU's)
    Sigmoid / Tanh        Sigmoid / Tanh
    Softsign              Softsign
    Hardsigmoid           HardSigmoid(alpha=1/6, beta=1/2):  clip(x/6 + 1/2, 0, 1)
    Hardswish             x · HardSigmoid(x)
    Hardtanh / ReLU6      Clip(x, min, max)
    Softmax(dim)          Softmax(axis=dim); LogSoftmax likewise; Softmin = Softmax(−x)
    GELU                  ½·x·(1 + Erf(x/√2));  'tanh': ½·x·(1 + Tanh(√(2/π)(x + 0.044715x³)))
    SiLU / Swish(β)       x · Sigmoid(β·x)
    Mish                  x · Tanh(Softplus(x))
    Softplus(β, t)        Where(β·x > t, x, Softplus(β·x)/β)
    LogSigmoid            −Softplus(−x)
    Tanhshrink            x − Tanh(x)
    Threshold(t, v)       Where(x > t, x, v)
    Step(t)               Cast(x ≥ t) to the float dtype (1 or 0)

Every converter has the signature ``convert(graph, module, prefix, x, shape) -> y``:
``x`` and ``y`` are the names of the ONNX values in and out, ``shape`` the input's
shape in the example run, ``prefix`` the module's state_dict prefix.
"""

import numpy as np

from soma import nn

__all__ = ["ACTIVATIONS"]

# The one-operator activations: module type → (ONNX op, its attributes from the module).
_ONE_OPERATOR = {
    nn.ReLU: ("Relu", lambda m: {}),
    nn.Sigmoid: ("Sigmoid", lambda m: {}),
    nn.Tanh: ("Tanh", lambda m: {}),
    nn.SELU: ("Selu", lambda m: {}),
    nn.Softsign: ("Softsign", lambda m: {}),
    nn.LeakyReLU: ("LeakyRelu", lambda m: {"alpha": float(m.negative_slope)}),
    nn.ELU: ("Elu", lambda m: {"alpha": float(m.alpha)}),
    nn.CELU: ("Celu", lambda m: {"alpha": float(m.alpha)}),
    nn.Hardsigmoid: ("HardSigmoid", lambda m: {"alpha": 1 / 6, "beta": 0.5}),
}


def one_operator(graph, module, prefix, x, shape):
    op_type, attributes = _ONE_OPERATOR[type(module)]
    return graph.op(op_type, [x], prefix, **attributes(module))


def prelu(graph, module, prefix, x, shape):
    slope = graph.weight(prefix, "weight", module.weight)
    if module.num_parameters > 1 and len(shape) > 2:  # (C,) → (C, 1, ..., 1): one slope per channel
        target = graph.constant(prefix, "slope_shape", [module.num_parameters] + [1] * (len(shape) - 2), np.int64)
        slope = graph.op("Reshape", [slope, target], prefix)
    return graph.op("PRelu", [x, slope], prefix)


def hardswish(graph, module, prefix, x, shape):
    return graph.op("Mul", [x, graph.op("HardSigmoid", [x], prefix, alpha=1 / 6, beta=0.5)], prefix)


def clip(graph, module, prefix, x, shape):
    low, high = (0.0, 6.0) if type(module) is nn.ReLU6 else (module.min_val, module.max_val)
    return graph.op("Clip", [x, graph.constant(prefix, "min", low), graph.constant(prefix, "max", high)], prefix)


def softmax_dim(module, rank):
    """The axis: ``dim``, or PyTorch's legacy implicit choice when it is None (0 for ranks 0, 1, 3)."""
    if module.dim is not None:
        return module.dim % max(rank, 1)
    return 0 if rank in (0, 1, 3) else 1


def softmax(graph, module, prefix, x, shape):
    axis = softmax_dim(module, len(shape))
    if type(module) is nn.Softmin:
        x = graph.op("Neg", [x], prefix)
    op_type = "LogSoftmax" if type(module) is nn.LogSoftmax else "Softmax"
    return graph.op(op_type, [x], prefix, axis=axis)


def gelu(graph, module, prefix, x, shape):
    def scalar(label, value):
        return graph.constant(prefix, label, value)

    if module.approximate == "tanh":  # √(2/π)·(x + 0.044715·x³)
        cube = graph.op("Mul", [graph.op("Mul", [x, x], prefix), x], prefix)
        inner = graph.op("Add", [x, graph.op("Mul", [cube, scalar("coefficient", 0.044715)], prefix)], prefix)
        curve = graph.op("Tanh", [graph.op("Mul", [inner, scalar("sqrt_2_over_pi", np.sqrt(2 / np.pi))], prefix)],
                         prefix)
    else:  # Φ(x) = ½(1 + erf(x/√2))
        curve = graph.op("Erf", [graph.op("Div", [x, scalar("sqrt_2", np.sqrt(2.0))], prefix)], prefix)
    one_plus = graph.op("Add", [curve, scalar("one", 1.0)], prefix)
    return graph.op("Mul", [graph.op("Mul", [x, one_plus], prefix), scalar("half", 0.5)], prefix)


def swish(graph, module, prefix, x, shape):
    gate_input = x
    if type(module) is nn.Swish and (module.trainable or module.beta != 1.0):
        beta = graph.weight(prefix, "beta", module.beta) if module.trainable else graph.constant(
            prefix, "beta", module.beta)
        gate_input = graph.op("Mul", [x, beta], prefix)
    return graph.op("Mul", [x, graph.op("Sigmoid", [gate_input], prefix)], prefix)


def mish(graph, module, prefix, x, shape):
    return graph.op("Mul", [x, graph.op("Tanh", [graph.op("Softplus", [x], prefix)], prefix)], prefix)


def softplus(graph, module, prefix, x, shape):
    beta = graph.constant(prefix, "beta", module.beta)
    scaled = graph.op("Mul", [x, beta], prefix)
    smooth = graph.op("Div", [graph.op("Softplus", [scaled], prefix), beta], prefix)
    linear = graph.op("Greater", [scaled, graph.constant(prefix, "threshold", module.threshold)], prefix)
    return graph.op("Where", [linear, x, smooth], prefix)


def log_sigmoid(graph, module, prefix, x, shape):
    negative = graph.op("Neg", [x], prefix)
    return graph.op("Neg", [graph.op("Softplus", [negative], prefix)], prefix)


def tanhshrink(graph, module, prefix, x, shape):
    return graph.op("Sub", [x, graph.op("Tanh", [x], prefix)], prefix)


def threshold(graph, module, prefix, x, shape):
    above = graph.op("Greater", [x, graph.constant(prefix, "threshold", module.threshold)], prefix)
    return graph.op("Where", [above, x, graph.constant(prefix, "value", module.value)], prefix)


def step(graph, module, prefix, x, shape):
    fired = graph.op("GreaterOrEqual", [x, graph.constant(prefix, "threshold", module.threshold)], prefix)
    return graph.op("Cast", [fired], prefix, to=graph.onnx.helper.np_dtype_to_tensor_dtype(graph.dtype))


ACTIVATIONS = {
    **dict.fromkeys(_ONE_OPERATOR, one_operator),
    nn.PReLU: prelu,
    nn.Hardswish: hardswish,
    nn.Hardtanh: clip,
    nn.ReLU6: clip,
    nn.Softmax: softmax,
    nn.LogSoftmax: softmax,
    nn.Softmin: softmax,
    nn.GELU: gelu,
    nn.SiLU: swish,
    nn.Swish: swish,
    nn.Mish: mish,
    nn.Softplus: softplus,
    nn.LogSigmoid: log_sigmoid,
    nn.Tanhshrink: tanhshrink,
    nn.Threshold: threshold,
    nn.Step: step,
}
