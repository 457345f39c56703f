"""Margin losses: ranking, embedding (hinge, cosine, triplet) and multi-class/multi-label margins.

Each is a hinge [m - s]₊ = max(0, m - s) on a score s that should exceed a margin m, composed from
differentiable soma ops as PyTorch composes them (so the gradients, ties at the hinge included, are
PyTorch's: ``clamp_min``'s passes at [0]₊, the multi-class margins' only where z > 0):

* ranking: E = [m - y·(x₁ - x₂)]₊ for y ∈ {1, -1} saying which of x₁, x₂ should rank higher;
* hinge embedding: E = x where y = 1, [m - x]₊ where y = -1 (x a distance);
* cosine embedding: E = 1 - cos(x₁, x₂) where y = 1, [cos(x₁, x₂) - m]₊ where y = -1;
* triplet: E = [m + d(a, p) - d(a, n)]₊ for an anchor a, a positive p and a negative n;
* multi-class margin: Eᵢ = Σ_{j≠yᵢ} w_yᵢ·[m - x_yᵢ + x_j]₊^p / C;
* multi-label margin: Eᵢ = Σ_{j ∈ Yᵢ} Σ_{k ∉ Yᵢ} [1 - x_j + x_k]₊ / C;
* multi-label soft margin: Eᵢ = -Σ_c w_c [y_c ln σ(x_c) + (1 - y_c) ln σ(-x_c)] / C.
"""

import numpy as np

import soma
from soma import backend
from soma._errors import DTypeError, ShapeError, check_floating, check_same_dtype
from soma.nn._utils import beside
from soma.nn.functional.activation import logsigmoid
from soma.nn.functional.distance import pairwise_distance
from soma.nn.functional.loss import _check_reduction, _legacy_reduction, _reduce

__all__ = [
    "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss",
]

COSINE_EPSILON = float(np.float32(1e-12))  # PyTorch's cosine_embedding_loss adds it to each squared magnitude (a float)


def _check_broadcast(name, **tensors):
    """The tensors' shapes broadcast, or a RuntimeError naming the function and every shape."""
    try:
        np.broadcast_shapes(*(t.shape for t in tensors.values()))
    except ValueError:
        listing = ", ".join(f"{k} {tuple(t.shape)}" for k, t in tensors.items())
        raise ShapeError(f"{name}: the shapes do not broadcast: {listing}") from None


def _reduction(name, size_average, reduce, reduction):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, name)
    return reduction


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """E = max(0, -y·(x₁ - x₂) + margin) for y ∈ {1, -1}: y = 1 says x₁ should rank above x₂.

    The three tensors must have the same number of dimensions (they broadcast); ``target`` is
    differentiated too, as in PyTorch.
    """
    reduction = _reduction("margin_ranking_loss", size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss: all input tensors should have the same number of dimensions, got input1 "
            f"{tuple(input1.shape)}, input2 {tuple(input2.shape)}, target {tuple(target.shape)}"
        )
    _check_broadcast("margin_ranking_loss", input1=input1, input2=input2, target=target)
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """E = x where y = 1, max(0, margin - x) where y = -1 (x a distance, y ∈ {1, -1}).

    A label that is neither gets both terms, as in PyTorch; the labels get no gradient.
    """
    reduction = _reduction("hinge_embedding_loss", size_average, reduce, reduction)
    _check_broadcast("hinge_embedding_loss", input=input, target=target)
    zeros = soma.zeros_like(input)
    margin_term = soma.where(target != 1, (margin - input).clamp_min(0), zeros)
    loss = margin_term + soma.where(target != -1, input, zeros)
    if input.dtype.kind != "f":  # PyTorch keeps an integer input's dtype (and its mean then fails)
        loss = loss.to(input.dtype)
        if reduction == "mean":
            raise RuntimeError(f"hinge_embedding_loss: the mean of an integer input (dtype {input.dtype}) is "
                               "undefined; give a floating-point tensor")
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """E = 1 - cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) - margin) where y = -1.

    cos(x₁, x₂) = x₁·x₂ / √((‖x₁‖² + ε)(‖x₂‖² + ε)) with ε = 1e-12 (in float32), PyTorch's own formula here
    (not ``cosine_similarity``'s clamp of each norm). Inputs (N, D) with targets (N), or (D) with a
    0-d target.
    """
    reduction = _reduction("cosine_embedding_loss", size_average, reduce, reduction)
    dim = target.ndim
    if dim > 1:
        raise ShapeError(f"cosine_embedding_loss: 0-d or 1-d target expected (multi-target is not supported), "
                         f"got target of shape {tuple(target.shape)}")
    if input1.ndim != dim + 1 or input2.ndim != dim + 1:
        raise ShapeError(f"cosine_embedding_loss: a {dim}-d target expects {dim + 1}-d inputs, got input1 "
                         f"{tuple(input1.shape)} and input2 {tuple(input2.shape)}")
    _check_broadcast("cosine_embedding_loss", input1=input1, input2=input2)
    product = (input1 * input2).sum(dim)
    magnitudes = ((input1 * input1).sum(dim) + COSINE_EPSILON) * ((input2 * input2).sum(dim) + COSINE_EPSILON)
    cos = product / magnitudes.sqrt()
    zeros = soma.zeros_like(cos)
    loss = soma.where(target == 1, 1 - cos, zeros) + soma.where(target == -1, (cos - margin).clamp_min(0), zeros)
    return _reduce(loss, reduction)


