"""Differential fuzz of the layers: every nn layer, activation, loss and F.* function on valid and invalid
inputs, run in soma and in PyTorch (the same weights, copied by name), which must agree.

Each case is one layer or function and one mutation of a valid input: batch 0 and 1, an empty sequence,
no batch dimension, an extra dimension, the wrong channel or feature count, int64 or float64 instead of
float32, NaN/Inf, a non-contiguous (transposed) view. hypothesis (derandomized) draws the batch size and
the values. They agree when both raise (soma's exception an instance of torch's, its message naming the
layer), or both return outputs of the same shape, dtype and values, with the same input and parameter
gradients. ``make fuzz`` prints the tally: ``layer fuzz: N cases, K disagreements``; the cases in
``INTENTIONAL`` are documented differences, each with its reason, counted apart (any other one fails the test).

For elementwise layers on NaN/Inf input, torch's outcome is taken with the values placed where PyTorch's
vectorized CPU loop computes them (``_torch_vectorized``): its scalar remainder loop disagrees with it on some
NaN gradients, so torch's own answer would otherwise depend on where in the tensor the NaN happened to fall.
"""

import zlib

import numpy as np
import pytest
import torch
from fuzz_common import Raised, attempt, compare, flatten, record
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import soma

# input kinds: x (float32 normal), prob (in (0, 1)), sign (±1), w (a float32 argument never mutated),
# index (int64 below `high`); shapes may hold "N" (batch) and "T" (sequence length)


def X(*shape):
    return ("x", shape)


def P(*shape):
    return ("prob", shape)


def S(*shape):
    return ("sign", shape)


def W(*shape):
    return ("w", shape)


def G(*shape):  # a float32 argument that is differentiated (a weight passed to a function)
    return ("wg", shape)


def I(high, *shape):  # noqa: E743  (an index input)
    return ("index", shape, high)


def M(name, make, inputs, feat=1, values=True, also=(), elementwise=False):
    """A module: ``make(lib)`` builds it from ``soma`` or ``torch``; torch's weights are copied into soma's.

    ``also``: other names soma's error may give (a loss module's functional form); ``elementwise``: y = f(x)
    element by element (see ``_torch_vectorized``)."""
    return dict(name=name, make=make, inputs=inputs, feat=feat, values=values, module=True, also=also,
                elementwise=elementwise)


def Fn(name, make, inputs, feat=1, values=True, elementwise=False):
    """A function: ``make(lib)`` returns the callable (``lib.nn.functional.…`` with its arguments bound)."""
    return dict(name=name, make=make, inputs=inputs, feat=feat, values=values, module=False, also=(),
                elementwise=elementwise)


def F(lib):
    return lib.nn.functional


ACTIVATIONS = ["ReLU", "ReLU6", "ELU", "SELU", "CELU", "SiLU", "GELU", "Sigmoid", "Tanh", "Softplus", "Hardtanh",
               "Hardsigmoid", "Hardswish", "Mish", "LogSigmoid", "Softsign", "Tanhshrink", "Identity"]
