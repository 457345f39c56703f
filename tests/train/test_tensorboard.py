"""TensorBoard: event files TensorBoard itself reads back, laid out as Keras lays them out."""

import sys

import numpy as np
import pytest

import soma.nn as nn
import soma.optim as optim
from soma.train import TensorBoard, Trainer, accuracy

pytest.importorskip("tensorboard")


def _scalars(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    tags = events.Tags()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in tags["scalars"]}, tags["histograms"]


def test_tensorboard_logs_every_epoch_for_train_and_validation(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Linear(3, 2)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), metrics=[accuracy],
                      callbacks=[TensorBoard(tmp_path / "logs", update_freq="batch", histogram_freq=2)], verbose=0)
    history = trainer.fit(X, y, epochs=3, batch_size=10, validation_split=0.2).history
    train, histograms = _scalars(tmp_path / "logs" / "train")
    validation, _ = _scalars(tmp_path / "logs" / "validation")
    for key in ("loss", "accuracy"):
        assert [step for step, _ in train[f"epoch_{key}"]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in train[f"epoch_{key}"]], history[key], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in validation[f"epoch_{key}"]], history[f"val_{key}"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], history["lr"])
    assert [step for step, _ in train["batch_loss"]] == list(range(1, 13))  # 4 batches of 40 samples, 3 epochs
    assert sorted(histograms) == ["bias", "weight"]
    trainer.fit(X, y, epochs=4, initial_epoch=3, batch_size=10, validation_split=0.2)  # resumed: steps go on
    train, _ = _scalars(tmp_path / "logs" / "train")
    assert [step for step, _ in train["batch_loss"]] == list(range(1, 17))
    assert [step for step, _ in train["epoch_loss"]] == [0, 1, 2, 3]


def test_tensorboard_without_the_extra_names_it(monkeypatch):
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard("logs", update_freq="sometimes")
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")] + ["tensorboard"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install \"soma\[tensorboard\]\""):
        TensorBoard("logs")
