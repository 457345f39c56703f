"""Trainer: fit on arrays/Datasets/DataLoaders, validation, evaluate, predict, bad calls."""

import io

import numpy as np
import pytest

import soma
import soma.nn as nn
import soma.optim as optim
from soma.train import Trainer, accuracy, fit, top_k_accuracy
from soma.train.progress import ProgressBar
from soma.utils.data import DataLoader, TensorDataset


def _blobs(n=300, classes=3, features=4, seed=0):
    """Well-separated Gaussian blobs: a linear model can fit them almost perfectly."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 4, (classes, features))
    y = rng.integers(0, classes, n)
    X = (centers[y] + rng.normal(0, 1, (n, features))).astype(np.float32)
    return X, y.astype(np.int64)


def _trainer(features=4, classes=3, lr=0.05, **kwargs):
    model = nn.Sequential(nn.Linear(features, 16), nn.ReLU(), nn.Linear(16, classes))
    kwargs.setdefault("verbose", 0)
    return Trainer(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=lr, momentum=0.9),
        metrics=[accuracy],
        **kwargs,
    )


def test_fit_learns_and_history_records_every_epoch():
    X, y = _blobs()
    trainer = _trainer()
    history = trainer.fit(X, y, epochs=8, batch_size=32)
    assert history is trainer.history and history.epoch == list(range(8))
    assert len(history.history["loss"]) == 8 and history.history["lr"] == [0.05] * 8
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    assert history.history["accuracy"][-1] > 0.95
    assert trainer.evaluate(X, y)["accuracy"] > 0.95


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    X, y = _blobs(n=70)
    seen = []

    class Record(soma.train.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(logs["loss"])

    trainer = _trainer(callbacks=[Record()])
    trainer.fit(X, y, epochs=1, batch_size=32, shuffle=False)
    assert len(seen) == 3  # ceil(70 / 32) iterations
    expected = (seen[0] * 32 + seen[1] * 32 + seen[2] * 6) / 70
    assert trainer.history.history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_validation_split_holds_out_the_last_samples():
    X, y = _blobs(n=100)
    trainer = _trainer()
    trainer.fit(X, y, epochs=2, batch_size=16, validation_split=0.2)
    held_out = trainer.evaluate(X[80:], y[80:])
    assert trainer.history.history["val_loss"][-1] == pytest.approx(held_out["loss"], rel=1e-6)
    assert trainer.history.history["val_accuracy"][-1] == held_out["accuracy"]


def test_fit_accepts_a_dataloader_and_validation_data():
    X, y = _blobs()
    loader = DataLoader(TensorDataset(X, y), batch_size=50, shuffle=True)
    history = _trainer().fit(loader, epochs=2, validation_data=(X[:50], y[:50]))
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.history)


def test_evaluate_matches_a_hand_computed_loss_and_metrics():
    X, y = _blobs(n=90)
    trainer = Trainer(
        nn.Linear(4, 3),
        nn.CrossEntropyLoss(),
        optim.SGD(nn.Linear(4, 3).parameters(), lr=0.1),
        metrics={"acc": accuracy, "top2": lambda t, s: top_k_accuracy(t, s, k=2)},
        verbose=0,
    )
    result = trainer.evaluate(X, y, batch_size=40)
    with soma.no_grad():
        logits = trainer.model(soma.from_numpy(X))
        loss = nn.CrossEntropyLoss()(logits, soma.from_numpy(y)).item()
    assert result["loss"] == pytest.approx(loss, rel=1e-5)
    assert result["acc"] == accuracy(y, logits.numpy())
    assert result["top2"] == top_k_accuracy(y, logits.numpy(), k=2)


def test_predict_runs_in_eval_mode_without_grad_and_restores_the_mode():
    X, _ = _blobs(n=40)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    trainer = Trainer(
        model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), verbose=0
    )
    first, second = trainer.predict(X, batch_size=7), trainer.predict(X)
    assert first.shape == (40, 3) and not first.requires_grad
    np.testing.assert_array_equal(first.numpy(), second.numpy())  # dropout off
    assert model.training


def test_x_and_y_of_different_lengths_is_a_clear_error():
    X, y = _blobs(n=50)
    with pytest.raises(
        ValueError, match="x and y have different lengths: 50 samples in x, 49 in y"
    ):
        _trainer().fit(X, y[:-1])


def test_labels_out_of_range_for_the_loss_is_a_clear_error():
    X, y = _blobs(n=50)
    y[7] = 3
    with pytest.raises(ValueError, match=r"label 3 is out of range for CrossEntropyLoss.*\[0, 2\]"):
        _trainer().fit(X, y, epochs=1)
    y[7] = -2
    with pytest.raises(ValueError, match="label -2 is out of range"):
        _trainer().evaluate(X, y)


def test_ignore_index_labels_are_allowed():
    X, y = _blobs(n=50)
    y[:5] = -100
    history = _trainer().fit(X, y, epochs=1)
    assert np.isfinite(history.history["loss"][0]) and 0 <= history.history["loss"][0] < 10


def test_fit_function_and_regression_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(
        np.float64
    )  # float64: cast to the model's float32
    model = nn.Linear(3, 1)
    history = fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.1),
        X,
        y,
        epochs=20,
        metrics=[soma.train.r2_score],
        verbose=0,
    )
    assert history.history["r2_score"][-1] > 0.99


def test_progress_prints_one_line_per_epoch_when_not_a_terminal():
    X, y = _blobs(n=64)
    stream = io.StringIO()
    _trainer(callbacks=[ProgressBar(verbose=1, file=stream)]).fit(
        X, y, epochs=3, batch_size=16, validation_split=0.25
    )
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Epoch 1/3") and "val_accuracy" in lines[0] and "loss:" in lines[0]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_a_live_bar_in_a_terminal():
    X, y = _blobs(n=64)
    stream = _Terminal()
    _trainer(callbacks=[ProgressBar(verbose=1, file=stream)]).fit(X, y, epochs=2, batch_size=16)
    text = stream.getvalue()
    assert "\r" in text and "Epoch 2/2" in text and "4/4" in text and "accuracy:" in text


def test_verbose_zero_is_silent(capsys):
    X, y = _blobs(n=64)
    _trainer(verbose=0).fit(X, y, epochs=2)
    assert capsys.readouterr().out == ""