SPECS = [
    M("Linear", lambda L: L.nn.Linear(4, 3), [X("N", 4)], feat=-1),
    M("Bilinear", lambda L: L.nn.Bilinear(3, 4, 2), [X("N", 3), X("N", 4)], feat=-1),
    M("Conv1d", lambda L: L.nn.Conv1d(2, 4, 3, padding=1), [X("N", 2, 7)]),
    M("Conv2d", lambda L: L.nn.Conv2d(2, 4, 3, stride=2), [X("N", 2, 7, 6)]),
    M("Conv2d", lambda L: L.nn.Conv2d(4, 4, 3, groups=2, padding="same", padding_mode="reflect"), [X("N", 4, 5, 5)]),
    M("ConvTranspose1d", lambda L: L.nn.ConvTranspose1d(2, 3, 3, stride=2), [X("N", 2, 5)]),
    M("ConvTranspose2d", lambda L: L.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1),
      [X("N", 2, 4, 5)]),
    M("BatchNorm1d", lambda L: L.nn.BatchNorm1d(3), [X("N", 3)]),
    M("BatchNorm1d", lambda L: L.nn.BatchNorm1d(3), [X("N", 3, 5)]),
    M("BatchNorm2d", lambda L: L.nn.BatchNorm2d(3).eval(), [X("N", 3, 4, 4)]),
    M("LayerNorm", lambda L: L.nn.LayerNorm(5), [X("N", 3, 5)], feat=-1),
    M("GroupNorm", lambda L: L.nn.GroupNorm(2, 4), [X("N", 4, 3)]),
    M("Embedding", lambda L: L.nn.Embedding(6, 3, padding_idx=0), [I(6, "N", 4)]),
    M("PReLU", lambda L: L.nn.PReLU(3), [X("N", 3, 4)]),
    M("RNN", lambda L: L.nn.RNN(3, 4), [X("T", "N", 3)], feat=-1),
    M("LSTM", lambda L: L.nn.LSTM(3, 4, num_layers=2, batch_first=True), [X("N", "T", 3)], feat=-1),
    M("GRU", lambda L: L.nn.GRU(3, 4, bidirectional=True), [X("T", "N", 3)], feat=-1),
    M("RNNCell", lambda L: L.nn.RNNCell(3, 4), [X("N", 3)], feat=-1),
    M("LSTMCell", lambda L: L.nn.LSTMCell(3, 4), [X("N", 3)], feat=-1),
    M("GRUCell", lambda L: L.nn.GRUCell(3, 4), [X("N", 3), X("N", 4)], feat=-1),
    M("MaxPool1d", lambda L: L.nn.MaxPool1d(2), [X("N", 2, 7)]),
    M("MaxPool2d", lambda L: L.nn.MaxPool2d(3, stride=2, padding=1), [X("N", 2, 6, 7)]),
    M("AvgPool1d", lambda L: L.nn.AvgPool1d(3), [X("N", 2, 7)]),
    M("AvgPool2d", lambda L: L.nn.AvgPool2d(2, ceil_mode=True), [X("N", 2, 5, 5)]),
    M("AdaptiveAvgPool1d", lambda L: L.nn.AdaptiveAvgPool1d(3), [X("N", 2, 7)]),
    M("AdaptiveAvgPool2d", lambda L: L.nn.AdaptiveAvgPool2d((2, 3)), [X("N", 2, 5, 7)]),
    M("Flatten", lambda L: L.nn.Flatten(), [X("N", 2, 3)]),
    M("Unflatten", lambda L: L.nn.Unflatten(1, (2, 3)), [X("N", 6)], also=("unflatten",)),
    M("Dropout", lambda L: L.nn.Dropout(0.5), [X("N", 3, 4)], values=False),
    M("Dropout", lambda L: L.nn.Dropout(0.5).eval(), [X("N", 3, 4)]),
    M("Dropout1d", lambda L: L.nn.Dropout1d(0.5), [X("N", 3, 4)], values=False),
    M("Dropout2d", lambda L: L.nn.Dropout2d(0.5), [X("N", 3, 4, 4)], values=False),
    *[M(name, lambda L, n=name: getattr(L.nn, n)(), [X("N", 3, 4)], elementwise=True) for name in ACTIVATIONS],
    M("LeakyReLU", lambda L: L.nn.LeakyReLU(0.2), [X("N", 3)], elementwise=True),
    M("Threshold", lambda L: L.nn.Threshold(0.1, 20.0), [X("N", 3)], elementwise=True),
    M("GELU", lambda L: L.nn.GELU(approximate="tanh"), [X("N", 3)], elementwise=True),
    M("Softmax", lambda L: L.nn.Softmax(dim=1), [X("N", 3, 2)]),
    M("LogSoftmax", lambda L: L.nn.LogSoftmax(dim=-1), [X("N", 3)]),
    M("Softmin", lambda L: L.nn.Softmin(dim=1), [X("N", 3)], also=("softmax",)),
    # losses
    M("MSELoss", lambda L: L.nn.MSELoss(), [X("N", 3), X("N", 3)], feat=-1, also=("mse_loss",)),
    M("L1Loss", lambda L: L.nn.L1Loss(reduction="sum"), [X("N", 3), X("N", 3)], feat=-1, also=("l1_loss",)),
    M("HuberLoss", lambda L: L.nn.HuberLoss(delta=0.5), [X("N", 3), X("N", 3)], feat=-1, also=("huber_loss",)),
    M("SmoothL1Loss", lambda L: L.nn.SmoothL1Loss(reduction="none"), [X("N", 3), X("N", 3)], feat=-1, also=("smooth_l1_loss",)),
    M("BCELoss", lambda L: L.nn.BCELoss(), [P("N", 3), P("N", 3)], feat=-1, also=("binary_cross_entropy",)),
    M("BCEWithLogitsLoss", lambda L: L.nn.BCEWithLogitsLoss(), [X("N", 3), P("N", 3)], feat=-1, also=("binary_cross_entropy_with_logits",)),
    M("CrossEntropyLoss", lambda L: L.nn.CrossEntropyLoss(), [X("N", 4), I(4, "N")], also=("cross_entropy",)),
    M("CrossEntropyLoss", lambda L: L.nn.CrossEntropyLoss(label_smoothing=0.2), [X("N", 4, 3), I(4, "N", 3)], also=("cross_entropy",)),
    M("CrossEntropyLoss", lambda L: L.nn.CrossEntropyLoss(), [X("N", 4), P("N", 4)], also=("cross_entropy",)),
    M("NLLLoss", lambda L: L.nn.NLLLoss(ignore_index=1), [X("N", 4), I(4, "N")], also=("nll_loss",)),
    M("KLDivLoss", lambda L: L.nn.KLDivLoss(reduction="batchmean"), [X("N", 3), P("N", 3)], feat=-1, also=("kl_div",)),
    M("SoftMarginLoss", lambda L: L.nn.SoftMarginLoss(), [X("N", 3), S("N", 3)], feat=-1, also=("soft_margin_loss",)),
    # functions
    Fn("linear", lambda L: F(L).linear, [X("N", 4), G(3, 4), G(3)], feat=-1),
    Fn("bilinear", lambda L: F(L).bilinear, [X("N", 3), X("N", 4), G(2, 3, 4)], feat=-1),
    Fn("conv1d", lambda L: lambda x, w: F(L).conv1d(x, w, stride=2), [X("N", 2, 7), G(3, 2, 3)]),
    Fn("conv2d", lambda L: lambda x, w, b: F(L).conv2d(x, w, b, padding=1, dilation=2), [X("N", 2, 6, 6),
                                                                                       G(3, 2, 3, 3), G(3)]),
    Fn("conv_transpose2d", lambda L: lambda x, w: F(L).conv_transpose2d(x, w, stride=2), [X("N", 2, 3, 4),
                                                                                          G(2, 3, 2, 2)]),
    Fn("max_pool2d", lambda L: lambda x: F(L).max_pool2d(x, 2, return_indices=True), [X("N", 2, 5, 4)]),
    Fn("max_pool1d", lambda L: lambda x: F(L).max_pool1d(x, 3, stride=1, padding=1), [X("N", 2, 5)]),
    Fn("avg_pool2d", lambda L: lambda x: F(L).avg_pool2d(x, 3, padding=1, count_include_pad=False),
       [X("N", 2, 5, 4)]),
    Fn("adaptive_avg_pool2d", lambda L: lambda x: F(L).adaptive_avg_pool2d(x, 2), [X("N", 2, 5, 4)]),
    Fn("softmax", lambda L: lambda x: F(L).softmax(x, dim=1), [X("N", 3)]),
    Fn("log_softmax", lambda L: lambda x: F(L).log_softmax(x, dim=0), [X("N", 3)]),
    Fn("one_hot", lambda L: lambda i: F(L).one_hot(i, 6), [I(6, "N", 2)]),
    Fn("pad", lambda L: lambda x: F(L).pad(x, (1, 2)), [X("N", 3)]),
    Fn("pad", lambda L: lambda x: F(L).pad(x, (1, 1, 2, 0), mode="reflect"), [X("N", 2, 3, 3)]),
    Fn("embedding", lambda L: F(L).embedding, [I(5, "N", 3), G(5, 2)]),
    Fn("batch_norm", lambda L: lambda x, m, v: F(L).batch_norm(x, m, v.abs(), training=True), [X("N", 3), W(3),
                                                                                              W(3)]),
    Fn("layer_norm", lambda L: lambda x, w: F(L).layer_norm(x, (4,), w), [X("N", 4), G(4)], feat=-1),
    Fn("group_norm", lambda L: lambda x: F(L).group_norm(x, 2), [X("N", 4, 3)]),
    Fn("dropout", lambda L: lambda x: F(L).dropout(x, 0.0), [X("N", 3)]),
    Fn("cross_entropy", lambda L: lambda x, y, w: F(L).cross_entropy(x, y, weight=w.abs(), label_smoothing=0.1),
       [X("N", 3), I(3, "N"), W(3)]),
    Fn("nll_loss", lambda L: lambda x, y: F(L).nll_loss(x, y, reduction="sum"), [X("N", 3), I(3, "N")]),
    Fn("binary_cross_entropy", lambda L: F(L).binary_cross_entropy, [P("N", 2), P("N", 2)], feat=-1),
    Fn("binary_cross_entropy_with_logits",
       lambda L: lambda x, y, w: F(L).binary_cross_entropy_with_logits(x, y, pos_weight=w.abs()),
       [X("N", 2), P("N", 2), W(2)], feat=-1),
    Fn("mse_loss", lambda L: F(L).mse_loss, [X("N", 3), X("N", 3)], feat=-1),
    Fn("l1_loss", lambda L: F(L).l1_loss, [X("N", 3), X("N", 3)], feat=-1),
    Fn("huber_loss", lambda L: F(L).huber_loss, [X("N", 3), X("N", 3)], feat=-1),
    Fn("kl_div", lambda L: lambda x, y: F(L).kl_div(x, y, reduction="sum"), [X("N", 3), P("N", 3)], feat=-1),
    Fn("prelu", lambda L: F(L).prelu, [X("N", 3, 2), G(3)]),
    *[Fn(name, lambda L, n=name: getattr(F(L), n), [X("N", 3)], elementwise=True)
      for name in ["relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "hardtanh",
                   "hardsigmoid", "hardswish", "logsigmoid", "softsign", "tanhshrink", "sigmoid", "tanh"]],
    Fn("leaky_relu", lambda L: lambda x: F(L).leaky_relu(x, 0.3), [X("N", 3)], elementwise=True),
    # grown in session 21: the layers and functions the table above did not reach
    M("BatchNorm3d", lambda L: L.nn.BatchNorm3d(3), [X("N", 3, 2, 3, 3)]),
    M("Dropout3d", lambda L: L.nn.Dropout3d(0.5), [X("N", 3, 2, 2, 2)], values=False),
    M("RMSNorm", lambda L: L.nn.RMSNorm(5), [X("N", 3, 5)], feat=-1),
    M("PixelShuffle", lambda L: L.nn.PixelShuffle(2), [X("N", 8, 2, 3)]),
    M("PixelUnshuffle", lambda L: L.nn.PixelUnshuffle(2), [X("N", 2, 4, 6)]),
    M("Fold", lambda L: L.nn.Fold((4, 5), 2), [X("N", 12, 12)]),
    M("Unfold", lambda L: L.nn.Unfold(2, padding=1, stride=2), [X("N", 2, 4, 5)]),
    M("Upsample", lambda L: L.nn.Upsample(scale_factor=2), [X("N", 2, 3, 4)], also=("interpolate",)),
    M("Upsample", lambda L: L.nn.Upsample(size=(5, 7), mode="bilinear"), [X("N", 2, 3, 4)], also=("interpolate",)),
    M("Upsample", lambda L: L.nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=True), [X("N", 2, 3, 4)],
      also=("interpolate",)),
    M("UpsamplingBilinear2d", lambda L: L.nn.UpsamplingBilinear2d(scale_factor=2), [X("N", 2, 3, 3)],
      also=("interpolate",)),
    M("UpsamplingNearest2d", lambda L: L.nn.UpsamplingNearest2d(size=(5, 6)), [X("N", 2, 3, 4)],
      also=("interpolate",)),
    M("MultiheadAttention", lambda L: L.nn.MultiheadAttention(8, 2, batch_first=True),
      [X("N", "T", 8), X("N", "T", 8), X("N", "T", 8)], feat=-1),
    M("TransformerEncoderLayer", lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
      [X("N", "T", 8)], feat=-1, also=("MultiheadAttention",)),  # a dtype error names the attention inside
    M("TransformerDecoderLayer", lambda L: L.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
      [X("N", "T", 8), X("N", 3, 8)], feat=-1, also=("MultiheadAttention",)),
    M("TransformerEncoder", lambda L: L.nn.TransformerEncoder(L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
                                                              2, enable_nested_tensor=False),
      [X("T", "N", 8)], feat=-1, also=("MultiheadAttention", "TransformerEncoderLayer")),
    Fn("avg_pool1d", lambda L: lambda x: F(L).avg_pool1d(x, 2, padding=1), [X("N", 2, 5)]),
    Fn("adaptive_avg_pool1d", lambda L: lambda x: F(L).adaptive_avg_pool1d(x, 3), [X("N", 2, 7)]),
    Fn("conv_transpose1d", lambda L: lambda x, w: F(L).conv_transpose1d(x, w, stride=2, padding=1),
       [X("N", 2, 5), G(2, 3, 3)]),
    Fn("instance_norm", lambda L: F(L).instance_norm, [X("N", 3, 5)]),
    Fn("rms_norm", lambda L: lambda x, w: F(L).rms_norm(x, (4,), w), [X("N", 4), G(4)], feat=-1),
    Fn("interpolate", lambda L: lambda x: F(L).interpolate(x, scale_factor=2.5, mode="linear"), [X("N", 2, 4)]),
    Fn("interpolate", lambda L: lambda x: F(L).interpolate(x, size=(3, 5), mode="area"), [X("N", 2, 6, 7)]),
    Fn("interpolate", lambda L: lambda x: F(L).interpolate(x, size=(4, 3), mode="nearest-exact"),
       [X("N", 2, 3, 5)]),
    Fn("scaled_dot_product_attention", lambda L: F(L).scaled_dot_product_attention,
       [X("N", "T", 4), X("N", "T", 4), X("N", "T", 4)], feat=-1),
    Fn("smooth_l1_loss", lambda L: lambda x, y: F(L).smooth_l1_loss(x, y, beta=0.5), [X("N", 3), X("N", 3)],
       feat=-1),
    Fn("soft_margin_loss", lambda L: F(L).soft_margin_loss, [X("N", 3), S("N", 3)], feat=-1),
    Fn("softmin", lambda L: lambda x: F(L).softmin(x, dim=-1), [X("N", 3)]),
    Fn("threshold", lambda L: lambda x: F(L).threshold(x, 0.2, -1.0), [X("N", 3)], elementwise=True),
    Fn("dropout2d", lambda L: lambda x: F(L).dropout2d(x, 0.5), [X("N", 3, 2, 2)], values=False),
    # grown in session 23: the margin, embedding and likelihood losses
    M("MarginRankingLoss", lambda L: L.nn.MarginRankingLoss(0.2), [X("N"), X("N"), S("N")], feat=0,
      also=("margin_ranking_loss",)),
    M("HingeEmbeddingLoss", lambda L: L.nn.HingeEmbeddingLoss(), [X("N", 3), S("N", 3)], feat=-1,
      also=("hinge_embedding_loss",)),
    M("CosineEmbeddingLoss", lambda L: L.nn.CosineEmbeddingLoss(0.1), [X("N", 4), X("N", 4), S("N")], feat=-1,
      also=("cosine_embedding_loss",)),
    M("TripletMarginLoss", lambda L: L.nn.TripletMarginLoss(swap=True), [X("N", 4), X("N", 4), X("N", 4)], feat=-1,
      also=("triplet_margin_loss",)),
    M("TripletMarginWithDistanceLoss", lambda L: L.nn.TripletMarginWithDistanceLoss(reduction="sum"),
      [X("N", 4), X("N", 4), X("N", 4)], feat=-1, also=("triplet_margin_with_distance_loss", "pairwise_distance")),
    M("MultiLabelSoftMarginLoss", lambda L: L.nn.MultiLabelSoftMarginLoss(), [X("N", 3), P("N", 3)], feat=-1,
      also=("multilabel_soft_margin_loss",)),
    M("MultiMarginLoss", lambda L: L.nn.MultiMarginLoss(p=2, reduction="none"), [X("N", 4), I(4, "N")], feat=-1,
      also=("multi_margin_loss",)),
    M("MultiLabelMarginLoss", lambda L: L.nn.MultiLabelMarginLoss(reduction="none"), [X("N", 4), I(4, "N", 4)],
      feat=-1, also=("multilabel_margin_loss",)),
    M("GaussianNLLLoss", lambda L: L.nn.GaussianNLLLoss(full=True), [X("N", 3), X("N", 3), P("N", 1)], feat=-1,
      also=("gaussian_nll_loss",)),
    M("PoissonNLLLoss", lambda L: L.nn.PoissonNLLLoss(full=True), [X("N", 3), P("N", 3)], feat=-1,
      also=("poisson_nll_loss",)),
    Fn("ctc_loss", lambda L: lambda x, y: F(L).ctc_loss(x, y, [4] * y.shape[0], [2] * y.shape[0], blank=4),
       [X("T", "N", 5), I(4, "N", 2)], feat=-1),
    # grown in session 23: distances, shrinkage, GLU, RReLU, alpha dropout, Gumbel-softmax (pdist's rows are not
    # the batch: PyTorch's pdist backward crashes on zero rows)
    M("PairwiseDistance", lambda L: L.nn.PairwiseDistance(), [X("N", 4), X("N", 4)], feat=-1,
      also=("pairwise_distance",)),
    M("CosineSimilarity", lambda L: L.nn.CosineSimilarity(), [X("N", 4), X("N", 4)], also=("cosine_similarity",)),
    Fn("pdist", lambda L: F(L).pdist, [X(4, "N")], feat=0),
    Fn("normalize", lambda L: lambda x: F(L).normalize(x, 1.5, dim=-1), [X("N", 4)], feat=-1),
    M("Hardshrink", lambda L: L.nn.Hardshrink(0.3), [X("N", 3)], elementwise=True, also=("hardshrink",)),
    M("Softshrink", lambda L: L.nn.Softshrink(), [X("N", 3)], elementwise=True, also=("softshrink",)),
    M("GLU", lambda L: L.nn.GLU(), [X("N", 4)], feat=-1, also=("glu",)),
    M("RReLU", lambda L: L.nn.RReLU(0.1, 0.3).eval(), [X("N", 3)], elementwise=True, also=("rrelu",)),
    M("RReLU", lambda L: L.nn.RReLU(0.1, 0.3), [X("N", 3)], values=False, also=("rrelu",)),
    M("AlphaDropout", lambda L: L.nn.AlphaDropout(0.5), [X("N", 3, 4)], values=False, also=("alpha_dropout",)),
    M("FeatureAlphaDropout", lambda L: L.nn.FeatureAlphaDropout(0.5), [X("N", 3, 4)], values=False,
      also=("feature_alpha_dropout",)),
    Fn("gumbel_softmax", lambda L: lambda x: F(L).gumbel_softmax(x, 0.5, hard=True), [X("N", 3)], values=False),
]

