"""Callbacks: code that runs at fixed points of training (Keras's design).

A callback overrides any of ``on_train_begin``, ``on_epoch_begin``,
``on_train_batch_begin``, ``on_train_batch_end``, ``on_epoch_end`` and
``on_train_end``. At the end of epoch ``epoch`` (counted from 0) it receives
``logs``, the epoch's numbers: ``loss`` and each metric on the training
batches, ``val_loss`` and ``val_<metric>`` on the validation data, and ``lr``;
after each batch, ``{"loss": that batch's mean loss, "size": its number of samples}``.
It reaches the model and optimizer through ``self.trainer`` and can end
training early with ``self.trainer.stop_training = True``.

Callbacks run in the order given, except that learning-rate schedulers run
first (``order = -10``: the epoch's logs already show the new rate to the
others) and checkpoints last (``order = 10``: they save what the others left,
so a resumed run continues exactly).

A callback with state that matters on resume (EarlyStopping's patience
counter, ModelCheckpoint's best score) has ``state_dict``/``load_state_dict``;
the Trainer keeps them in its checkpoints under the callback's ``state_key``
(its class and what it monitors, as Lightning does), so a resumed run finds each
state whatever order the callbacks are listed in; state restored from a
checkpoint is never reset by the ``fit`` that follows.
"""

import csv
import math
import os

import numpy as np

__all__ = [
    "Callback",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "LRScheduler",
    "CSVLogger",
    "TerminateOnNaN",
]

_HIGHER_IS_BETTER = ("acc", "auc", "f1", "precision", "recall", "r2")


