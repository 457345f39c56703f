"""``soma.nn.functional`` (``F``): the neural-network kernels, the functional form of every layer.

soma has two tiers, as PyTorch splits ``torch`` and ``torch.nn.functional``:

* :mod:`soma.ops`: tensor algebra, what ``Tensor``'s methods and ``soma.*`` run
  (arithmetic, reductions, shapes, indexing, linear algebra, sorting, ...);
* this package: the kernels of neural-network layers, built on that algebra, one family a
  module, each ``Function`` (the graph node, with its backward beside its forward) next to
  its functional wrapper: :mod:`.conv` (and :mod:`.conv_algorithms`), :mod:`.pooling`,
  :mod:`.loss` (and :mod:`.embedding_losses`, :mod:`.likelihood_losses`), :mod:`.normalization`,
  :mod:`.dropouts`, :mod:`.activation` (and :mod:`.shrink`, :mod:`.randomized`: rrelu, gumbel_softmax),
  :mod:`.distance`, :mod:`.attention`, :mod:`.affine` (linear, bilinear, embedding), :mod:`.patches`
  (fold/unfold), :mod:`.resampling` (interpolate, pixel shuffle), :mod:`.recurrent`,
  and :mod:`.decomp` (the same kernels in primitives, for higher-order gradients).

This namespace exports functions only, under PyTorch's names (``F.linear``,
``F.conv2d``, ``F.cross_entropy``, ...); the node classes stay in their modules. Beyond
PyTorch's names it has the notes' step activation (``heaviside``/``step``),
``identity``, and the recurrent cells and layers that ``nn.RNN``/``nn.LSTM``/``nn.GRU``
run (``rnn_tanh_cell``, ``lstm_layer``, ...).
"""

from soma.nn.functional.activation import (
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    heaviside,
    identity,
    leaky_relu,
    leaky_relu_,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    selu,
    selu_,
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
    threshold_,
)
from soma.nn.functional.attention import scaled_dot_product_attention
from soma.nn.functional.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from soma.nn.functional.dropouts import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from soma.nn.functional.distance import cosine_similarity, normalize, pairwise_distance, pdist
from soma.nn.functional.randomized import gumbel_softmax, rrelu, rrelu_
from soma.nn.functional.shrink import hardshrink, softshrink
from soma.nn.functional.patches import fold, unfold
from soma.ops.indexing import one_hot
from soma.nn.functional.resampling import (
    channel_shuffle,
    interpolate,
    native_channel_shuffle,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from soma.nn.functional.affine import bilinear, embedding, linear
from soma.nn.functional.bags import embedding_bag
from soma.nn.functional.sampling import affine_grid, grid_sample
from soma.nn.functional.embedding_losses import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from soma.nn.functional.likelihood_losses import ctc_loss, gaussian_nll_loss, poisson_nll_loss
from soma.nn.functional.loss import (
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
from soma.nn.functional.normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    rms_norm,
)
from soma.nn.functional.adaptive_pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
)
from soma.nn.functional.pooling import (
    avg_pool1d,
    avg_pool2d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool2d_with_indices,
    max_unpool1d,
    max_unpool2d,
)
from soma.nn.functional.recurrent import (
    gru_cell,
    gru_layer,
    lstm_cell,
    lstm_layer,
    rnn_layer,
    rnn_relu_cell,
    rnn_tanh_cell,
)
from soma.ops.shape import pad

__all__ = [
    # activations
    "celu", "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "leaky_relu", "log_softmax", "logsigmoid",
    "mish", "prelu", "relu", "relu6", "relu_", "selu", "sigmoid", "silu", "softmax", "softmin", "softplus",
    "softsign", "tanh", "tanhshrink", "threshold", "heaviside", "step", "identity",
    "celu_", "elu_", "hardtanh_", "leaky_relu_", "selu_", "threshold_", "glu", "hardshrink", "softshrink", "rrelu",
    "rrelu_", "gumbel_softmax",
    # layers
    "linear", "bilinear", "embedding", "embedding_bag", "one_hot", "pad", "scaled_dot_product_attention",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "fold", "unfold",
    "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices", "max_pool1d_with_indices", "max_pool2d_with_indices", "lp_pool1d",
    "lp_pool2d", "max_unpool1d", "max_unpool2d",
    "interpolate", "upsample", "upsample_bilinear", "upsample_nearest", "pixel_shuffle", "pixel_unshuffle",
    "channel_shuffle", "native_channel_shuffle", "affine_grid", "grid_sample",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "cosine_similarity", "pairwise_distance", "pdist", "normalize",
    "batch_norm", "group_norm", "instance_norm", "layer_norm", "rms_norm", "local_response_norm",
    "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "rnn_layer", "lstm_layer", "gru_layer",
    # losses
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "kl_div",
    "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss", "soft_margin_loss",
    "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
    "gaussian_nll_loss", "poisson_nll_loss", "ctc_loss",
]
