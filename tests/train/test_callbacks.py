"""Each callback's behaviour, driven by hand-made logs or by a real Trainer."""

import csv
import math

import numpy as np
import pytest

import soma
import soma.nn as nn
import soma.optim as optim
from soma.train import (
    CSVLogger,
    EarlyStopping,
    History,
    LRScheduler,
    ModelCheckpoint,
    TerminateOnNaN,
    Trainer,
    load_checkpoint,
)


class _StubTrainer:
    """Just what callbacks touch: a model, the stop flag, and a checkpoint writer."""

    def __init__(self, model=None):
        self.model = model or nn.Linear(2, 1)
        self.stop_training = False
        self.saved = []
        self.params = {}

    def save_checkpoint(self, path, epoch=None):
        self.saved.append((path, epoch))


def _drive(callback, values, key="val_loss", trainer=None):
    """Feed one value a epoch; return the epoch after which training stopped (or None)."""
    trainer = trainer or _StubTrainer()
    callback.set_trainer(trainer)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {key: value})
        if trainer.stop_training:
            return epoch
    return None


def test_early_stopping_waits_patience_epochs_without_improvement():
    assert _drive(EarlyStopping(patience=2), [1.0, 0.8, 0.9, 0.85, 0.7]) == 3
    assert _drive(EarlyStopping(patience=3), [1.0, 0.8, 0.9, 0.85, 0.7, 0.75]) is None
    assert _drive(EarlyStopping(patience=0), [1.0, 1.1]) == 1


def test_early_stopping_min_delta_and_mode():
    # improvements smaller than min_delta do not count
    assert _drive(EarlyStopping(patience=1, min_delta=0.05), [1.0, 0.97, 0.96]) == 1
    # accuracy-like names are maximized ('auto'), and 'min' can be forced
    assert _drive(EarlyStopping("val_accuracy", patience=1), [0.5, 0.6, 0.55], "val_accuracy") == 2
    assert (
        _drive(EarlyStopping("val_accuracy", patience=1, mode="min"), [0.5, 0.6], "val_accuracy")
        == 1
    )


def test_early_stopping_baseline_and_warm_up():
    # without reaching the baseline the patience counter is never reset
    assert _drive(EarlyStopping(patience=2, baseline=0.5), [0.9, 0.8, 0.8]) == 2
    assert _drive(EarlyStopping(patience=2), [0.9, 0.8, 0.8]) is None
    assert _drive(EarlyStopping(patience=1, start_from_epoch=3), [1.0, 2.0, 3.0, 4.0, 5.0]) == 4


def test_early_stopping_restores_the_best_weights():
    model = nn.Linear(2, 1)
    trainer = _StubTrainer(model)
    stopper = EarlyStopping(patience=1, restore_best_weights=True)
    stopper.set_trainer(trainer)
    stopper.on_train_begin()
    snapshots = []
    for epoch, loss in enumerate([1.0, 0.5, 0.9, 0.8]):
        with soma.no_grad():
            model.weight._array[...] = epoch + 1.0
        snapshots.append(model.weight.detach().numpy().copy())
        stopper.on_epoch_end(epoch, {"val_loss": loss})
        if trainer.stop_training:
            break
    assert stopper.stopped_epoch == 2 and stopper.best_epoch == 1
    # until training ends the model keeps the stop epoch's weights (what a checkpoint of it must hold)
    np.testing.assert_array_equal(model.weight.detach().numpy(), snapshots[2])
    stopper.on_train_end()
    np.testing.assert_array_equal(model.weight.detach().numpy(), snapshots[1])


def test_early_stopping_says_when_the_monitored_key_is_missing():
    with pytest.raises(ValueError, match="monitors 'val_loss'.*validation_split"):
        _drive(EarlyStopping(), [1.0], key="loss")


def test_early_stopping_state_survives_a_checkpoint():
    stopper = EarlyStopping(patience=5)
    _drive(stopper, [1.0, 0.5, 0.7])
    other = EarlyStopping(patience=5)
    other.load_state_dict(stopper.state_dict())
    assert (other.wait, other.best, other.best_epoch) == (1, 0.5, 1)