class Callback:
    """Base class: every hook does nothing; override the ones you need."""

    order = 0

    def set_trainer(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    @property
    def state_key(self):
        """The name this callback's state has in a checkpoint: its class (and what it watches)."""
        return type(self).__name__

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class History(Callback):
    """Every epoch's logs: ``history.history["val_loss"][e]`` is epoch ``e``'s validation loss.

    ``Trainer.fit`` returns one; it keeps growing across ``fit`` calls.

    Attributes:
        history: dict of metric name -> list of per-epoch values.
        epoch: the epoch indices recorded.
    """

    def __init__(self):
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def state_dict(self):
        return {"history": self.history, "epoch": self.epoch}

    def load_state_dict(self, state):
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epoch = list(state["epoch"])

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def _mode(monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if any(word in monitor for word in _HIGHER_IS_BETTER) else "min"
    return mode


def _monitored(logs, monitor, who):
    if monitor not in (logs or {}):
        raise ValueError(
            f"{who} monitors {monitor!r}, but the epoch's logs only have {sorted(logs or {})}; "
            "give fit() validation data (validation_split or validation_data) "
            "or monitor another key"
        )
    return float(logs[monitor])


class _Monitor(Callback):
    """Shared bookkeeping of a monitored quantity: which way is better, and the best so far."""

    def __init__(self, monitor, mode, min_delta=0.0):
        self.monitor, self.mode, self.min_delta = monitor, _mode(monitor, mode), abs(min_delta)
        self.best = -math.inf if self.mode == "max" else math.inf

    @property
    def state_key(self):
        return f"{type(self).__name__}[{self.monitor},{self.mode}]"

    def _is_improvement(self, value, reference):
        if self.mode == "max":
            return value - self.min_delta > reference
        return value + self.min_delta < reference


class EarlyStopping(_Monitor):
    """Stop training when ``monitor`` has stopped improving for ``patience`` epochs.

    An epoch improves on the best so far when it beats it by more than
    ``min_delta``. After ``patience`` epochs without an improvement, training
    stops; with ``restore_best_weights=True`` the model gets back the weights of
    its best epoch when training ends (after every other callback has seen the
    last epoch, so a checkpoint written then holds that epoch's own weights).
    When it stops, it says at which epoch, why, and which epoch's weights it restored
    (unless ``verbose=0`` and the Trainer is silent too).

    Args:
        monitor: the logs key to watch (``"val_loss"``, ``"val_accuracy"``, ...).
        min_delta: the smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (``max`` for accuracy-like names).
        baseline: training stops unless the model beats this value within ``patience`` epochs.
        restore_best_weights: load the best epoch's weights when stopping.
        start_from_epoch: epochs of warm-up before watching starts.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0.0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None
        self._resumed = False

    def on_train_begin(self, logs=None):
        if self._resumed:  # state from a checkpoint: continue from it
            self._resumed, self.stopped_epoch = False, 0
            return
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None
        self.best = -math.inf if self.mode == "max" else math.inf

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._weights()
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self._weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if not self.stopped_epoch or getattr(self.trainer, "interrupted", False):
            return
        restored = self.restore_best_weights and self.best_weights is not None
        if restored:
            from soma.tensor import Tensor

            self.trainer.model.load_state_dict({k: Tensor._make(v, False) for k, v in self.best_weights.items()})
        if self.verbose or self.trainer.params.get("verbose"):
            print(
                f"Epoch {self.stopped_epoch + 1}: early stopping: {self.monitor} has not improved for "
                f"{self.wait} epochs (patience {self.patience})\n  best {self.monitor} {self.best:.4f} at epoch "
                f"{self.best_epoch + 1}"
                + (f"; restored the weights of epoch {self.best_epoch + 1}" if restored else "")
            )

    def _weights(self):
        return {k: v._array.copy() for k, v in self.trainer.model.state_dict().items()}

    def state_dict(self):
        state = {
            "wait": self.wait,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
        }
        if self.best_weights is not None:
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state):
        self.wait, self.best = int(state["wait"]), float(state["best"])
        self.best_epoch, self.stopped_epoch = int(state["best_epoch"]), int(state["stopped_epoch"])
        weights = state.get("best_weights")
        self.best_weights = (
            None if weights is None else {k: np.array(getattr(v, "_array", v)) for k, v in weights.items()}
        )
        self._resumed = True


class ModelCheckpoint(_Monitor):
    """Save a checkpoint after every epoch, or only when ``monitor`` improves.

    A checkpoint holds model, optimizer, scheduler, random state, epoch and
    history in one safetensors file (see :mod:`soma.train.checkpoint`), so
    ``trainer.load_checkpoint(path)`` resumes exactly. ``filepath`` may contain
    fields filled from the epoch (counted from 1) and its logs, e.g.
    ``"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"``.

    Args:
        filepath: where to write.
        monitor: logs key compared when ``save_best_only``.
        save_best_only: write only when the monitored value improves.
        save_weights_only: write ``model.state_dict()`` alone (``soma.save``).
        mode: ``"min"``, ``"max"`` or ``"auto"``.
    """

    order = 10

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
    ):
        super().__init__(monitor, mode)
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.last_saved = None

    @property
    def state_key(self):
        return f"ModelCheckpoint[{self.monitor},{self.mode}{',best_only' if self.save_best_only else ''}]"

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not self._is_improvement(current, self.best):
                return
            self.best = current
        path = self.filepath.format(epoch=epoch + 1, **logs)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            from soma import io

            io.save(self.trainer.model.state_dict(), path)
        else:
            self.trainer.save_checkpoint(path, epoch=epoch + 1)
        self.last_saved = path
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved {path}")

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = float(state["best"])


class LRScheduler(Callback):
    """Step a learning-rate scheduler (``soma.optim.lr_scheduler``) during training.

    ``scheduler.step()`` runs after every epoch (or every batch with
    ``step_every="batch"``, as ``OneCycleLR`` expects); ``ReduceLROnPlateau``
    is given the value of ``monitor`` (``"val_loss"`` by default). The Trainer
    saves this scheduler's state in its checkpoints.
    """

    order = -10

    def __init__(self, scheduler, monitor="val_loss", step_every="epoch"):
        if step_every not in ("epoch", "batch"):
            raise ValueError(f"step_every must be 'epoch' or 'batch', got {step_every!r}")
        from soma.optim.lr_scheduler import ReduceLROnPlateau

        self.scheduler, self.monitor, self.step_every = scheduler, monitor, step_every
        self._needs_metric = isinstance(scheduler, ReduceLROnPlateau)

    def on_train_batch_end(self, batch, logs=None):
        if self.step_every == "batch":
            self.scheduler.step()

    def on_epoch_end(self, epoch, logs=None):
        if self.step_every != "epoch":
            return
        if self._needs_metric:
            self.scheduler.step(_monitored(logs, self.monitor, "LRScheduler(ReduceLROnPlateau)"))
        else:
            self.scheduler.step()


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` then every logs key.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (e.g. when resuming) instead of overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.keys, self._file, self._writer = None, None, None

    def on_train_begin(self, logs=None):
        exists = (
            self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        )
        if exists:
            with open(self.filename, newline="") as file:
                self.keys = next(csv.reader(file, delimiter=self.separator))[1:]
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._writer = csv.writer(self._file, delimiter=self.separator)
        self._header_written = exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = list(logs)
        if not self._header_written:
            self._writer.writerow(["epoch", *self.keys])
            self._header_written = True
        self._writer.writerow([epoch, *(logs.get(key, "NA") for key in self.keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.trainer.stop_training = True