MUTATIONS = ["valid", "batch0", "batch1", "seq0", "unbatched", "extra_dim", "wrong_features", "int64", "float64",
             "nan", "noncontig"]


def _shape(symbolic, n, mutation, main):
    shape = []
    for size in symbolic:
        if size == "N":
            if mutation == "unbatched":
                continue
            size = {"batch0": 0, "batch1": 1}.get(mutation, n)
        elif size == "T":
            size = 0 if mutation == "seq0" else 4
        shape.append(size)
    if main and mutation == "extra_dim":
        shape.insert(0, 2)
    return tuple(shape)


def _array(kind, shape, high, rng):
    if kind == "index":
        return rng.integers(0, high, shape)
    if kind == "prob":
        return rng.uniform(0.05, 0.95, shape).astype(np.float32)
    if kind == "sign":
        return np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def _inputs(spec, mutation, n, rng):
    """The case's inputs as NumPy arrays, and whether the first is passed as a transposed view."""
    arrays = []
    for i, item in enumerate(spec["inputs"]):
        kind, symbolic = item[0], item[1]
        shape = _shape(symbolic, n, mutation, i == 0)
        if i == 0 and mutation == "wrong_features" and shape:
            shape = list(shape)
            shape[spec["feat"]] += 1
            shape = tuple(shape)
        a = _array(kind, shape, item[2] if kind == "index" else None, rng)
        if i == 0:
            if mutation == "int64" and a.dtype.kind == "f":
                a = np.round(a * 2).astype(np.int64)
            elif mutation == "float64":
                a = a.astype(np.float64)
            elif mutation == "nan" and a.dtype.kind == "f" and a.size:
                flat = a.reshape(-1)
                spots = rng.permutation(flat.size)[:2]
                flat[spots] = [np.nan, np.inf][: len(spots)]
        arrays.append(a)
    transpose = mutation == "noncontig" and arrays[0].ndim >= 2
    return arrays, transpose


