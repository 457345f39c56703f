"""Loss functions E(ŷ, y), computed stably, with PyTorch's arguments and ``reduction``.

The notes' losses (002, 004): squared error E = ½Σ(t - y)² (``0.5·mse_loss(reduction='sum')``),
mean squared error, binary cross-entropy -[y ln p + (1 - y) ln(1 - p)], and
cross-entropy -Σ yᵢ ln pᵢ over softmax probabilities. ``reduction`` is ``'mean'``
(default), ``'sum'`` or ``'none'`` (one loss per element or sample).

Stability: cross-entropy works from logits through log-softmax (never ln of a
softmax that underflowed to 0); BCE-with-logits uses ln(1 + e^(-|x|)); BCE from
probabilities clamps each log at -100, as PyTorch does.

Cross-entropy with class indices is one fused node (log-softmax, pick, weight,
smoothing, reduction): its gradient is the textbook ``softmax(x) - onehot(y)``.
"""

import warnings

import numpy as np

from soma._errors import DTypeError, ShapeError, check_floating, check_same_dtype
from soma.autograd.function import Function, is_grad_enabled
from soma.backend import as_array
from soma.ops._common import promote
from soma.ops._common import raw as _raw
from soma.ops.arithmetic import unbroadcast
from soma.ops.pointwise import stable_sigmoid
from soma.ops.softmax import log_softmax

__all__ = [
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "kl_div", "soft_margin_loss",
    "CrossEntropy", "NLLLoss", "BinaryCrossEntropy", "BCEWithLogits", "Huber", "KLDiv", "SoftMargin",
]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(reduction, name, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS + tuple(extra)}, got {reduction!r}")


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated ``size_average``/``reduce`` arguments, mapped to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def _check_same_shape(name, input, target, broadcast_ok=True):
    if input.shape == target.shape:
        return
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        broadcast_ok = False
    if not broadcast_ok:
        raise RuntimeError(
            f"{name}: target of shape {tuple(target.shape)} does not match input of shape "
            f"{tuple(input.shape)}"
        )
    warnings.warn(
        f"{name}: using a target size {tuple(target.shape)} that is different to the input size "
        f"{tuple(input.shape)}; they will be broadcast, which is likely not what you want",
        stacklevel=3,
    )


def _check_float(name, tensor, what):
    if tensor.dtype.kind != "f":
        raise DTypeError(f"{name}: {what} must be a floating-point tensor, got dtype {tensor.dtype}")


def _promoted_floats(name, input, target):
    """``input`` and ``target`` in the dtype PyTorch computes them in; NotImplementedError if that is no float."""
    input, target = promote(input, target)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{name}: not implemented for dtype {input.dtype} (input and target are integers)")
    return input, target


def _like_input(target, input):
    """``target`` cast to ``input``'s dtype: the losses whose PyTorch kernel writes into an input-typed result."""
    return target if target.dtype == input.dtype else target.to(input.dtype)


# --------------------------------------------------------------- class-index losses
def _rows(x):
    """(N, C, d₁, ...) -> (N·d₁·..., C) with the class dimension last; (C,) -> (1, C)."""
    if x.ndim == 1:
        return x[None, :]
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _unrows(g, shape):
    """The inverse of :func:`_rows` for a gradient."""
    if len(shape) == 1:
        return g[0]
    if len(shape) == 2:
        return g
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.moveaxis(g.reshape(moved), -1, 1)


def _pick_weights(target, weight, ignore_index, dtype):
    """Per-sample weights w[yᵢ] (0 where yᵢ = ignore_index) and the safe class indices."""
    valid = target != ignore_index
    safe = np.where(valid, target, 0) if not valid.all() else target
    if weight is None:
        w_t = valid.astype(dtype)
    else:
        w_t = weight[safe] * valid
    return safe, valid, w_t


def _reduce_picked(loss, picked_weights, shape, reduction):
    """Reduce per-sample class losses: (the result, the denominator of "mean" or None). "mean" divides by the
    summed weights of the targets (PyTorch's weighted mean), which backward needs again."""
    if reduction == "none":
        return loss.reshape(shape), None
    if reduction == "sum":
        return as_array(loss.sum()), None
    denominator = as_array(picked_weights.sum())
    with np.errstate(invalid="ignore"):  # every target ignored: 0/0 = NaN, as PyTorch (silently)
        return as_array(loss.sum() / denominator), denominator


