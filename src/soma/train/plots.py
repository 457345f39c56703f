"""Plots that make training visible: learning curves, a confusion matrix, image grids.

Each function draws one figure and saves it as a PNG, returning the path. They
use matplotlib's object interface (``matplotlib.figure.Figure``), never
``pyplot``, so they work on a server without a display and leave no global
state behind. matplotlib is the optional extra ``pip install "soma[plot]"``.
"""

import os

import numpy as np

__all__ = ["plot_history", "plot_confusion_matrix", "plot_images"]


def _figure(**kwargs):
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "plotting needs matplotlib, which is not installed; install the optional extra: "
            'pip install "soma[plot]"'
        ) from error
    return Figure(**kwargs)


def _save(figure, path):
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    figure.savefig(path, format="png", dpi=100, bbox_inches="tight")
    return path


def plot_history(history, path="history.png", metrics=None):
    """Loss and metric curves, training and validation, one panel per quantity.

    Args:
        history: a :class:`~soma.train.History` (what ``fit`` returns) or its
            ``history`` dict of name -> per-epoch values.
        path: the PNG to write.
        metrics: the quantities to draw (default: every key but ``lr`` and the ``val_`` ones,
            each drawn with its ``val_`` twin when there is one).
    """
    values = getattr(history, "history", history)
    if not values:
        raise ValueError("plot_history: the history is empty; train for at least one epoch")
    names = metrics or [k for k in values if not k.startswith("val_") and k != "lr"]
    figure = _figure(figsize=(5 * len(names), 3.8))
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for axis, name in zip(axes, names, strict=True):
        for key, label in ((name, "train"), ("val_" + name, "validation")):
            if key in values:
                series = values[key]
                axis.plot(
                    np.arange(1, len(series) + 1), series, marker="o", markersize=3, label=label
                )
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    return _save(figure, path)


def plot_confusion_matrix(
    matrix, path="confusion_matrix.png", class_names=None, normalize=False, title="Confusion matrix"
):
    """A confusion matrix as a heat map, each cell labelled with its count (or row fraction).

    Args:
        matrix: ``M[i, j]`` = samples of true class ``i`` predicted as ``j``
            (:func:`soma.train.metrics.confusion_matrix`).
        path: the PNG to write.
        class_names: tick labels (default ``0 .. C-1``).
        normalize: show each row as fractions of its true class (recall on the diagonal).
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(
            f"plot_confusion_matrix: expected a square matrix, got shape {matrix.shape}"
        )
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    n = matrix.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    figure = _figure(figsize=(1.0 + 0.55 * n, 0.8 + 0.5 * n))
    axis = figure.subplots()
    image = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axis)
    axis.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 2 else 0)
    axis.set_yticks(range(n), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(n):
        for j in range(n):
            text = f"{matrix[i, j]:.2f}" if normalize else f"{int(matrix[i, j])}"
            axis.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if matrix[i, j] > threshold else "black",
            )
    return _save(figure, path)


def _as_images(images):
    """``(N, H, W)`` grey images or ``(N, H, W, 3)`` colour ones from the layouts soma uses."""
    array = np.asarray(getattr(images, "data", images), dtype=np.float64)
    if array.ndim == 2:
        return array[None]
    if array.ndim == 3:
        return array
    if array.ndim == 4:
        if array.shape[1] == 3:
            return array.transpose(0, 2, 3, 1)  # NCHW colour -> NHWC
        return array.reshape(-1, *array.shape[2:])  # every channel its own picture
    raise ValueError(
        f"plot_images: expected (N, H, W) or (N, C, H, W) arrays, got shape {array.shape}"
    )


def plot_images(images, path="images.png", labels=None, ncols=None, cmap="gray", title=None):
    """A grid of images: input samples, convolution filters or feature maps.

    Args:
        images: ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, 3, H, W)`` (NCHW) arrays or
            tensors. Any other channel count shows every channel separately, so
            conv filters ``(out, in, kh, kw)`` give ``out × in`` pictures and
            activations ``(1, C, H, W)`` give ``C``.
        path: the PNG to write.
        labels: a caption per image (e.g. true/predicted class).
        ncols: columns of the grid (default about the square root of N).
        cmap: colour map of grey images.
        title: a title over the grid.

    Each image is scaled to its own range, so a filter's sign pattern shows.
    """
    grid = _as_images(images)
    count = len(grid)
    if count == 0:
        raise ValueError("plot_images: no images to plot")
    if labels is not None and len(labels) != count:
        raise ValueError(f"plot_images: {len(labels)} labels for {count} images")
    ncols = ncols or int(np.ceil(np.sqrt(count)))
    nrows = int(np.ceil(count / ncols))
    figure = _figure(figsize=(1.3 * ncols, 1.3 * nrows + (0.4 if title else 0)))
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for k, axis in enumerate(axes):
        axis.axis("off")
        if k >= count:
            continue
        image = grid[k]
        if image.ndim == 3:  # colour: scale into [0, 1]
            low, high = image.min(), image.max()
            axis.imshow((image - low) / (high - low) if high > low else np.zeros_like(image))
        else:
            axis.imshow(image, cmap=cmap)
        if labels is not None:
            axis.set_title(str(labels[k]), fontsize=8)
    if title:
        figure.suptitle(title)
    return _save(figure, path)
