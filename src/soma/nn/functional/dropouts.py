"""Dropout: during training, zero each unit with probability p and scale the rest by 1/(1 - p).

Dropout (notes 003, 004: ``Dropout(0.5)`` drops half the neurons) trains an ensemble
of thinned networks; scaling the kept units by 1/(1 - p) during training
("inverted dropout", as PyTorch) keeps each unit's expected value unchanged, so at
evaluation time the layer is simply the identity. The mask is drawn from soma's one
global generator, so :func:`soma.manual_seed` makes it repeatable.

Alpha dropout (Klambauer et al., 2017) is the dropout of self-normalizing (SELU) networks:
zeroing a unit would move the mean and variance SELU keeps at 0 and 1, so a dropped unit is
set to SELU's negative saturation value α' = -λα instead, and the whole is made affine again,
y = a·(x·m + α'(1 - m)) + b, with a = 1/√((α'²p + 1)(1 - p)) and b = -a·α'·p: for inputs of
mean 0 and variance 1 the output has mean 0 and variance 1 too. PyTorch computes it as
y = x·(a·m) + ((m - 1)·λα·a + λα·a·p), each factor in the input's dtype, and so does soma.
"""

import math
import warnings

import numpy as np

from soma import backend
from soma._errors import check_floating
from soma.autograd.function import Function
from soma.ops._common import honours_inplace
from soma.random import generator
from soma.tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "Dropout"]

SELU_SATURATION = 1.7580993408473766  # λα of SELU (1.0507... · 1.6732...): its negative saturation value is -λα


class Dropout(Function):
    """y = x·m/(1 - p), with m ~ Bernoulli(1 - p) drawn once per forward"""

    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None  # ∂y/∂x = m/(1 - p)


def _check_p(p, name):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def _mask(shape, p, like):
    """Kept units hold 1/(1 - p), dropped ones 0 (all 0 when p = 1), drawn on the host from soma's generator
    (so a seed gives the same masks on every device) and placed beside ``like``."""
    dtype = like.dtype
    if p == 1:
        return np.zeros(shape, dtype, like=like._array)
    return backend.of(like._array).transfer(keep_mask(shape, p) * dtype.type(1.0 / (1.0 - p)))


def keep_mask(shape, p):
    """The units kept (True with probability 1 - p), drawn on the host from soma's generator."""
    return generator().random(shape, dtype=np.float32) >= p


@honours_inplace
def dropout(input, p=0.5, training=True, inplace=False):
    """F.dropout: zero each element with probability p, scale the rest by 1/(1 - p); identity if not training."""
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    check_floating("dropout", input)
    return Dropout.apply(input, _mask(input.shape, p, input))


def _feature_dropout(input, p, training, batched, name):
    """Zero whole channels: the mask has the input's shape up to the channel dim, 1 after it.

    ``batched`` inputs are (N, C, *) (the mask is (N, C, 1, ...)); unbatched ones (C, *).
    """
    if not training or p == 0:
        return input
    check_floating(name, input)
    channels_end = 2 if batched else 1
    shape = tuple(input.shape[:channels_end]) + (1,) * (input.ndim - channels_end)
    return Dropout.apply(input, _mask(shape, p, input))


@honours_inplace
def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or unbatched (C, L): every position of a dropped channel at once."""
    _check_p(p, "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(input.shape)}")
    return _feature_dropout(input, p, training, input.ndim == 3, "dropout1d")


def _warn_rank(input, name, ranks):
    if input.ndim not in ranks:
        warnings.warn(f"{name}: received a {input.ndim}-D input of shape {tuple(input.shape)} (expected "
                      f"{' or '.join(f'{r}-D' for r in ranks)}); treated as PyTorch 2.13 does", stacklevel=3)


@honours_inplace
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole feature maps of (N, C, H, W) (channel dropout for conv layers).

    As in PyTorch 2.13, dim 1 is the channel whatever the rank: a 3-D input is read as (N, C, L)
    (channel-wise 1-D dropout, not an unbatched (C, H, W); use dropout1d to say so), other ranks
    warn and drop each (sample, channel) as a whole.
    """
    _check_p(p, "dropout2d")
    if input.ndim < 2:
        raise RuntimeError(f"dropout2d: feature dropout requires at least 2 dimensions, got shape {tuple(input.shape)}")
    _warn_rank(input, "dropout2d", (3, 4))
    if input.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input; as in PyTorch it is read as (N, C, L) (channel-wise 1-D "
                      "dropout), not as an unbatched (C, H, W): use dropout1d for that", stacklevel=2)
    return _feature_dropout(input, p, training, True, "dropout2d")


@honours_inplace
def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W); any other rank is unbatched (C, *), as PyTorch 2.13."""
    _check_p(p, "dropout3d")
    if input.ndim < 1:
        raise RuntimeError("dropout3d: feature dropout requires at least 1 dimension, got a 0-D input")
    _warn_rank(input, "dropout3d", (4, 5))
    return _feature_dropout(input, p, training, input.ndim == 5, "dropout3d")


def _alpha_dropout(input, p, training, shape, name):
    """y = x·(a·m) + ((m - 1)·λα·a + λα·a·p) with m ~ Bernoulli(1 - p) of ``shape`` (see the module docstring)."""
    if not training or p == 0 or input._array.size == 0:
        return input
    check_floating(name, input)
    if p == 1:
        return Dropout.apply(input, _mask(shape, p, input))  # x·0, as PyTorch: no saturation value left to keep
    a = 1.0 / math.sqrt((SELU_SATURATION**2 * p + 1) * (1 - p))
    m = keep_mask(shape, p).astype(input.dtype)
    t = input.dtype.type
    move = backend.of(input._array).transfer
    shift = (m - 1) * t(SELU_SATURATION * a) + t(SELU_SATURATION * a * p)
    return Dropout.apply(input, move(m * t(a))) + Tensor._make(move(shift), False)


@honours_inplace
def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout for SELU networks: dropped units take SELU's saturation value -λα, then an affine map
    a·y + b restores mean 0 and variance 1; identity if not training (the default, as PyTorch's)."""
    _check_p(p, "alpha_dropout")
    return _alpha_dropout(input, p, training, input.shape, "alpha_dropout")


@honours_inplace
def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels: one mask entry per (sample, channel) of an (N, C, *) input."""
    _check_p(p, "feature_alpha_dropout")
    if training and p != 0 and input._array.size and input.ndim < 2:
        raise RuntimeError(f"feature_alpha_dropout: Feature dropout requires at least 2 dimensions in the input, "
                           f"got shape {tuple(input.shape)}")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha_dropout(input, p, training, shape, "feature_alpha_dropout")