def _leaves(lib, arrays, transpose, kinds):
    leaves, args = [], []
    for i, a in enumerate(arrays):
        base = np.ascontiguousarray(np.swapaxes(a, -1, -2)) if i == 0 and transpose else a
        differentiable = i == 0 or kinds[i] in ("x", "wg")
        leaf = lib.tensor(base, requires_grad=a.dtype.kind == "f" and differentiable)
        leaves.append(leaf)
        args.append(leaf.transpose(-1, -2) if i == 0 and transpose else leaf)
    return leaves, args


COPIES = 64  # see _torch_vectorized


class _FirstCopy:
    """A torch leaf of ``COPIES`` stacked copies, seen as its first: ``.grad`` is the first copy's gradient."""

    def __init__(self, leaf):
        self.leaf = leaf

    @property
    def grad(self):
        return None if self.leaf.grad is None else self.leaf.grad[0]


def _torch_vectorized(theirs, arrays):
    """torch's outcome for an elementwise layer on NaN/Inf input, the values given as the first of ``COPIES``
    stacked copies: PyTorch's CPU kernels run a vectorized loop over whole SIMD chunks and a scalar loop over
    the remainder (the last n mod 8/16/32 elements, or all of a small tensor), and for some kernels the two
    disagree on NaN (hardtanh′(NaN) is 0 in the vectorized loop, 1 in the scalar one; elu′(NaN) NaN and 1).
    With 64 copies every original element is in the vectorized loop, where nearly every element of a real
    tensor is, so the oracle is one answer per value instead of one that depends on where the value sits."""
    leaf = torch.tensor(np.stack([arrays[0]] * COPIES), requires_grad=arrays[0].dtype.kind == "f")
    out = attempt(lambda: theirs(leaf))
    return (out if isinstance(out, Raised) else out[0]), [_FirstCopy(leaf)]


