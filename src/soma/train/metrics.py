"""Metrics: how good are the predictions? Classification and regression.

Every function takes array-likes (NumPy arrays, lists, soma Tensors through
``__array__``) and returns Python floats, or NumPy arrays for per-class
results. Where a class label is needed, scores of shape ``(N, C)`` (logits
or probabilities) become labels by ``argmax`` over the classes, so a
model's output can be passed as it is. Everything is vectorized: counts come
from one ``np.bincount``.

Classification, from the confusion matrix ``M`` (``M[i, j]`` = samples of
true class ``i`` predicted as ``j``), for class ``c``:

    TP = M[c, c]    FP = Σ_i M[i, c] − TP    FN = Σ_j M[c, j] − TP

    precision = TP / (TP + FP)    recall = TP / (TP + FN)
    F1 = 2 · precision · recall / (precision + recall) = 2TP / (2TP + FP + FN)

A ratio whose denominator is 0 counts as 0 (scikit-learn's default).

Regression: ``MAE = mean |y − ŷ|``, ``MSE = mean (y − ŷ)²``,
``R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "accuracy",
    "confusion_matrix",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_recall_f1",
    "r2_score",
    "top_k_accuracy",
]


def _labels(y, name: str) -> np.ndarray:
    """Integer labels ``(N,)`` from labels ``(N,)`` or scores ``(N, C)`` (argmax)."""
    y = np.asarray(y)
    if y.ndim == 2:
        if y.shape[1] == 1:
            raise ValueError(
                f"{name} has shape {y.shape}: one score per sample cannot be argmaxed; "
                f"threshold it yourself, e.g. (scores > 0.5).astype(int)"
            )
        return y.argmax(axis=1)
    if y.ndim != 1:
        raise ValueError(f"{name} must be labels (N,) or scores (N, C), got shape {y.shape}")
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError(f"{name} must hold integer class labels, got {y.dtype} values like {y[0]}")
    return y.astype(np.int64, copy=False)


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {len(y_true)} samples, y_pred {len(y_pred)}")
    return y_true, y_pred


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions: ``mean(ŷ_n == y_n)``.

    Args:
        y_true: labels ``(N,)``, or one-hot ``(N, C)``.
        y_pred: labels ``(N,)``, or scores ``(N, C)`` (argmaxed).

    Example:
        >>> scores = [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]]
        >>> accuracy([0, 1, 2, 2], scores)
        0.75
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred)) if y_true.size else 0.0


def top_k_accuracy(y_true, scores, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    The rank of the true class is the number of classes scored strictly
    higher; a sample counts when that rank is below ``k``. Ties therefore
    count in the sample's favour (as Keras's ``top_k_categorical_accuracy``).
    ``k=1`` is :func:`accuracy` when there are no ties.

    Args:
        y_true: labels ``(N,)``.
        scores: scores ``(N, C)``.
        k: how many of the top classes count as a hit.

    Example:
        >>> top_k_accuracy([2, 0], [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]], k=2)
        0.0
        >>> top_k_accuracy([1, 2], [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]], k=2)
        1.0
    """
    y_true, scores = _labels(y_true, "y_true"), np.asarray(scores)
    if scores.ndim != 2 or len(scores) != len(y_true):
        raise ValueError(f"scores must have shape ({len(y_true)}, C), got {scores.shape}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    true_score = scores[np.arange(len(y_true)), y_true]
    rank = np.sum(scores > true_score[:, None], axis=1)
    return float(np.mean(rank < k)) if len(y_true) else 0.0


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts ``M[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    Rows are true classes and columns predictions, as in scikit-learn; the
    diagonal holds the correct predictions.

    Args:
        y_true: labels ``(N,)`` in ``0..num_classes-1``, or one-hot ``(N, C)``.
        y_pred: labels ``(N,)`` or scores ``(N, C)`` (argmaxed).
        num_classes: ``K``; by default the largest label seen plus one.

    Returns:
        int64 array ``(K, K)``.

    Example:
        >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2]).tolist()
        [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.size and min(y_true.min(), y_pred.min()) < 0:
        raise ValueError("class labels must be >= 0")
    seen = int(max(y_true.max(), y_pred.max())) + 1 if y_true.size else 0
    k = seen if num_classes is None else num_classes
    if seen > k:
        raise ValueError(f"label {seen - 1} is out of range for num_classes={k}")
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0."""
    safe = np.where(denominator == 0, 1, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


def precision_recall_f1(
    y_true, y_pred, average: str | None = "macro", num_classes: int | None = None
):
    """Precision, recall and F1, per class or averaged over the classes.

    Per class ``c`` (see the module docstring for TP, FP, FN):
    ``P = TP/(TP+FP)``, ``R = TP/(TP+FN)``, ``F1 = 2TP/(2TP+FP+FN)``.

    Averages (as scikit-learn's ``precision_recall_fscore_support``):

    * ``"macro"``: the plain mean over classes -- every class counts the same;
    * ``"weighted"``: the mean weighted by each class's support (its number
      of true samples);
    * ``"micro"``: P, R and F1 of the summed TP, FP, FN -- for single-label
      classification all three equal the accuracy;
    * ``"binary"``: the values of class 1, the positive class;
    * ``None``: no average, one value per class.

    The macro and weighted averages run over the classes that occur in
    ``y_true`` or ``y_pred`` (scikit-learn's default), so an unused label
    number does not drag the mean down.

    Args:
        y_true: labels ``(N,)`` or one-hot ``(N, C)``.
        y_pred: labels ``(N,)`` or scores ``(N, C)`` (argmaxed).
        average: ``"macro"``, ``"micro"``, ``"weighted"``, ``"binary"`` or ``None``.
        num_classes: ``K``; by default the largest label seen plus one.

    Returns:
        ``(precision, recall, f1)``: three floats, or with ``average=None``
        three float64 arrays ``(K,)`` indexed by class.

    Example:
        >>> p, r, f1 = precision_recall_f1([0, 0, 1, 1], [0, 1, 1, 1], average=None)
        >>> p.tolist(), r.tolist()
        ([1.0, 0.6666666666666666], [0.5, 1.0])
    """
    if average not in ("macro", "micro", "weighted", "binary", None):
        raise ValueError(
            f'average must be "macro", "micro", "weighted", "binary" or None, got {average!r}'
        )
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(matrix).astype(np.float64)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)  # TP+FP, TP+FN
    if average == "micro":
        tp, predicted, support = tp.sum(), predicted.sum(), support.sum()
    precision, recall = _ratio(tp, predicted), _ratio(tp, support)
    f1 = _ratio(2 * tp, predicted + support)
    if average is None:
        return precision, recall, f1
    if average == "micro":
        return float(precision), float(recall), float(f1)
    if average == "binary":
        if len(matrix) > 2:
            raise ValueError(f'average="binary" needs 2 classes, got {len(matrix)}; use "macro"')
        return tuple(float(m[1]) if len(m) > 1 else 0.0 for m in (precision, recall, f1))
    present = (predicted + support) > 0
    weights = present.astype(np.float64) if average == "macro" else support.astype(np.float64)
    total = weights.sum()
    return tuple(float(m @ weights / total) if total else 0.0 for m in (precision, recall, f1))


def mean_absolute_error(y_true, y_pred) -> float:
    """``MAE = (1/N) Σ |y_n − ŷ_n|`` (over all outputs for 2-D targets)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(np.abs(y_true - y_pred)))


def mean_squared_error(y_true, y_pred) -> float:
    """``MSE = (1/N) Σ (y_n − ŷ_n)²`` (over all outputs for 2-D targets)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    return float(np.mean((y_true - y_pred) ** 2))


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination: ``R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²``.

    1 is a perfect fit, 0 is no better than always predicting the mean ȳ,
    negative is worse than that. A constant ``y_true`` gives 1 for a perfect
    prediction and 0 otherwise (scikit-learn's convention). For targets
    ``(N, D)`` each output gets its own R², and the D values are averaged.

    Example:
        >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
        0.5
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape}, y_pred {y_pred.shape}")
    residual = np.sum((y_true - y_pred) ** 2, axis=0)
    total = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    perfect = np.where(residual == 0, 1.0, 0.0)
    return float(np.mean(np.where(total == 0, perfect, 1 - _ratio(residual, total))))