def _check_triplet(name, anchor, positive, negative, margin):
    if margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(
            f"{name}: the anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, got anchor {tuple(anchor.shape)}, positive {tuple(positive.shape)} and negative "
            f"{tuple(negative.shape)}"
        )
    _check_broadcast(name, anchor=anchor, positive=positive, negative=negative)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    """[m + d(a, p) - d(a, n)]₊, with d(a, n) replaced by min(d(a, n), d(p, n)) when ``swap``."""
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = soma.minimum(dist_neg, distance(positive, negative))
    return _reduce((margin + distance(anchor, positive) - dist_neg).clamp_min(0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """E = max(0, margin + d(a, p) - d(a, n)), d(x, y) = ‖x - y + ε‖_p over the last dimension.

    ``swap`` uses min(d(a, n), d(p, n)) for the negative distance (Balntas et al., 2016).
    """
    reduction = _reduction("triplet_margin_loss", size_average, reduce, reduction)
    _check_triplet("triplet_margin_loss", anchor, positive, negative, margin)
    return _triplet(anchor, positive, negative, lambda x1, x2: pairwise_distance(x1, x2, p, eps), margin, swap,
                    reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """The triplet loss with any ``distance_function(x, y)`` (default: the Euclidean pairwise distance)."""
    _check_reduction(reduction, "triplet_margin_with_distance_loss")
    _check_triplet("triplet_margin_with_distance_loss", anchor, positive, negative, margin)
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance, margin, swap, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Eᵢ = -(1/C)·Σ_c w_c [y_c ln σ(x_c) + (1 - y_c) ln σ(-x_c)] over the last (class) dimension."""
    reduction = _reduction("multilabel_soft_margin_loss", size_average, reduce, reduction)
    check_floating("multilabel_soft_margin_loss", input)
    _check_broadcast("multilabel_soft_margin_loss", input=input, target=target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    classes = input.shape[input.ndim - 1] if input.ndim else 1
    return _reduce(loss.sum(input.ndim - 1) / classes, reduction)


def _positive(z, terms):
    """z where z > 0 and ``terms`` holds, else 0: PyTorch's multi-margin kernels count a term only where z > 0,
    so a NaN z adds nothing and z = 0 passes no gradient (``relu`` would keep the NaN, ``clamp_min`` pass the
    gradient), and a term left out is 0 even where z is infinite (a product with a 0/1 mask would give NaN)."""
    return soma.where(terms & (z > 0), z, soma.zeros_like(z))


def _margin_frames(name, input, target, weight=None):
    """(N, C) rows of ``input`` (a vector is one sample), checked as PyTorch's multi-margin kernels check."""
    check_floating(name, input)
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise ShapeError(f"{name}: expected a non-empty vector or matrix (N, C) with an optional 0-size batch, "
                         f"got input of shape {tuple(input.shape)}")
    if target.dtype.kind not in "iu":
        raise DTypeError(f"{name}: target must hold int64 class indices, got dtype {target.dtype}")
    check_same_dtype(name, input=input, weight=weight)
    return input.reshape(-1, input.shape[-1] if input.ndim else 1)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge: Eᵢ = (1/C)·Σ_{j≠yᵢ} w_yᵢ·max(0, margin - x_yᵢ + x_j)^p, p ∈ {1, 2}.

    ``input`` (N, C) or (C), ``target`` (N) class indices (or a 0-d one for a vector).
    """
    reduction = _reduction("multi_margin_loss", size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got p={p}")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"multi_margin_loss: weight must be one-dimensional, got shape {tuple(weight.shape)}")
    x = _margin_frames("multi_margin_loss", input, target, weight)
    frames, classes = x.shape
    if target.ndim > 1 or target.numel() != frames:
        raise ShapeError(f"multi_margin_loss: inconsistent target size, expected {frames} class indices for "
                         f"input of shape {tuple(input.shape)}, got target of shape {tuple(target.shape)}")
    if weight is not None and weight.numel() != classes:
        raise ShapeError(f"multi_margin_loss: inconsistent weight size, expected {classes}, got "
                         f"{tuple(weight.shape)}")
    labels = backend.to_numpy(target._array).reshape(-1)  # bookkeeping on the host, moved with beside
    if ((labels < 0) | (labels >= classes)).any():
        raise RuntimeError(f"multi_margin_loss: target out of range: class indices must be in [0, {classes}), "
                           f"got {labels.tolist()}")
    index = beside(x, labels[:, None])
    others = beside(x, np.arange(classes)[None, :] != labels[:, None])
    hinge = _positive(margin - x.gather(1, index) + x, others)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight.gather(0, beside(weight, labels))[:, None]
    loss = hinge.sum(1) / classes
    return _reduce(loss if target.ndim else loss.reshape(()), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge: Eᵢ = (1/C)·Σ_{j ∈ Yᵢ} Σ_{k ∉ Yᵢ} max(0, 1 - x_j + x_k).

    ``target`` has the input's shape; each row's labels Yᵢ are its entries before the first -1.
    """
    reduction = _reduction("multilabel_margin_loss", size_average, reduce, reduction)
    x = _margin_frames("multilabel_margin_loss", input, target)
    frames, classes = x.shape
    if input.ndim <= 1:
        consistent = target.ndim <= 1 and target.numel() == classes
    else:
        consistent = tuple(target.shape) == (frames, classes)
    if not consistent:
        raise ShapeError(f"multilabel_margin_loss: inconsistent target size: {tuple(target.shape)} for input of "
                         f"shape {tuple(input.shape)}")
    labels = backend.to_numpy(target._array).reshape(frames, classes)
    if ((labels < -1) | (labels >= classes)).any():
        raise RuntimeError(f"multilabel_margin_loss: target index out of range: labels must be in [-1, {classes})")
    listed = np.cumprod(labels >= 0, axis=1).astype(bool)  # the entries before the first -1
    counts = np.zeros((frames, classes), dtype=np.int64)  # how often each class is listed (repeats count)
    rows = np.broadcast_to(np.arange(frames)[:, None], labels.shape)
    np.add.at(counts, (rows[listed], labels[listed]), 1)
    pairs = counts[:, :, None] * (counts == 0)[:, None, :]  # (N, j, k): j listed, k not
    hinge = _positive(1 - x[:, :, None] + x[:, None, :], beside(x, pairs > 0)) * beside(x, pairs.astype(input.dtype))
    loss = hinge.sum((1, 2)) / classes
    return _reduce(loss if input.ndim > 1 else loss.reshape(()), reduction)
