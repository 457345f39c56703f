"""The train/test split every loader in :mod:`soma.datasets` shares.

A split must be reproducible (the same ``seed`` gives the same rows on every
machine), stratified for classification (each class keeps its share in both
halves, so a 20 % test set of a balanced data set is balanced too), and
honest (no row in both halves). The recipe:

1. draw one seeded permutation of all ``N`` rows
   (``numpy.random.default_rng(seed).permutation(N)``);
2. group it by class with a *stable* sort, so each class's rows stay in
   random order;
3. give class ``c`` (with ``n_c`` rows) ``k_c`` test rows, where the ``k_c``
   are ``n_test * n_c / N`` rounded by the largest-remainder method, so that
   they add up to exactly ``n_test``;
4. the first ``k_c`` rows of each class go to the test set, the rest to the
   training set; both keep the order of the permutation (shuffled, not
   grouped by class).

``n_test`` is ``ceil(test_size * N)`` for a fraction (as in scikit-learn's
``train_test_split``) or ``test_size`` itself for an integer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class Split(tuple):
    """A train/test split: the pair ``((X_train, y_train), (X_test, y_test))``.

    It *is* that 2-tuple, so it unpacks the way Keras's loaders do::

        (X_train, y_train), (X_test, y_test) = soma.datasets.iris()

    and it also carries names for what is inside.

    Attributes:
        train: ``(X_train, y_train)``, the same object as ``split[0]``.
        test: ``(X_test, y_test)``, the same object as ``split[1]``.
        classes: the class names, ``classes[i]`` naming label ``i``
            (``None`` for a regression target).
        feature_names: the names of the columns of ``X`` (``None`` for images).
    """

    def __new__(
        cls,
        train: tuple[np.ndarray, np.ndarray],
        test: tuple[np.ndarray, np.ndarray],
        *,
        classes: Sequence[str] | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> Split:
        self = super().__new__(cls, (tuple(train), tuple(test)))
        self.classes = None if classes is None else [str(c) for c in classes]
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]
        return self

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        return self[0]

    @property
    def test(self) -> tuple[np.ndarray, np.ndarray]:
        return self[1]

    def __getnewargs_ex__(self):  # keeps pickle and copy.deepcopy working
        return (self[0], self[1]), {"classes": self.classes, "feature_names": self.feature_names}

    def __repr__(self) -> str:
        def describe(part):
            X, y = part
            return f"X {X.shape} {X.dtype}, y {y.shape} {y.dtype}"

        text = f"Split(train: {describe(self[0])}; test: {describe(self[1])}"
        if self.classes is not None:
            text += f"; classes={self.classes}"
        return text + ")"


def count_test_rows(test_size: float | int, n: int) -> int:
    """Number of test rows: ``ceil(test_size * n)`` for a fraction in [0, 1),
    ``test_size`` itself for an integer in [0, n]."""
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        if not 0 <= test_size <= n:
            raise ValueError(f"test_size={test_size} rows is not between 0 and {n} (the row count)")
        return int(test_size)
    if not 0.0 <= test_size < 1.0:
        raise ValueError(f"test_size={test_size} must be a fraction in [0, 1) or a row count")
    return math.ceil(test_size * n)


def apportion(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over groups in proportion to ``counts`` (largest remainder).

    Group ``c`` gets ``floor(total * counts[c] / N)``; the rows still missing
    go one each to the groups with the largest remainders (ties: lower index
    first). Integer arithmetic throughout, so no rounding surprises.

    Example:
        >>> apportion(np.array([5, 5, 2]), 3).tolist()
        [1, 1, 1]
    """
    n = int(counts.sum())
    if n == 0:
        return np.zeros_like(counts)
    base, remainder = np.divmod(counts * total, n)
    missing = total - int(base.sum())
    base[np.argsort(-remainder, kind="stable")[:missing]] += 1
    return base


def split_indices(
    y: np.ndarray, test_size: float | int = 0.2, seed: int = 0, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train_index, test_index)`` of a seeded, stratified split.

    See the module docstring for the recipe. With ``stratify=False`` (a
    regression target) the test set is simply the first ``n_test`` rows of
    the seeded permutation.

    Example:
        >>> train, test = split_indices(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 0.5)
        >>> sorted(np.array([0, 0, 0, 0, 1, 1, 1, 1])[test].tolist())
        [0, 0, 1, 1]
    """
    y = np.asarray(y)
    n = len(y)
    n_test = count_test_rows(test_size, n)
    order = np.random.default_rng(seed).permutation(n)
    if not stratify:
        return order[n_test:], order[:n_test]
    _, codes = np.unique(y, return_inverse=True)
    codes = codes.reshape(-1)
    counts = np.bincount(codes)
    quota = apportion(counts, n_test)
    grouped = order[np.argsort(codes[order], kind="stable")]  # by class, shuffled within
    rank_in_class = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    is_test = np.empty(n, dtype=bool)
    is_test[grouped] = rank_in_class < np.repeat(quota, counts)
    return order[~is_test[order]], order[is_test[order]]


def make_split(
    X: np.ndarray,
    y: np.ndarray,
    test_size: float | int,
    seed: int,
    *,
    stratify: bool = True,
    classes: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
) -> Split:
    """Split ``X`` and ``y`` with :func:`split_indices` into a :class:`Split`."""
    train, test = split_indices(y, test_size, seed, stratify)
    return Split(
        (X[train], y[train]), (X[test], y[test]), classes=classes, feature_names=feature_names
    )
