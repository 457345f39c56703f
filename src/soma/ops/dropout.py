"""Dropout: during training, zero each unit with probability p and scale the rest by 1/(1 - p).

Dropout (notes 003, 004: ``Dropout(0.5)`` drops half the neurons) trains an ensemble
of thinned networks; scaling the kept units by 1/(1 - p) during training
("inverted dropout", as PyTorch) keeps each unit's expected value unchanged, so at
evaluation time the layer is simply the identity. The mask is drawn from soma's one
global generator, so :func:`soma.manual_seed` makes it repeatable.
"""

import numpy as np

from soma.autograd.function import Function
from soma.random import generator

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "Dropout"]


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


def _mask(shape, p, dtype):
    """Kept units hold 1/(1 - p), dropped ones 0 (all 0 when p = 1)."""
    if p == 1:
        return np.zeros(shape, dtype)
    keep = generator().random(shape, dtype=np.float32) >= p
    return keep * dtype.type(1.0 / (1.0 - p))


def dropout(input, p=0.5, training=True, inplace=False):
    """F.dropout: zero each element with probability p, scale the rest by 1/(1 - p); identity if not training."""
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    return Dropout.apply(input, _mask(input.shape, p, input.dtype))


def _feature_dropout(input, p, training, feature_dims, name):
    _check_p(p, name)
    if input.ndim not in (feature_dims + 1, feature_dims + 2):
        raise ValueError(
            f"{name}: expected a {feature_dims + 1}-D (unbatched) or {feature_dims + 2}-D input, "
            f"got shape {tuple(input.shape)}"
        )
    if not training or p == 0:
        return input
    channels_end = input.ndim - feature_dims  # (N, C, *spatial) or (C, *spatial)
    shape = tuple(input.shape[:channels_end]) + (1,) * feature_dims
    return Dropout.apply(input, _mask(shape, p, input.dtype))


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L): every position of a dropped channel at once."""
    return _feature_dropout(input, p, training, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole feature maps of (N, C, H, W) (channel dropout for convolutional layers)."""
    return _feature_dropout(input, p, training, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, 3, "dropout3d")
