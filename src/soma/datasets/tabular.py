"""Tabular data from a CSV file: one row a sample, one column a feature.

:func:`csv` turns a file such as::

    sepal_length,sepal_width,species
    5.1,3.5,setosa
    7.0,3.2,versicolor

into float32 features and a target, split like every other loader. The
target is a class label (string labels, or any labels with
``categorical=True``) or a number to regress.
"""

from __future__ import annotations

import csv as _csv
import os
from pathlib import Path

import numpy as np

from soma.datasets._split import Split, make_split


def _read_rows(path: Path, delimiter: str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as file:
        rows = [[cell.strip() for cell in row] for row in _csv.reader(file, delimiter=delimiter)]
    rows = [row for row in rows if any(row)]  # blank lines
    if not rows:
        raise ValueError(f"{path} is empty")
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(
                f"{path}: row {number} has {len(row)} fields, the first row has {width} "
                f"(is delimiter={delimiter!r} right?)"
            )
    return rows


def _guess_delimiter(path: Path, delimiter: str) -> str:
    """A hint naming the delimiter the file seems to use, or ``""``."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            sample = file.read(65536)
        found = _csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except (_csv.Error, OSError, UnicodeDecodeError):
        return ""
    return f"; the file seems to use delimiter={found!r}" if found != delimiter else ""


def _column_index(target: int | str, names: list[str], path: Path) -> int:
    if isinstance(target, str):
        if target not in names:
            raise ValueError(f"{path} has no column named {target!r}; its columns are {names}")
        return names.index(target)
    if not -len(names) <= target < len(names):
        raise ValueError(f"target={target} is out of range: {path} has {len(names)} columns")
    return target % len(names)


def _as_numbers(cells: np.ndarray) -> np.ndarray | None:
    """``cells`` as float64 (empty cells become NaN), or ``None`` if not numeric."""
    try:
        return np.where(cells == "", "nan", cells).astype(np.float64)
    except ValueError:
        return None


def _encode_labels(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes 0..K-1 and class names; numeric labels are ordered as numbers."""
    numbers = _as_numbers(labels)
    _, first, codes = np.unique(
        labels if numbers is None else numbers, return_index=True, return_inverse=True
    )
    return codes.reshape(-1).astype(np.int64), labels[first].tolist()


def _features(cells, names, feature_columns, path, delimiter):
    """The feature columns as float64 (N, F); an error naming the column that is not numeric."""
    if not feature_columns:
        raise ValueError(
            f"{path}: with delimiter={delimiter!r} each row is a single column, so there are no features"
            + (_guess_delimiter(path, delimiter) or "; is the delimiter right?")
        )
    X = _as_numbers(cells[:, feature_columns])
    if X is None:
        bad = next(i for i in feature_columns if _as_numbers(cells[:, i]) is None)
        raise ValueError(
            f"{path}: feature column {names[bad]!r} is not numeric; encode it as numbers first"
        )
    return X


def _target(labels, name, categorical, path, header):
    """(y, classes): int64 codes and class names for classification, float32 values and None for regression."""
    if np.any(labels == ""):
        line = int(np.argmax(labels == "")) + 1 + int(header)
        raise ValueError(f"{path}: the target column {name!r} is empty on row {line}")
    numbers = _as_numbers(labels)
    if categorical is False and numbers is None:
        raise ValueError(f"{path}: categorical=False, but target {name!r} is not numeric")
    if not (categorical or numbers is None):
        return numbers.astype(np.float32), None
    y, classes = _encode_labels(labels)
    if categorical is None and len(labels) >= 10 and len(classes) == len(labels):
        raise ValueError(
            f"{path}: every one of the {len(labels)} rows has a class of its own in target column "
            f"{name!r}; is target the right column? (pass categorical=True if it really is)"
        )
    return y, classes


def csv(
    path: str | os.PathLike,
    target: int | str = -1,
    test_size: float | int = 0.2,
    seed: int = 0,
    delimiter: str = ",",
    header: bool = True,
    categorical: bool | None = None,
) -> Split:
    """Load a CSV file as features ``X`` and a target ``y``, split for training.

    Every column but ``target`` is a feature and must be numeric (empty
    cells become NaN); encode text features before saving the file. The
    target decides the task:

    * **classification** -- string labels (or any labels when
      ``categorical=True``): ``y`` holds int64 codes 0..K-1, ``classes[k]``
      naming code ``k``; classes are sorted (as numbers when the labels are
      numbers, else alphabetically, like scikit-learn's ``LabelEncoder``)
      and the split is stratified.
    * **regression** -- numeric targets (unless ``categorical=True``): ``y``
      is float32, ``classes`` is ``None``, and the split is a plain seeded
      permutation.

    Args:
        path: the CSV file (UTF-8).
        target: the target column, by name (needs ``header=True``) or index
            (negative counts from the end; default the last column).
        test_size: fraction of rows or number of rows held out for testing.
        seed: seed of the split.
        delimiter: the field separator, e.g. ``";"`` or ``"\\t"``.
        header: the first row names the columns; without one the columns are
            named ``"0"``, ``"1"``, ...
        categorical: ``None`` infers the task from the target as above;
            ``True`` forces classification (e.g. labels 0/1); ``False``
            forces regression.

    Returns:
        :class:`~soma.datasets.Split` ``((X_train, y_train), (X_test, y_test))``
        with ``X`` float32 ``(N, F)``, ``y`` int64 codes or float32 values,
        ``split.classes`` (list of names, or ``None`` for regression) and
        ``split.feature_names`` (the F feature column names).

    Raises:
        ValueError: no such target column, a non-numeric feature, a ragged
            row, an empty target cell, a non-numeric target with
            ``categorical=False``, no feature column at all (a wrong
            ``delimiter``: the message names the one the file seems to use), or
            a text target with a class per row (the wrong column).

    Example:
        >>> split = csv("flowers.csv", target="species")  # doctest: +SKIP
        >>> (X_train, y_train), (X_test, y_test) = split  # doctest: +SKIP
        >>> split.classes  # doctest: +SKIP
        ['setosa', 'versicolor', 'virginica']
    """
    path = Path(path)
    rows = _read_rows(path, delimiter)
    names = rows.pop(0) if header else [str(i) for i in range(len(rows[0]))]
    if isinstance(target, str) and not header:
        raise ValueError(f"target={target!r} is a column name, but header=False; pass an index")
    cells = np.array(rows, dtype=str).reshape(len(rows), len(names))
    column = _column_index(target, names, path)
    feature_columns = [i for i in range(len(names)) if i != column]
    X = _features(cells, names, feature_columns, path, delimiter)
    y, classes = _target(cells[:, column], names[column], categorical, path, header)
    return make_split(
        X.astype(np.float32),
        y,
        test_size,
        seed,
        stratify=classes is not None,
        classes=classes,
        feature_names=[names[i] for i in feature_columns],
    )
