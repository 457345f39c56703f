"""``torch.nn.modules.activation``'s import path for soma's own classes
(defined in ``soma.nn.activation``, ``soma.nn.attention``).

Not in soma: RReLU, GLU, Hardshrink, Softshrink, Softmax2d.
"""

from soma.nn.activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from soma.nn.attention import MultiheadAttention

__all__ = [
    "Threshold", "ReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid", "Tanh", "SiLU", "Mish", "Hardswish", "ELU",
    "CELU", "SELU", "GELU", "LeakyReLU", "LogSigmoid", "Softplus", "MultiheadAttention", "PReLU", "Softsign",
    "Tanhshrink", "Softmin", "Softmax", "LogSoftmax",
]
