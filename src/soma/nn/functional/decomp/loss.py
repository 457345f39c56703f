"""Composites of the loss kernels (:mod:`soma.nn.functional.loss`): each E(x, y) again in primitive ops.

Class-index losses pick ln pᵢ,yᵢ from the rows (N·d₁·..., C) by advanced indexing, weight
them by the constants w_yᵢ the kernel computed (0 for ignored targets) and reduce as it
did: the weighted mean divides by Σᵢ w_yᵢ; with every target ignored that is 0/0 = NaN
with a zero gradient, as the kernel and PyTorch. Masks the kernels branch on (Huber's
|d| < δ, y = 0 in KL) are constants here, so the derivative on a boundary is the kernel's.
BCE differentiates -[y ln p + (1 - y) ln(1 - p)] exactly except where the kernel clamps
p(1 - p) at ε (saturated probabilities), which keep its slope (p - y)/ε.
"""

from typing import Any

import numpy as np

from soma.nn.functional import loss as _kernels
from soma.nn.functional.decomp.activation import constant, softplus, straight_through
from soma.ops.arithmetic import where
from soma.ops.softmax import log_softmax


def _rows(x):
    """(N, C, d₁, ...) -> (N·d₁·..., C) with the class dimension last; (C,) -> (1, C), as the kernels."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return x.movedim(1, -1).reshape(-1, x.shape[1])


def _pick(rows, safe):
    """rows[i, safeᵢ] for every row i (the index arrays beside the rows)."""
    return rows[np.arange(rows.shape[0], like=safe), safe]


def _picked(loss, reduction, target_shape, denominator):
    """Reduce the per-sample losses as :func:`soma.nn.functional.loss._reduce_picked` did."""
    if reduction == "none":
        return loss.reshape(target_shape)
    if reduction == "sum":
        return loss.sum()
    if denominator == 0:
        return loss.sum() * 0 + np.nan  # every target ignored: NaN, with a zero gradient
    return loss.sum() / constant(denominator)


def _cross_entropy(ctx, x, target, weight, ignore_index, smoothing, reduction):
    _, _, safe, valid, w_t, _, denominator = ctx.saved_tensors
    logp = log_softmax(_rows(x), 1)
    loss = -constant(w_t) * _pick(logp, safe)
    if smoothing:
        total = logp.sum(1) if weight is None else logp @ constant(weight)
        smooth = -total * constant(valid.astype(logp.dtype))
        loss = (1 - smoothing) * loss + (smoothing / logp.shape[1]) * smooth
    return _picked(loss, reduction, np.shape(target), denominator)


def _nll_loss(ctx, x, target, weight, ignore_index, reduction):
    safe, w_t, denominator = ctx.saved_tensors
    loss = -constant(w_t) * _pick(_rows(x), safe)
    return _picked(loss, reduction, np.shape(target), denominator)


def _log_inside(q, edge):
    """ln q with derivative 1/q, and the kernel's constant max(ln q, -100) at the ``edge`` elements."""
    with np.errstate(divide="ignore"):
        clamped = np.where(edge, np.maximum(np.log(q._array), -100), 0).astype(q.dtype)
    return where(edge, 1, q).log() + constant(clamped)


def _binary_cross_entropy(ctx, p, y):
    # Where p(1 - p) < ε (1e-12) the kernel's ∂E/∂p = (p - y)/max(p(1 - p), ε) divides by the clamp
    # (e.g. a sigmoid saturated to exactly 1): those elements take that slope as a constant
    # (second derivative 0); everywhere else p ≥ 1e-12, so no log is clamped and E differentiates exactly.
    raw_p, raw_y = ctx.saved_tensors
    edge = raw_p * (1 - raw_p) < _kernels.BCE_EPSILON
    loss = -(y * _log_inside(p, edge) + (1 - y) * _log_inside(1 - p, edge))
    if edge.any():
        slope = np.where(edge, (raw_p - raw_y) / _kernels.BCE_EPSILON, 0)
        loss = loss + straight_through(p, np.zeros_like(raw_p), constant(slope))
    return loss


def _bce_with_logits(ctx, x, y, pos_weight):
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
    loss = (1 - y) * x + log_weight * softplus(-x)
    return loss if loss.dtype == y.dtype else loss.to(y.dtype)


def _huber(ctx, x, y, delta, scale):
    (d_array,) = ctx.saved_tensors
    d = x - y
    loss = where(np.abs(d_array) < delta, 0.5 * d * d, delta * (d.abs() - 0.5 * delta))
    return loss / scale if scale != 1 else loss


def _kl_div(ctx, x, y, log_target):
    if log_target:
        return y.exp() * (y - x)
    raw = y._array
    zero = raw == 0
    if not zero.any():
        return y * y.log() - y * x
    # 0·ln 0 = 0, and the kernel's derivatives are 0 there (in y as in x): the kernel's value as a constant
    y_safe = where(zero, 1, y)
    with np.errstate(invalid="ignore"):
        at_zero = constant(-(raw * x._array))
    return where(zero, at_zero, y_safe * y_safe.log() - y * x)


def _soft_margin(ctx, x, y):
    return (-y * x).exp().log1p()


_COMPOSITES: dict[Any, Any] = {  # node class -> its composite (the values differ in signature)
    _kernels.CrossEntropy: _cross_entropy, _kernels.NLLLoss: _nll_loss,
    _kernels.BinaryCrossEntropy: _binary_cross_entropy, _kernels.BCEWithLogits: _bce_with_logits,
    _kernels.Huber: _huber, _kernels.KLDiv: _kl_div, _kernels.SoftMargin: _soft_margin,
}
for _kernel, _composite in _COMPOSITES.items():
    _kernel.composite = staticmethod(_composite)
_kernels.NLLLoss.connected = True  # PyTorch's nll_loss_backward is differentiable in x (zero derivative)
