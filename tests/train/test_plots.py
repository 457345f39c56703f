"""Each plot writes a non-empty PNG; a missing matplotlib names the extra to install."""

import builtins

import numpy as np
import pytest

import soma
from soma.train import History
from soma.train.plots import plot_confusion_matrix, plot_history, plot_images

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as file:
        data = file.read()
    return data.startswith(PNG_SIGNATURE) and len(data) > 1000


def test_plot_history_writes_png_from_history_and_from_dict(tmp_path):
    history = History()
    for epoch, (loss, val) in enumerate([(1.0, 1.1), (0.5, 0.7), (0.3, 0.6)]):
        history.on_epoch_end(
            epoch, {"loss": loss, "accuracy": 1 - loss / 2, "val_loss": val, "lr": 0.1}
        )
    assert _is_png(plot_history(history, tmp_path / "h.png"))
    assert _is_png(plot_history({"loss": [1.0, 0.4]}, tmp_path / "sub" / "d.png"))
    with pytest.raises(ValueError, match="empty"):
        plot_history(History(), tmp_path / "e.png")


def test_plot_confusion_matrix_counts_and_normalized(tmp_path):
    matrix = np.array([[5, 1, 0], [0, 7, 2], [1, 0, 9]])
    assert _is_png(plot_confusion_matrix(matrix, tmp_path / "c.png", class_names=["a", "b", "c"]))
    assert _is_png(plot_confusion_matrix(matrix, tmp_path / "n.png", normalize=True))
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.ones((2, 3)), tmp_path / "x.png")


@pytest.mark.parametrize("shape", [(6, 8, 8), (5, 1, 8, 8), (4, 3, 6, 6), (4, 2, 5, 5)])
def test_plot_images_grid_for_inputs_filters_activations(tmp_path, shape):
    images = soma.randn(*shape)
    labels = None if len(shape) == 4 and shape[1] == 2 else [str(i) for i in range(shape[0])]
    assert _is_png(plot_images(images, tmp_path / "g.png", labels=labels, title="grid"))


def test_plot_images_checks_labels(tmp_path):
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        plot_images(np.zeros((3, 4, 4)), tmp_path / "g.png", labels=["a", "b"])


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def without_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_matplotlib)
    with pytest.raises(ImportError, match=r'pip install "soma\[plot\]"'):
        plot_history({"loss": [1.0]}, tmp_path / "h.png")