def _per_sample_grad(grad, n, reduction, denominator):
    """The upstream gradient reaching each of the ``n`` per-sample losses."""
    if reduction == "none":
        return grad.reshape(-1)
    if reduction == "sum":
        return np.broadcast_to(grad, (n,))
    if denominator == 0:  # every target ignored: the loss is 0/0 = NaN, its gradient 0 (as PyTorch)
        return np.zeros_like(grad, shape=(n,))
    return np.broadcast_to(grad / denominator, (n,))


class CrossEntropy(Function):
    """Eᵢ = -(1-ε)·w_yᵢ·ln softmax(xᵢ)_yᵢ - (ε/C)·Σ_c w_c ln softmax(xᵢ)_c"""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, smoothing, reduction):
        shape = x.shape
        x2 = _rows(x)
        t = target.reshape(-1)
        rows = np.arange(x2.shape[0], like=x2)
        shifted = x2 - x2.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        logp = shifted - np.log(total)
        safe, valid, w_t = _pick_weights(t, weight, ignore_index, x.dtype)
        loss = -w_t * logp[rows, safe]
        classes = x2.shape[1]
        if smoothing:
            smooth = -(logp.sum(axis=1) if weight is None else logp @ weight) * valid
            loss = (1 - smoothing) * loss + (smoothing / classes) * smooth
        out, denominator = _reduce_picked(loss, w_t, target.shape, reduction)
        ctx.save_for_backward(e, total, safe, valid, w_t, weight, denominator)
        ctx.shape, ctx.smoothing, ctx.reduction = shape, smoothing, reduction
        return out

    @staticmethod
    def backward(ctx, grad):
        # ∂Eᵢ/∂xᵢ = softmax(xᵢ)·Σ_c cᵢ_c - cᵢ, with cᵢ_c the coefficient of ln softmax_c in Eᵢ;
        # without weights or smoothing that is softmax(xᵢ) - onehot(yᵢ)
        e, total, safe, valid, w_t, weight, denominator = ctx.saved_tensors
        smoothing = ctx.smoothing
        n, classes = e.shape
        g = _per_sample_grad(grad, n, ctx.reduction, denominator)
        g_pick = g * w_t * (1 - smoothing)
        coefficient_sum = g_pick
        if smoothing:
            w_sum = classes if weight is None else weight.sum()
            coefficient_sum = g_pick + g * valid * (smoothing / classes) * w_sum
        out = e * (coefficient_sum[:, None] / total)
        out[np.arange(n, like=out), safe] -= g_pick
        if smoothing:
            w = 1 if weight is None else weight
            out -= (g * valid * (smoothing / classes))[:, None] * w
        return _unrows(out, ctx.shape), None, None, None, None, None


class NLLLoss(Function):
    """Eᵢ = -w_yᵢ·xᵢ,yᵢ (x holds log-probabilities)"""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        x2 = _rows(x)
        t = target.reshape(-1)
        safe, valid, w_t = _pick_weights(t, weight, ignore_index, x.dtype)
        loss = -w_t * x2[np.arange(x2.shape[0], like=x2), safe]
        out, denominator = _reduce_picked(loss, w_t, target.shape, reduction)
        ctx.save_for_backward(safe, w_t, denominator)
        ctx.shape, ctx.rows_shape, ctx.reduction = x.shape, x2.shape, reduction
        return out

    @staticmethod
    def backward(ctx, grad):
        # ∂Eᵢ/∂xᵢ,c = -w_yᵢ for c = yᵢ, else 0
        safe, w_t, denominator = ctx.saved_tensors
        n = ctx.rows_shape[0]
        g = _per_sample_grad(grad, n, ctx.reduction, denominator)
        out = np.zeros_like(grad, shape=ctx.rows_shape)
        out[np.arange(n, like=out), safe] = -g * w_t
        return _unrows(out, ctx.shape), None, None, None, None


def _check_class_weight(name, input, weight):
    """``weight`` must hold one value per class, as PyTorch's (a RuntimeError otherwise)."""
    if weight is None:
        return
    classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if tuple(weight.shape) != (classes,):
        raise RuntimeError(
            f"{name}: weight tensor should be defined either for all {classes} classes or no classes but got "
            f"weight tensor of shape {tuple(weight.shape)} (input of shape {tuple(input.shape)})"
        )


