"""``soma.nn.functional`` (``F``): the functional form of every layer, loss and activation.

The functions live beside their ``Function`` classes in :mod:`soma.ops`; this module
gathers them under PyTorch's names (``F.linear``, ``F.conv2d``, ``F.cross_entropy``, ...).
It exports functions only: the autograd node classes (``Linear``, ``NLLLoss``, ...) stay
in :mod:`soma.ops`. Beyond PyTorch's names it has the notes' step activation
(``heaviside``/``step``), ``identity``, and the recurrent cells and layers that
``nn.RNN``/``nn.LSTM``/``nn.GRU`` run (``rnn_tanh_cell``, ``lstm_layer``, ...).
"""

from soma.ops.activation import (
    celu,
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    heaviside,
    identity,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    selu,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softsign,
    step,
    tanh,
    tanhshrink,
    threshold,
)
from soma.ops.attention import scaled_dot_product_attention
from soma.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from soma.ops.dropout import dropout, dropout1d, dropout2d, dropout3d
from soma.ops.fold import fold, unfold
from soma.ops.indexing import one_hot
from soma.ops.interpolate import (  # every mode, not pooling's nearest-only interpolate
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from soma.ops.linear import bilinear, embedding, linear
from soma.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
)
from soma.ops.normalization import batch_norm, group_norm, instance_norm, layer_norm, rms_norm
from soma.ops.pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from soma.ops.recurrent import gru_cell, gru_layer, lstm_cell, lstm_layer, rnn_layer, rnn_relu_cell, rnn_tanh_cell
from soma.ops.shape import pad

__all__ = [
    # activations
    "celu", "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "leaky_relu", "log_softmax", "logsigmoid",
    "mish", "prelu", "relu", "relu6", "relu_", "selu", "sigmoid", "silu", "softmax", "softmin", "softplus",
    "softsign", "tanh", "tanhshrink", "threshold", "heaviside", "step", "identity",
    # layers
    "linear", "bilinear", "embedding", "one_hot", "pad", "scaled_dot_product_attention",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "fold", "unfold",
    "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "interpolate", "upsample", "upsample_bilinear", "upsample_nearest", "pixel_shuffle", "pixel_unshuffle",
    "dropout", "dropout1d", "dropout2d", "dropout3d",
    "batch_norm", "group_norm", "instance_norm", "layer_norm", "rms_norm",
    "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "rnn_layer", "lstm_layer", "gru_layer",
    # losses
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "kl_div",
    "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss", "soft_margin_loss",
]
