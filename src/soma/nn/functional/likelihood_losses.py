"""Negative log-likelihood losses of a predicted distribution: Gaussian and Poisson.

* Gaussian with mean x and variance σ² (``var``, clamped at ε below):
  E = ½ (ln σ² + (x - y)²/σ²) [+ ½ ln 2π with ``full``];
* Poisson with rate λ (``log_input``: x = ln λ, else x = λ):
  E = λ - y ln λ = eˣ - y·x (or x - y·ln(x + ε)) [+ the Stirling term
  y ln y - y + ½ ln(2πy) of ln y!, for y > 1, with ``full``].

Both are composed from differentiable soma ops as PyTorch composes them, so the target gets a
gradient where PyTorch gives it one.
"""

import math

import numpy as np

import soma
from soma import backend
from soma._errors import DTypeError, ShapeError
from soma.autograd.function import Function
from soma.nn._utils import beside
from soma.nn.functional.embedding_losses import _check_broadcast
from soma.nn.functional.loss import _check_reduction, _legacy_reduction, _reduce

__all__ = ["gaussian_nll_loss", "poisson_nll_loss", "ctc_loss"]


def _gaussian_var(input, var):
    """``var`` shaped to broadcast against ``input`` by PyTorch's rules (one dimension short, or one
    mismatched dimension of size 1: homoscedastic), or ValueError."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var has negative entry/entries, got {var}")
        return var * soma.ones_like(input)
    if (var._array < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if var.shape == input.shape:
        return var
    if input.shape[:-1] == var.shape:
        return var.unsqueeze(-1)
    if input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
        return var
    raise ValueError(f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} for input of shape "
                     f"{tuple(input.shape)}: give the input's shape, the input's shape without its last "
                     f"dimension, or the input's shape with one dimension of size 1")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """E = ½ (ln max(σ², ε) + (x - y)²/max(σ², ε)) for a Gaussian of mean x = ``input`` and variance σ² = ``var``.

    ``var`` has the input's shape (heteroscedastic) or one dimension of size 1 or missing at the end
    (homoscedastic), or is a float. The clamp at ε is not differentiated (the gradient passes through it,
    as in PyTorch); ``full`` adds the constant ½ ln 2π.
    """
    var = _gaussian_var(input, var)
    _check_broadcast("gaussian_nll_loss", input=input, target=target, var=var)
    _check_reduction(reduction, "gaussian_nll_loss")
    var = var.clone()
    with soma.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (soma.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """E = eˣ - y·x for a log-rate x (``log_input=True``), else x - y·ln(x + ε) for a rate x.

    ``full`` adds Stirling's approximation of ln y!, y ln y - y + ½ ln(2πy), where y > 1 (0 elsewhere).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "poisson_nll_loss")
    _check_broadcast("poisson_nll_loss", input=input, target=target)
    if log_input:
        loss = soma.exp(input) - target * input
    else:
        loss = input - target * soma.log(input + eps)
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):  # y ≤ 0: ln y is -inf or NaN, masked below
            stirling = target * soma.log(target) - target + 0.5 * soma.log(2 * math.pi * target)
        loss = loss + soma.where(target <= 1, soma.zeros_like(stirling), stirling)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ connectionist temporal classification
def _log_add3(a, b, c):
    """ln(eᵃ + eᵇ + eᶜ) elementwise, shifted by the largest (0 where all are -inf), as PyTorch's CTC kernel."""
    m = np.maximum(np.maximum(a, b), c)
    m = np.where(m == -np.inf, 0, m)
    return np.log(np.exp(a - m) + np.exp(b - m) + np.exp(c - m)) + m


def _shifted(x, k, mask=None):
    """x[..., s - k] (k > 0) or x[..., s + |k|] (k < 0) along the last axis, -inf where out of range or not ``mask``."""
    out = np.full_like(x, -np.inf)
    if k > 0:
        out[..., k:] = x[..., :-k]
    else:
        out[..., :k] = x[..., -k:]
    return out if mask is None else np.where(mask, out, -np.inf)