def _build(spec):
    """The (soma, torch) callables; a module gets torch's freshly initialized weights copied into soma's."""
    ours, theirs = spec["make"](soma), spec["make"](torch)
    if spec["module"]:
        state = {k: soma.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
        ours.load_state_dict(state)
    return ours, theirs


def _backward(outcome, leaves, lib):
    outs = [o for o in flatten(outcome) if isinstance(o, lib.Tensor) and o.requires_grad]
    if not outs:
        return None
    total = outs[0].sum()
    for o in outs[1:]:
        total = total + o.sum()
    total.backward()
    return [leaf.grad for leaf in leaves]


def _gradients(spec, ours, theirs, s_out, t_out, s_leaves, t_leaves, tol):
    """Compare the input gradients, and a module's parameter gradients by name."""
    t_grads = attempt(lambda: _backward(t_out, t_leaves, torch))
    s_grads = attempt(lambda: _backward(s_out, s_leaves, soma))
    if isinstance(t_grads, Raised) and not isinstance(s_grads, Raised):
        return None  # torch cannot differentiate this one (e.g. an integer output); soma may
    problem = compare(spec["name"] + " backward", s_grads, t_grads, **tol)
    if problem or not spec["module"] or isinstance(t_grads, Raised):
        return problem
    s_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        s_grad = s_params[name].grad
        if p.grad is None and s_grad is None:
            continue
        if p.grad is None or s_grad is None:
            if p.grad is None and not np.any(s_grad.numpy()):
                continue
            return f"{spec['name']}: gradient of {name} is None in {'soma' if s_grad is None else 'torch'} only"
        problem = compare(f"{spec['name']} grad of {name}", s_grad, p.grad, values=spec["values"], **tol)
        if problem:
            return problem
    return None


def run_case(spec, mutation, n, seed):
    rng = np.random.default_rng(seed)
    arrays, transpose = _inputs(spec, mutation, n, rng)
    built = attempt(lambda: _build(spec))
    if isinstance(built, Raised):
        return f"{spec['name']}: building it raised {built!r}"
    ours, theirs = built
    kinds = [item[0] for item in spec["inputs"]]
    s_leaves, s_args = _leaves(soma, arrays, transpose, kinds)
    if spec["elementwise"] and mutation == "nan":
        t_out, t_leaves = _torch_vectorized(theirs, arrays)
    else:
        t_leaves, t_args = _leaves(torch, arrays, transpose, kinds)
        t_out = attempt(lambda: theirs(*t_args))
    s_out = attempt(lambda: ours(*s_args))
    tol = dict(rtol=1e-4, atol=1e-5) if mutation == "float64" else {}  # float64 input, float32 weights
    problem = compare(spec["name"], s_out, t_out, values=spec["values"], also=spec["also"], **tol)
    if problem or isinstance(t_out, Raised) or not spec["values"]:
        return problem
    return _gradients(spec, ours, theirs, s_out, t_out, s_leaves, t_leaves, tol)


def _describe(spec, mutation):
    shapes = ",".join("x".join(map(str, item[1])) for item in spec["inputs"])
    return f"{spec['name']}({shapes})-{mutation}"



# Disagreements still open, each with its reason: counted in the tally, not failing the test.
INTENTIONAL = {  # disagreements that are documented intentional differences (docs/pytorch-parity.md)
    "PixelUnshuffle(Nx2x4x6)-batch0": "PyTorch's pixel_unshuffle returns an empty input unchanged, (0, 2, 4, 6) "
                                      "where the shape rule gives (0, 8, 2, 3); soma keeps the rule",
}


def _mutations(spec):
    return [m for m in MUTATIONS if m != "seq0" or any("T" in item[1] for item in spec["inputs"])]


# One test per layer, running every mutation: hypothesis (one derandomized example per layer) draws the batch
# size and the seed, salted per case so that cases differ. (A pytest item per case, ~1,100 of them each under
# @given, ran into a RecursionError inside hypothesis after about a thousand items in one process.)
@pytest.mark.parametrize("spec", SPECS, ids=[_describe(spec, "")[:-1] for spec in SPECS])
@settings(max_examples=1, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_layer_agrees_with_torch(spec, n, seed):
    problems = []
    for mutation in _mutations(spec):
        case_id = _describe(spec, mutation)
        salt = zlib.crc32(case_id.encode())
        case_n, case_seed = 2 + (n - 2 + salt) % 3, (seed + salt) % 2**16
        soma.manual_seed(case_seed)
        torch.manual_seed(case_seed)
        problem = record("layer", run_case(spec, mutation, case_n, case_seed), intentional=case_id in INTENTIONAL)
        if problem and case_id not in INTENTIONAL:
            problems.append(f"{case_id} (N={case_n}): {problem}")
    assert not problems, "\n".join(problems)
