"""The full MNIST (60,000 training and 10,000 test digits) from its IDX files.

:func:`mnist` reads the four canonical files from a folder, each either as
published (``.gz``) or decompressed, checks each one, and (only when asked)
downloads the missing ones. For 5,000 digits that need no download see
:func:`soma.datasets.mnist_sample`.

Checks, in order, for every file:

1. it exists (``name`` or ``name.gz``) -- else ``FileNotFoundError`` naming it;
2. with ``verify=True``, the MD5 of its decompressed contents equals the
   canonical one in :data:`MNIST_FILES` -- so a published ``.gz``, a
   decompressed copy and a re-compressed copy all pass, and a corrupt or
   different file fails with a ``ValueError`` naming it;
3. its IDX header: magic number 2051 and shape ``(N, 28, 28)`` for images,
   2049 and ``(N,)`` for labels with values 0..9, and as many labels as
   images -- checked even with ``verify=False``, which exists for small IDX
   files made by tests or by hand (checksums exist only for the real files).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.request import urlopen

import numpy as np

from soma.datasets._split import Split
from soma.datasets.idx import atomic_write, parse_idx, read_bytes

#: Mirrors tried in order by ``download=True`` (the first is torchvision's).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: file name: (MD5 of the decompressed file, MD5 of the published ``.gz``)
MNIST_FILES = {
    "train-images-idx3-ubyte": (
        "6bbc9ace898e44ae57da46a324031adb",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "train-labels-idx1-ubyte": (
        "a25bea736e30d166cdddb491f175f624",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "t10k-images-idx3-ubyte": (
        "2646ac647ad5339dbf082846283269ea",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    "t10k-labels-idx1-ubyte": (
        "27ae3e4e09519cfbb04c329615203637",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
}


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _locate(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _download(root: Path, name: str, timeout: float = 60.0) -> Path:
    """Fetch ``name.gz`` from the first mirror that serves the right bytes."""
    target = root / f"{name}.gz"
    expected = MNIST_FILES[name][1]
    failures = []
    for mirror in MIRRORS:
        url = f"{mirror}{name}.gz"
        try:
            with urlopen(url, timeout=timeout) as response:
                data = response.read()
        except OSError as error:  # URLError, HTTPError and timeouts are OSErrors
            failures.append(f"{url}: {error}")
            continue
        if _md5(data) != expected:
            failures.append(f"{url}: MD5 {_md5(data)}, expected {expected}")
            continue
        atomic_write(target, data)
        return target
    raise OSError(f"could not download {name}.gz from any mirror:\n  " + "\n  ".join(failures))


def _load_file(root: Path, name: str, download: bool, verify: bool) -> np.ndarray:
    path = _locate(root, name)
    if path is None:
        if not download:
            raise FileNotFoundError(
                f"MNIST file {name} (or {name}.gz) not found in {root}; copy the four IDX "
                f"files there, or call mnist(root, download=True) to fetch them from {MIRRORS[0]}"
            )
        root.mkdir(parents=True, exist_ok=True)
        path = _download(root, name)
    data = read_bytes(path)
    if verify and _md5(data) != MNIST_FILES[name][0]:
        raise ValueError(
            f"{path} is not the canonical MNIST file: the MD5 of its contents is {_md5(data)}, "
            f"expected {MNIST_FILES[name][0]}; it is corrupt or a different file. Delete it and "
            f"download again, or pass verify=False for IDX files you made yourself"
        )
    return _check_header(parse_idx(data, name=str(path)), path, images="images" in name)


def _check_header(array: np.ndarray, path: Path, images: bool) -> np.ndarray:
    if images:
        good = array.dtype == np.uint8 and array.ndim == 3 and array.shape[1:] == (28, 28)
        want = "magic number 2051: uint8 images of shape (N, 28, 28)"
    else:
        good = array.dtype == np.uint8 and array.ndim == 1 and bool(np.all(array <= 9))
        want = "magic number 2049: uint8 labels 0..9 of shape (N,)"
    if not good:
        raise ValueError(f"{path}: expected {want}, got {array.dtype} of shape {array.shape}")
    return array


def mnist(
    root: str | os.PathLike,
    download: bool = False,
    images: bool = True,
    verify: bool = True,
) -> Split:
    """MNIST's 70,000 handwritten digits, read from the IDX files in ``root``.

    Each image is 28x28 grey levels 0..255, scaled to ``x = level / 255`` in
    [0, 1]; the split is MNIST's own (60,000 training digits from one set of
    writers, 10,000 test digits), not a random one.

    Args:
        root: folder holding ``train-images-idx3-ubyte``,
            ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
            ``t10k-labels-idx1-ubyte``, each possibly with ``.gz``.
        download: fetch the missing files (about 11 MB gzipped) from
            :data:`MIRRORS` into ``root``; each download is checked against
            its published MD5 before it is written (atomically).
        images: ``True`` gives ``(N, 1, 28, 28)`` (NCHW), ``False`` ``(N, 784)``.
        verify: check every file's MD5 against the canonical MNIST checksums
            (see the module docstring); pass ``False`` for your own small
            IDX files, which are still checked for header and shape.

    Returns:
        :class:`~soma.datasets.Split` ``((X_train, y_train), (X_test, y_test))``;
        ``X`` float32, ``y`` int64; ``classes`` is ``["0", ..., "9"]``.

    Raises:
        FileNotFoundError: a file is missing and ``download`` is false.
        ValueError: a file is corrupt: wrong checksum, header, shape or size.

    Example:
        >>> (X_train, y_train), (X_test, y_test) = mnist("data/mnist")  # doctest: +SKIP
        >>> X_train.shape, X_test.shape  # doctest: +SKIP
        ((60000, 1, 28, 28), (10000, 1, 28, 28))
    """
    root = Path(root)
    parts = []
    for prefix in ("train", "t10k"):
        X = _load_file(root, f"{prefix}-images-idx3-ubyte", download, verify)
        y = _load_file(root, f"{prefix}-labels-idx1-ubyte", download, verify)
        if len(X) != len(y):
            raise ValueError(
                f"{root}: {prefix}-images holds {len(X)} images, {prefix}-labels {len(y)} labels"
            )
        X = X.astype(np.float32) / np.float32(255.0)
        X = X.reshape(-1, 1, 28, 28) if images else X.reshape(-1, 784)
        parts.append((X, y.astype(np.int64)))
    return Split(parts[0], parts[1], classes=[str(d) for d in range(10)])