class CTC(Function):
    """Eₙ = -ln Σ_{paths π → yₙ} Π_t p_t(π_t): the forward (α) recursion over the extended labels
    y' = (blank, y₁, blank, y₂, ..., blank) in log space; α_t(s) = ln p_t(y'_s) + ln(e^α_{t-1}(s) +
    e^α_{t-1}(s-1) + e^α_{t-1}(s-2)), the last term only where y'_s ≠ y'_{s-2}; Eₙ = -ln(e^α_{T-1}(2S) +
    e^α_{T-1}(2S-1)). Its backward runs β the same way from the end and returns PyTorch's gradient
    ∂E/∂x_t(c) = p_t(c) - e^(ln Σ_{s: y'_s = c} e^(α_t(s) + β_t(s)) + E - x_t(c)), which is the gradient with
    respect to the logits of x = log_softmax(logits), not the partial derivative in x (they differ by p_t(c)
    on each frame, which log_softmax's backward removes).

    The recursion is a loop of small steps over host index tables, so it runs on the host: a device's
    log-probabilities come over, the loss and the gradient go back.
    """

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        ctx.device = backend.of(log_probs)
        host = ctx.device.to_numpy(log_probs)
        with np.errstate(divide="ignore"):  # no path: ln 0 = -inf, a loss of inf (as PyTorch)
            nll = CTC._forward(ctx, host, targets, input_lengths, target_lengths, blank, zero_infinity)
        return ctx.device.transfer(nll)

    @staticmethod
    def _forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        frames, batch, _ = log_probs.shape
        extended = np.full((batch, 2 * targets.shape[1] + 1), blank, dtype=np.int64)
        extended[:, 1::2] = targets
        states = np.arange(extended.shape[1])
        valid = states[None, :] < (2 * target_lengths + 1)[:, None]
        skip = np.zeros_like(valid)
        skip[:, 2:] = extended[:, 2:] != extended[:, :-2]
        lp = log_probs[:, np.arange(batch)[:, None], extended]  # (T, N, 2S + 1): ln p_t(y'_s)
        alpha = np.full_like(lp, -np.inf)
        alpha[0][:, :2] = lp[0][:, :2]
        alpha[0] = np.where(valid & (states < 2), alpha[0], -np.inf)
        for t in range(1, frames):
            prev = alpha[t - 1]
            alpha[t] = np.where(valid, _log_add3(prev, _shifted(prev, 1), _shifted(prev, 2, skip)) + lp[t], -np.inf)
        rows, last = np.arange(batch), np.maximum(input_lengths - 1, 0)
        end = alpha[last, rows, 2 * target_lengths]
        before = np.where(target_lengths > 0, alpha[last, rows, np.maximum(2 * target_lengths - 1, 0)], -np.inf)
        m = np.maximum(end, before)
        m = np.where(m == -np.inf, 0, m)
        nll = -(np.log(np.exp(end - m) + np.exp(before - m)) + m)
        nll = np.where(input_lengths > 0, nll, np.where(target_lengths > 0, np.inf, -0.0)).astype(lp.dtype)
        ctx.save_for_backward(log_probs, lp, alpha, nll)
        ctx.state = extended, valid, skip, input_lengths, target_lengths, zero_infinity
        return nll

    @staticmethod
    def backward(ctx, grad):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # no path: -inf + inf = NaN, as PyTorch
            g = CTC._backward(ctx, ctx.device.to_numpy(grad))
        return ctx.device.transfer(g), None, None, None, None, None

    @staticmethod
    def _backward(ctx, grad):
        log_probs, lp, alpha, nll = ctx.saved_tensors
        extended, valid, skip, input_lengths, target_lengths, zero_infinity = ctx.state
        frames, batch, classes = log_probs.shape
        rows, top = np.arange(batch), 2 * target_lengths
        beta = np.full_like(lp, -np.inf)
        start = np.full_like(lp[0], -np.inf)  # β at each sample's last frame: the final blank and the last label
        start[rows, top] = lp[input_lengths - 1, rows, top]
        labelled = target_lengths > 0
        start[rows[labelled], top[labelled] - 1] = lp[input_lengths[labelled] - 1, rows[labelled], top[labelled] - 1]
        skip_ahead = np.zeros_like(skip)  # the jump s -> s + 2 is allowed where y'_{s+2} != y'_s
        skip_ahead[:, :-2] = skip[:, 2:]
        for t in range(frames - 1, -1, -1):
            nxt = beta[t + 1] if t + 1 < frames else np.full_like(lp[0], -np.inf)
            step = _log_add3(nxt, _shifted(nxt, -1), _shifted(nxt, -2, skip_ahead)) + lp[t]
            here = np.where((t == input_lengths - 1)[:, None], start, np.where((t < input_lengths - 1)[:, None], step,
                                                                              -np.inf))
            beta[t] = np.where(valid, here, -np.inf)
        both = alpha + beta
        both[np.arange(frames)[:, None] >= input_lengths[None, :]] = -np.inf
        peak = both.max(axis=2, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)
        onehot = ((extended[:, :, None] == np.arange(classes)) & valid[:, :, None]).astype(lp.dtype)
        occupancy = np.log(np.einsum("tns,nsc->tnc", np.exp(both - peak), onehot)) + peak  # ln Σ_{y'_s = c} e^(α+β)
        g = (np.exp(log_probs) - np.exp(occupancy + nll[None, :, None] - log_probs)) * grad[None, :, None]
        g[np.arange(frames)[:, None] >= input_lengths[None, :]] = 0
        if zero_infinity:
            g[:, nll == np.inf] = 0
        return g.astype(log_probs.dtype, copy=False)