def _check_class_target(name, input, target, ignore_index):
    """Validate class-index targets: int dtype, shape (N, d...) for input (N, C, d...), range."""
    if target.dtype.kind not in "iu":
        raise DTypeError(
            f"{name}: class-index target must be an integer tensor (int64), got dtype {target.dtype}"
        )
    expected = input.shape[:1] + input.shape[2:] if input.ndim >= 2 else ()
    if tuple(target.shape) != tuple(expected):
        raise ShapeError(
            f"{name}: expected target of shape {tuple(expected)} (class indices) for input of "
            f"shape {tuple(input.shape)}, got target of shape {tuple(target.shape)}"
        )
    classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    data = target._array
    bad = (data != ignore_index) & ((data < 0) | (data >= classes))
    if bad.any():
        raise IndexError(
            f"{name}: target {int(data[bad].flat[0])} is out of bounds for {classes} classes"
        )


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` (N, C, ...) against class indices or probabilities.

    With class indices y: Eᵢ = -w_yᵢ ln softmax(xᵢ)_yᵢ; ``reduction='mean'`` divides by
    Σᵢ w_yᵢ (the number of non-ignored samples when unweighted). With probability
    targets p (same shape as input): Eᵢ = -Σ_c w_c p_c ln softmax(xᵢ)_c, mean over samples.
    ``label_smoothing`` ε mixes the target with the uniform distribution: (1-ε)·y + ε/C.

    Example::

        >>> F.cross_entropy(soma.tensor([[2.0, 0.5, -1.0]]), soma.tensor([0]))
        tensor(0.2413)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cross_entropy")
    _check_float("cross_entropy", input, "input")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    _check_class_weight("cross_entropy", input, weight)
    check_same_dtype("cross_entropy", input=input, weight=weight)
    w = None if weight is None else _raw(weight)
    if target.dtype.kind == "f":
        if target.shape != input.shape:
            raise ShapeError(
                f"cross_entropy: probability target of shape {tuple(target.shape)} must match "
                f"input of shape {tuple(input.shape)} (or give class indices as int64)"
            )
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    _check_class_target("cross_entropy", input, target, ignore_index)
    return CrossEntropy.apply(input, target._array, w, ignore_index, label_smoothing, reduction)


def _cross_entropy_probabilities(input, target, weight, reduction, smoothing):
    dim = 1 if input.ndim >= 2 else 0
    classes = input.shape[dim]
    if smoothing:
        target = target * (1 - smoothing) + smoothing / classes
    logp = log_softmax(input, dim)
    if weight is not None:
        shape = [1] * input.ndim
        shape[dim] = classes
        logp = logp * weight.reshape(shape)
    loss = -(logp * target).sum(dim)
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C, ...): Eᵢ = -w_yᵢ·xᵢ,yᵢ."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    _check_float("nll_loss", input, "input")
    _check_class_target("nll_loss", input, target, ignore_index)
    _check_class_weight("nll_loss", input, weight)
    check_same_dtype("nll_loss", input=input, weight=weight)
    w = None if weight is None else _raw(weight)
    return NLLLoss.apply(input, target._array, w, ignore_index, reduction)


# ------------------------------------------------------------------ binary losses
BCE_EPSILON = float(np.float32(1e-12))  # PyTorch's clamp of p(1 - p) in BCE's gradient, a float32 constant
class BinaryCrossEntropy(Function):
    """E = -[y·ln p + (1 - y)·ln(1 - p)], each log clamped at -100"""

    @staticmethod
    def forward(ctx, p, y):
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_q = np.maximum(np.log1p(-p), -100)
        ctx.save_for_backward(p, y)
        return -(y * log_p + (1 - y) * log_q)

    @staticmethod
    def backward(ctx, grad):
        # ∂E/∂p = (p - y) / (p(1 - p)) (denominator clamped at PyTorch's float32 1e-12);
        # ∂E/∂y = ln(1-p) - ln p (unclamped, as PyTorch: ±inf at p = 0 or 1)
        p, y = ctx.saved_tensors
        need_p, need_y = ctx.needs_input_grad
        grad_p = grad_y = None
        if need_p:
            grad_p = grad * (p - y) / np.maximum(p * (1 - p), BCE_EPSILON)
        if need_y:
            with np.errstate(divide="ignore"):
                grad_y = unbroadcast(grad * (np.log1p(-p) - np.log(p)), np.shape(y))
        return grad_p, grad_y


class BCEWithLogits(Function):
    """E = (1 - y)·x + (1 + (pw - 1)·y)·ln(1 + e⁻ˣ), i.e. BCE of σ(x), stably"""

    @staticmethod
    def forward(ctx, x, y, pos_weight):
        softplus_neg = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))  # ln(1 + e⁻ˣ)
        if pos_weight is None:
            log_weight = 1
        else:
            log_weight = 1 + (pos_weight - 1) * y
        ctx.save_for_backward(x, y, pos_weight, softplus_neg)
        # in the target's dtype, as PyTorch's kernel, which computes in place on (1 - y)
        return ((1 - y) * x + log_weight * softplus_neg).astype(y.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # ∂E/∂x = (1 - y) - (1 + (pw-1)y)·σ(-x); ∂E/∂y = -x + (pw - 1)·ln(1 + e⁻ˣ); ∂E/∂pw = y·ln(1 + e⁻ˣ)
        x, y, pos_weight, softplus_neg = ctx.saved_tensors
        need_x, need_y, need_pw = ctx.needs_input_grad
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        grad_x = grad_y = grad_pw = None
        if need_x:
            grad_x = unbroadcast(grad * ((1 - y) - log_weight * stable_sigmoid(-x)), x.shape)
            grad_x = grad_x.astype(x.dtype, copy=False)
        if need_y:
            extra = 0 if pos_weight is None else (pos_weight - 1) * softplus_neg
            grad_y = unbroadcast(grad * (extra - x), np.shape(y)).astype(y.dtype, copy=False)
        if need_pw:
            grad_pw = unbroadcast(grad * y * softplus_neg, pos_weight.shape).astype(pos_weight.dtype, copy=False)
        return grad_x, grad_y, grad_pw


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """E = -w·[y·ln p + (1 - y)·ln(1 - p)] for probabilities p = ``input`` in [0, 1] (notes 002)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy")
    _check_float("binary_cross_entropy", input, "input")
    _check_float("binary_cross_entropy", target, "target")
    check_same_dtype("binary_cross_entropy", input=input, target=target)
    if target.shape != input.shape:
        raise ShapeError(
            f"binary_cross_entropy: target of shape {tuple(target.shape)} must have the same shape "
            f"as input {tuple(input.shape)}"
        )
    for what, tensor, hint in (("input", input, " (probabilities; for logits use binary_cross_entropy_with_logits)"),
                               ("target", target, "")):
        data = tensor._array
        outside = ~((data >= 0) & (data <= 1))  # NaN is outside too, as in PyTorch
        if outside.any():
            raise RuntimeError(
                f"binary_cross_entropy: all elements of {what} should be between 0 and 1{hint}, got "
                f"{data[outside].flat[0]:g} in {what} of shape {tuple(tensor.shape)}"
            )
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """BCE of σ(x) computed from logits x without overflow; ``pos_weight`` scales positives."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    _check_float("binary_cross_entropy_with_logits", input, "input")
    _check_float("binary_cross_entropy_with_logits", target, "target")
    if target.shape != input.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: target size {tuple(target.shape)} must be the same "
            f"as input size {tuple(input.shape)}"
        )
    loss = BCEWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = _like_input(loss * weight, target)  # PyTorch multiplies in place: the target's dtype stays
    return _reduce(loss, reduction)


# --------------------------------------------------------------- regression losses
class Huber(Function):
    """E = ½d² for |d| < δ, else δ(|d| - ½δ), d = x - y; divided by ``scale`` (smooth-L1 uses δ)"""

    @staticmethod
    def forward(ctx, x, y, delta, scale):
        d = x - y
        a = np.abs(d)
        ctx.save_for_backward(d)
        ctx.x_shape, ctx.y_shape, ctx.delta, ctx.scale = np.shape(x), np.shape(y), delta, scale
        loss = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
        return loss / scale if scale != 1 else loss

    @staticmethod
    def backward(ctx, grad):
        # ∂E/∂x = clamp(d, -δ, δ)/scale = -∂E/∂y
        (d,) = ctx.saved_tensors
        delta, scale = ctx.delta, ctx.scale
        g = grad * np.clip(d, -delta, delta)
        if scale != 1:
            g = g / scale
        need_x, need_y = ctx.needs_input_grad[:2]
        return (unbroadcast(g, ctx.x_shape) if need_x else None,
                unbroadcast(-g, ctx.y_shape) if need_y else None, None, None)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """E = (ŷ - y)², averaged (notes 002: MSE = (1/n)Σ(yᵢ - ŷᵢ)²)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "mse_loss")
    _check_same_shape("mse_loss", input, target)
    input, target = _promoted_floats("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """E = |ŷ - y|"""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "l1_loss")
    _check_same_shape("l1_loss", input, target)
    diff = (input - target).abs()
    if reduction == "mean" and diff.dtype.kind != "f":
        raise RuntimeError(f"l1_loss: the mean of integer input and target (dtype {diff.dtype}) is undefined; "
                           "give floating-point tensors")
    return _reduce(diff, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """E = ½d² for |d| < δ, else δ(|d| - ½δ): squared near 0, linear (robust) far away."""
    check_floating("huber_loss", input)
    _check_reduction(reduction, "huber_loss")
    _check_same_shape("huber_loss", input, target)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    loss = Huber.apply(input, _like_input(target, input), delta, 1)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """E = ½d²/β for |d| < β, else |d| - ½β (Huber divided by β; L1 for β = 0)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "smooth_l1_loss")
    _check_same_shape("smooth_l1_loss", input, target)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    input, target = _promoted_floats("smooth_l1_loss", input, target)
    return _reduce(Huber.apply(input, target, beta, beta), reduction)


class KLDiv(Function):
    """E = y·(ln y - x) (0 where y = 0), or e^y·(y - x) with ``log_target``"""

    @staticmethod
    def forward(ctx, x, y, log_target):
        if log_target:
            ey = np.exp(y)
            loss = ey * (y - x)
        else:
            ey = y
            with np.errstate(divide="ignore", invalid="ignore"):  # y < 0 gives NaN, as PyTorch's xlogy
                y_log_y = np.where(y == 0, 0, y * np.log(np.where(y == 0, 1, y)))  # 0·ln 0 = 0
            loss = y_log_y - y * x
        ctx.save_for_backward(x, y, ey)
        ctx.log_target = log_target
        return loss

    @staticmethod
    def backward(ctx, grad):
        # ∂E/∂x = -y (or -e^y); ∂E/∂y = ln y + 1 - x (or e^y·(y - x + 1))
        x, y, ey = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad[:2]
        grad_x = unbroadcast(-grad * ey, x.shape) if need_x else None
        grad_y = None
        if need_y:
            if ctx.log_target:
                grad_y = grad * ey * (y - x + 1)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    grad_y = grad * np.where(y == 0, 0, np.log(np.where(y == 0, 1, y)) + 1 - x)
            grad_y = unbroadcast(grad_y, y.shape)
        return grad_x, grad_y, None


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence KL(y ‖ p) with ``input`` = ln p (log-probabilities).

    ``reduction='batchmean'`` divides the sum by the batch size (the true KL per sample);
    ``'mean'`` divides by the number of elements, as PyTorch does.
    """
    check_floating("kl_div", input)
    if target.dtype.kind not in "fc":
        raise RuntimeError(f"kl_div: Integral inputs not supported (target of dtype {target.dtype})")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "kl_div", ("batchmean",))
    _check_same_shape("kl_div", input, target)
    loss = KLDiv.apply(input, target, log_target)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


class SoftMargin(Function):
    """E = ln(1 + e^(-y·x)), written as PyTorch's kernel writes it (e^(-y·x) may overflow to inf, as there)"""

    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(over="ignore"):
            z = np.exp(-y * x)
        ctx.save_for_backward(y, z)
        return np.log1p(z)

    @staticmethod
    def backward(ctx, grad):
        # ∂E/∂x = -y·z/(1 + z), z = e^(-y·x) (NaN where z overflowed, as PyTorch's)
        y, z = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            return grad * (-y * z / (1 + z)), None


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """E = ln(1 + e^(-y·x)) for labels y ∈ {-1, 1}; no gradient for the labels, as in PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "soft_margin_loss")
    check_floating("soft_margin_loss", input)
    _check_same_shape("soft_margin_loss", input, target)
    if target.requires_grad and is_grad_enabled():
        raise RuntimeError("soft_margin_loss: not differentiable with respect to target; detach it")
    return _reduce(SoftMargin.apply(input, _like_input(target, input)), reduction)