def test_model_checkpoint_every_epoch_formats_the_path(tmp_path):
    trainer = _StubTrainer()
    _drive(
        ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{val_loss:.1f}.safetensors")),
        [0.5, 0.25],
        trainer=trainer,
    )
    assert trainer.saved == [
        (str(tmp_path / "m-01-0.5.safetensors"), 1),
        (str(tmp_path / "m-02-0.2.safetensors"), 2),
    ]


def test_model_checkpoint_save_best_only(tmp_path):
    trainer = _StubTrainer()
    _drive(
        ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True),
        [0.9, 0.7, 0.8, 0.6, 0.65],
        trainer=trainer,
    )
    assert [epoch for _, epoch in trainer.saved] == [1, 2, 4]
    trainer = _StubTrainer()
    _drive(
        ModelCheckpoint(tmp_path / "b.safetensors", "val_accuracy", save_best_only=True),
        [0.9, 0.7, 0.95],
        key="val_accuracy",
        trainer=trainer,
    )
    assert [epoch for _, epoch in trainer.saved] == [1, 3]


def test_model_checkpoint_in_a_real_fit_writes_loadable_checkpoints(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Linear(2, 2)
    path = tmp_path / "ckpt-{epoch}.safetensors"
    weights_path = tmp_path / "weights.safetensors"
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        verbose=0,
        callbacks=[
            ModelCheckpoint(path, save_best_only=False),
            ModelCheckpoint(weights_path, save_weights_only=True),
        ],
    )
    trainer.fit(X, y, epochs=3, validation_split=0.25)
    assert load_checkpoint(tmp_path / "ckpt-2.safetensors", nn.Linear(2, 2))["epoch"] == 2
    final = soma.load(weights_path)
    np.testing.assert_array_equal(final["weight"].numpy(), model.weight.detach().numpy())


def test_lr_scheduler_steps_every_epoch_or_every_batch():
    X = np.zeros((32, 2), np.float32)
    y = np.zeros(32, np.int64)
    for step_every, expected in (("epoch", 0.1 * 0.5**3), ("batch", 0.1 * 0.5**12)):
        model = nn.Linear(2, 2)
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        trainer = Trainer(
            model,
            nn.CrossEntropyLoss(),
            optimizer,
            verbose=0,
            callbacks=[LRScheduler(scheduler, step_every=step_every)],
        )
        history = trainer.fit(X, y, epochs=3, batch_size=8)
        assert optimizer.param_groups[0]["lr"] == pytest.approx(expected)
        assert history.history["lr"][0] == 0.1


def test_lr_scheduler_feeds_reduce_on_plateau_the_monitored_value():
    model = nn.Linear(2, 1)
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.1, patience=0)
    callback = LRScheduler(plateau, monitor="val_loss")
    _drive(callback, [1.0, 1.0, 1.0])
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01)


def test_csv_logger_writes_one_row_per_epoch_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    _drive(logger, [0.5, 0.4], key="loss")
    logger.on_train_end()
    logger = CSVLogger(path, append=True)
    logger.set_trainer(_StubTrainer())
    logger.on_train_begin()
    logger.on_epoch_end(2, {"loss": 0.3})
    logger.on_train_end()
    rows = list(csv.reader(path.open()))
    assert rows == [["epoch", "loss"], ["0", "0.5"], ["1", "0.4"], ["2", "0.3"]]


def test_terminate_on_nan_stops_at_the_bad_batch():
    trainer = _StubTrainer()
    callback = TerminateOnNaN()
    callback.set_trainer(trainer)
    callback.on_train_batch_end(0, {"loss": 1.0})
    assert not trainer.stop_training
    callback.on_train_batch_end(1, {"loss": math.nan})
    assert trainer.stop_training


def test_history_collects_logs_and_a_callback_can_stop_fit():
    class StopAfterTwo(EarlyStopping):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.trainer.stop_training = True

    X = np.zeros((8, 2), np.float32)
    y = np.zeros(8, np.int64)
    model = nn.Linear(2, 2)
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        callbacks=[StopAfterTwo()],
        verbose=0,
    )
    history = trainer.fit(X, y, epochs=10)
    assert (
        isinstance(history, History)
        and history.epoch == [0, 1]
        and len(history.history["loss"]) == 2
    )