def _ctc_lengths(what, lengths, batch):
    """``input_lengths``/``target_lengths`` (a tensor or a list of ints) as an int64 array of ``batch`` entries."""
    if isinstance(lengths, soma.Tensor):
        if lengths.dtype.kind not in "iu":
            raise RuntimeError(f"ctc_loss: {what} must be integral, got dtype {lengths.dtype}")
        values = backend.to_numpy(lengths._array).reshape(-1).astype(np.int64)
    elif isinstance(lengths, (list, tuple)) and all(isinstance(v, (int, np.integer)) for v in lengths):
        values = np.asarray(lengths, dtype=np.int64).reshape(-1)
    else:
        raise TypeError(f"ctc_loss: {what} must be a tensor or a list of ints, got {type(lengths).__name__}")
    if values.size != batch:
        raise RuntimeError(f"ctc_loss: {what} must be of size batch_size ({batch}), got {values.size} entries")
    return values


def _ctc_targets(targets, target_lengths, batch, frames, input_lengths, classes):
    """The targets as a padded (N, S) int64 array: from (N, S) padded rows or their 1-d concatenation."""
    for what, values, most in (("input_lengths", input_lengths, frames), ("target_lengths", target_lengths, None)):
        if (values < 0).any():
            raise RuntimeError(f"ctc_loss: expected {what} to have values at least 0, got {values.tolist()}")
        if most is not None and (values > most).any():
            raise RuntimeError(f"ctc_loss: expected {what} to have values at most {most} (the input's length), "
                               f"got {values.tolist()}")
    data = backend.to_numpy(targets._array).astype(np.int64)
    longest = int(target_lengths.max(initial=0))
    if targets.ndim == 1:  # concatenated labels
        if data.size != target_lengths.sum():
            raise RuntimeError(f"ctc_loss: concatenated targets must have size {int(target_lengths.sum())} (the sum "
                               f"of target_lengths), got {data.size}")
        padded = np.zeros((batch, longest), dtype=np.int64)
        ends = np.cumsum(target_lengths)
        for n in range(batch):
            padded[n, :target_lengths[n]] = data[ends[n] - target_lengths[n]:ends[n]]
    elif targets.ndim == 2 and targets.shape[0] == batch:
        if targets.shape[1] < longest:
            raise RuntimeError(f"ctc_loss: expected targets to have at least {longest} labels a row (the longest "
                               f"target_length), got targets of shape {tuple(targets.shape)}")
        padded = data[:, :longest]
    else:
        raise RuntimeError(f"ctc_loss: targets must be (N, S) padded rows or their 1-d concatenation for a batch of "
                           f"{batch}, got shape {tuple(targets.shape)}")
    used = np.arange(longest)[None, :] < target_lengths[:, None]
    if ((padded < 0) | (padded >= classes))[used].any():
        raise RuntimeError(f"ctc_loss: target labels must be in [0, {classes}), got {padded[used].tolist()}")
    return padded


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification: Eₙ = -ln p(yₙ | xₙ), summed over every alignment of the
    labels yₙ to the input's frames (repeats merged, blanks removed).

    ``log_probs`` (T, N, C) (or (T, C) unbatched) are log-probabilities (``log_softmax``); ``targets`` are
    (N, S) padded rows or their concatenation (sum(target_lengths)); ``input_lengths`` and
    ``target_lengths`` (N) are tensors or lists of ints. ``reduction='mean'`` divides each loss by its
    target length (at least 1), then averages over the batch; ``zero_infinity`` replaces the infinite loss
    of an impossible alignment (and its gradient) by 0. The gradient is PyTorch's: see :class:`CTC`.
    As in PyTorch, a target should not hold the blank; where one does, soma's gradient is still the exact
    one (PyTorch's is not).
    """
    _check_reduction(reduction, "ctc_loss")
    if log_probs.dtype.kind != "f":
        raise DTypeError(f"ctc_loss: not implemented for dtype {log_probs.dtype}; give float log-probabilities")
    if log_probs.ndim not in (2, 3):
        raise ShapeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape {tuple(log_probs.shape)}")
    if log_probs.numel() == 0:
        raise RuntimeError(f"ctc_loss: log_probs tensor must not be empty, got shape {tuple(log_probs.shape)}")
    unbatched = log_probs.ndim == 2
    if unbatched:  # a batch of one; the targets stay as given (1-d: the labels themselves, as concatenated ones)
        log_probs = log_probs.unsqueeze(1)
    frames, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {classes}), got {blank}")
    input_lengths = _ctc_lengths("input_lengths", input_lengths, batch)
    target_lengths = _ctc_lengths("target_lengths", target_lengths, batch)
    padded = _ctc_targets(targets, target_lengths, batch, frames, input_lengths, classes)
    loss = CTC.apply(log_probs, padded, input_lengths, target_lengths, blank, zero_infinity)
    if zero_infinity:
        loss = soma.where(loss == np.inf, soma.zeros_like(loss), loss)
    if unbatched:
        loss = loss.reshape(())
    if reduction == "mean":
        lengths = np.maximum(target_lengths, 1).astype(loss.dtype)
        return (loss / beside(loss, lengths.reshape(loss.shape))).mean()
    return _reduce(loss, reduction)
