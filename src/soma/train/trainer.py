"""``Trainer``: the training loop, written once: epochs of mini-batches, validation, callbacks.

One iteration (notes 002-003) is the loop every framework runs:

    output = model(x_batch)              # forward pass
    loss = loss_fn(output, y_batch)      # how wrong
    optimizer.zero_grad(); loss.backward()   # gradients by backpropagation
    optimizer.step()                     # w ← w − η ∂L/∂w  (or momentum, Adam, ...)

An epoch runs it over every mini-batch of the training data, then measures
the validation data with the model in evaluation mode (dropout off, batch
norm on its running statistics) and no graph recording.

Example:
    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()),
    ...                   metrics=[accuracy], callbacks=[EarlyStopping(patience=3)])
    >>> history = trainer.fit(X_train, y_train, epochs=20, batch_size=64, validation_split=0.1)
    >>> trainer.evaluate(X_test, y_test)
    {'loss': 0.09..., 'accuracy': 0.97...}
"""

import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from soma.autograd import no_grad
from soma.nn.module import Module
from soma.optim.optimizer import Optimizer
from soma.tensor import Tensor
from soma.train import checkpoint, distributed
from soma.train._interrupt import graceful_interrupt
from soma.train.callbacks import History
from soma.train.progress import ProgressBar
from soma.utils.data import DataLoader, Dataset, IterableDataset, Subset, TensorDataset

__all__ = ["Trainer", "fit"]


def _metric_names(metrics):
    if isinstance(metrics, dict):
        return dict(metrics)
    named = {}
    for metric in metrics or ():
        func = getattr(metric, "func", metric)  # functools.partial
        named[getattr(func, "__name__", type(func).__name__)] = metric
    return named


def _split_batch(batch):
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(
        "each batch must be a pair (inputs, targets); got "
        + (f"{len(batch)} items" if isinstance(batch, (list, tuple)) else type(batch).__name__)
    )


class Trainer:
    """Train, evaluate and predict with a model, a loss and an optimizer.

    Args:
        model: the ``nn.Module``.
        loss_fn: ``loss_fn(output, target) -> scalar tensor`` (``nn.CrossEntropyLoss()``, ...).
        optimizer: a ``soma.optim`` optimizer over ``model.parameters()``.
        metrics: functions ``metric(y_true, output) -> float`` (from
            :mod:`soma.train.metrics`, named by ``__name__``), or a dict name -> function.
        callbacks: :class:`~soma.train.callbacks.Callback` s used by every ``fit``.
        verbose: 0 silent, 1 progress bar (one line per epoch when not a terminal),
            2 one line per epoch.

    Attributes:
        history: a :class:`~soma.train.callbacks.History` of every epoch so far.
        stop_training: set it to ``True`` (from a callback) to end ``fit`` after this epoch.
        interrupted: whether the last ``fit`` was stopped by Ctrl-C.

    Ctrl-C during ``fit`` is a graceful stop: the current step finishes, the epoch is
    abandoned (no half-epoch checkpoint, no history entry), every callback's
    ``on_train_end`` runs (CSV files are closed), one line says where training stopped
    and which checkpoint was saved last, and ``fit`` returns the history. A second
    Ctrl-C aborts at once with ``KeyboardInterrupt``.
    """

    def __init__(self, model: Module, loss_fn: Callable[..., Tensor], optimizer: Optimizer,
                 metrics: Sequence[Any] | None = None, callbacks: Sequence[Any] | None = None,
                 verbose: int = 1) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.metrics = _metric_names(metrics)
        self.callbacks = list(callbacks or [])
        self.verbose = verbose
        self.history = History()
        self.stop_training = False
        self.params: dict[str, Any] = {}
        self.epoch = 0  # epochs completed
        self.interrupted = False
        self._active = list(self.callbacks)  # the user's callbacks of the current fit
        self._pending_states: dict[str, Any] = {}  # checkpointed callback states no callback has claimed yet

    # ------------------------------------------------------------------ data in
    def _dtype(self):
        for param in self.model.parameters():
            return param._array.dtype
        return np.dtype(np.float32)

    def _tensor(self, value, name):
        if isinstance(value, Tensor):
            return value
        array = np.asarray(value)
        if array.dtype.kind == "f":
            array = array.astype(self._dtype(), copy=False)
        elif array.dtype.kind not in "iub":
            raise TypeError(f"{name} must be numeric, got an array of dtype {array.dtype}")
        return Tensor._make(array, False)

    def _dataset(self, x, y):
        if isinstance(x, Dataset):
            if y is not None:
                raise ValueError("give targets inside the Dataset, not as y")
            return x
        if y is None:
            raise ValueError(
                "fit/evaluate need targets: pass y, or a Dataset / DataLoader of (x, y) pairs"
            )
        x, y = self._tensor(x, "x"), self._tensor(y, "y")
        if len(x) != len(y):
            raise ValueError(
                f"x and y have different lengths: {len(x)} samples in x, {len(y)} in y"
            )
        return TensorDataset(x, y)

    def _loader(self, x, y, batch_size, shuffle):
        if isinstance(x, DataLoader):
            if y is not None:
                raise ValueError(
                    "with a DataLoader the targets come from its batches; do not pass y"
                )
            return x
        return DataLoader(self._dataset(x, y), batch_size=batch_size, shuffle=shuffle)

    # --------------------------------------------------------------- the checks
    def _check_targets(self, output, target):
        """Class-index targets must lie in [0, C) for an output of C classes."""
        if target.dtype.kind not in "iu" or output.ndim < 2 or target.ndim != output.ndim - 1:
            return
        classes = output.shape[1]
        labels = target._array
        ignore = getattr(self.loss_fn, "ignore_index", None)
        if ignore is not None:
            labels = labels[labels != ignore]
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            bad = labels.min() if labels.min() < 0 else labels.max()
            raise ValueError(
                f"label {bad} is out of range for {type(self.loss_fn).__name__}: the model "
                f"outputs {classes} classes, so labels must lie in [0, {classes - 1}]"
            )

    # -------------------------------------------------------------- the loops
    def train_step(self, x, y):
        """One iteration: forward, loss, backward, optimizer step. Returns ``(loss, output)``."""
        self.optimizer.zero_grad()
        output = distributed.wrap_model(self.model)(x)  # DDP in a process group
        self._check_targets(output, y)
        loss = self.loss_fn(output, y)
        loss.backward()
        self.optimizer.step()
        return float(loss.item()), output.detach()

    def _run_callbacks(self, callbacks, hook, *args):
        for callback in callbacks:
            getattr(callback, hook)(*args)

    def _metrics(self, targets, outputs, prefix=""):
        y_true = distributed.gather_rows(np.concatenate(targets))  # every rank's samples
        y_score = distributed.gather_rows(np.concatenate(outputs))
        return {prefix + name: float(fn(y_true, y_score)) for name, fn in self.metrics.items()}

    def fit(self, x: Any, y: Any = None, *, epochs: int = 1, batch_size: int = 32, shuffle: bool = True,
            validation_data: Any = None, validation_split: float = 0.0, callbacks: Sequence[Any] | None = None,
            verbose: int | None = None, initial_epoch: int = 0) -> Any:
        """Train for epochs ``initial_epoch .. epochs-1``; returns the :class:`History`.

        Args:
            x: inputs (array or tensor) with targets ``y``; or a ``Dataset`` or
                ``DataLoader`` of ``(inputs, targets)`` pairs.
            epochs: the epoch to stop at (Keras's convention: with ``initial_epoch=2,
                epochs=4`` two more epochs run).
            batch_size, shuffle: for the DataLoader built from arrays or a Dataset.
            validation_data: ``(x_val, y_val)``, a Dataset or a DataLoader,
                evaluated after every epoch (logs ``val_loss``, ``val_<metric>``).
            validation_split: the fraction of the samples (the *last* ones, before
                shuffling, as in Keras) kept aside for validation.
            callbacks: extra callbacks for this call.
            initial_epoch: the epoch to start from, e.g. the ``epoch`` a checkpoint returned.
        """
        _check_fit_arguments(epochs, initial_epoch, batch_size, x)
        train_loader, val_loader = self._fit_loaders(x, y, batch_size, shuffle, validation_data, validation_split)
        verbose = self.verbose if verbose is None else verbose
        callbacks = self._fit_callbacks(callbacks, verbose)
        try:
            steps = len(train_loader)
        except TypeError:
            steps = None
        self.params = {"epochs": epochs, "steps": steps, "verbose": verbose}
        self.stop_training, self.interrupted = False, False
        self._step = 0
        epoch = self._run_epochs(callbacks, train_loader, val_loader, initial_epoch, epochs)
        if self.interrupted:
            saved = [c.last_saved for c in self._active if getattr(c, "last_saved", None)]
            print(
                f"interrupted at epoch {epoch + 1}, step {self._step}; "
                f"last checkpoint: {saved[-1] if saved else 'none'}",
                file=sys.stderr,
                flush=True,
            )
        return self.history

    def _fit_loaders(self, x, y, batch_size, shuffle, validation_data, validation_split):
        """fit's training loader (sharded over ranks) and validation loader (or None)."""
        if validation_split:
            x, y, validation_data = self._split_validation(x, y, validation_data, validation_split)
        if not isinstance(x, DataLoader):
            x, y = self._dataset(x, y), None
        _check_not_empty(x.dataset if isinstance(x, DataLoader) else x)
        train_loader = distributed.shard_loader(self._loader(x, y, batch_size, shuffle))
        if validation_data is None:
            return train_loader, None
        vx, vy = (
            (validation_data, None)
            if isinstance(validation_data, (Dataset, DataLoader))
            else validation_data
        )
        return train_loader, self._loader(vx, vy, max(batch_size, 256), False)

    def _split_validation(self, x, y, validation_data, validation_split):
        """Keep the last ``validation_split`` of the samples for validation (Keras's rule): (x, y, validation)."""
        if validation_data is not None:
            raise ValueError("give validation_data or validation_split, not both")
        if isinstance(x, (DataLoader, IterableDataset)):
            raise ValueError(
                "validation_split needs arrays or a Dataset; "
                "with a DataLoader pass validation_data"
            )
        if not 0 < validation_split < 1:
            raise ValueError(
                f"validation_split must be between 0 and 1, got {validation_split}"
            )
        dataset = self._dataset(x, y)
        n_train = len(dataset) - int(np.ceil(validation_split * len(dataset)))
        if n_train <= 0:
            raise ValueError(
                f"fit: validation_split={validation_split} leaves {max(n_train, 0)} of the "
                f"{len(dataset)} samples for training; use a smaller split or more data"
            )
        return Subset(dataset, range(n_train)), None, Subset(dataset, range(n_train, len(dataset)))

    def _fit_callbacks(self, callbacks, verbose):
        """The callbacks of this fit in their run order, this rank's only, each bound to the trainer."""
        self._active = [*self.callbacks, *(callbacks or [])]
        self._claim_pending_states()
        callbacks = [self.history, *self._active]
        if verbose:
            callbacks.append(ProgressBar(verbose))
        callbacks.sort(key=lambda callback: callback.order)
        callbacks = distributed.callbacks_for_rank(callbacks)  # progress and files: rank 0
        for callback in callbacks:
            callback.set_trainer(self)
        return callbacks

    def _run_epochs(self, callbacks, train_loader, val_loader, initial_epoch, epochs):
        """The epoch loop between on_train_begin and on_train_end, stopping on request or Ctrl-C; the last epoch."""
        with graceful_interrupt() as interrupt, distributed.quiet():
            self._interrupt = interrupt
            self._run_callbacks(callbacks, "on_train_begin", {})
            epoch = initial_epoch
            try:
                for epoch in range(initial_epoch, epochs):
                    logs = self._train_epoch(epoch, train_loader, callbacks)
                    if self.interrupted:
                        break
                    if val_loader is not None:
                        logs.update(self.evaluate(val_loader, prefix="val_"))
                    self.epoch = epoch + 1
                    self._run_callbacks(callbacks, "on_epoch_end", epoch, logs)
                    if interrupt.requested:  # Ctrl-C during validation: the epoch is complete, stop here
                        self.interrupted = True
                        break
                    if self.stop_training:
                        break
            except KeyboardInterrupt:
                if interrupt.requested:  # the second Ctrl-C: abort at once
                    raise
                self.interrupted = True  # no handler could be installed: the step is abandoned
            self._run_callbacks(callbacks, "on_train_end", {})
        return epoch

    def _train_epoch(self, epoch, loader, callbacks):
        self.model.train()
        lr = self._lr()
        self._run_callbacks(callbacks, "on_epoch_begin", epoch, {})
        total, count, targets, outputs = 0.0, 0, [], []
        self._step = 0
        distributed.set_epoch(loader, epoch)
        for step, batch in enumerate(loader):
            xb, yb = _split_batch(batch)
            self._run_callbacks(callbacks, "on_train_batch_begin", step, {})
            loss, output = self.train_step(xb, yb)
            n = len(yb)
            total, count = total + loss * n, count + n
            logs = {"loss": loss, "size": n}
            if self.metrics:
                targets.append(yb._array)
                outputs.append(output._array)
            self._step = step + 1
            self._run_callbacks(callbacks, "on_train_batch_end", step, logs)
            if distributed.any_rank(self._interrupt.requested):  # every rank stops at the same step
                self.interrupted = True
                return {}
            if distributed.any_rank(self.stop_training):
                break
        total, count = distributed.sum_over_ranks(total, count)
        if not count:
            raise ValueError(f"fit: the training data gave no batches in epoch {epoch + 1}")
        logs = {"loss": total / count}
        if self.metrics and targets:
            logs.update(self._metrics(targets, outputs))
        if lr is not None:
            logs["lr"] = lr
        return logs

    def _lr(self):
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    def evaluate(self, x: Any, y: Any = None, *, batch_size: int = 256, prefix: str = "") -> dict[str, float]:
        """The loss (mean over samples) and every metric on ``x, y``, in eval mode without grad."""
        loader = distributed.shard_loader(self._loader(x, y, batch_size, False), train=False)
        was_training = self.model.training
        self.model.eval()
        total, count, targets, outputs = 0.0, 0, [], []
        try:
            with no_grad():
                for batch in loader:
                    xb, yb = _split_batch(batch)
                    output = self.model(xb)
                    self._check_targets(output, yb)
                    n = len(yb)
                    total += float(self.loss_fn(output, yb).item()) * n
                    count += n
                    targets.append(yb._array)
                    outputs.append(output._array)
        finally:
            self.model.train(was_training)
        total, count = distributed.sum_over_ranks(total, count)
        if not count:
            raise ValueError("evaluate: the data is empty")
        return {prefix + "loss": total / count, **self._metrics(targets, outputs, prefix)}

    def predict(self, x: Any, *, batch_size: int = 256) -> Tensor:
        """The model's outputs for every sample of ``x`` (array, tensor, Dataset or DataLoader)."""
        if isinstance(x, DataLoader):
            loader = x
        elif isinstance(x, Dataset):
            loader = DataLoader(x, batch_size=batch_size)
        else:
            loader = DataLoader(TensorDataset(self._tensor(x, "x")), batch_size=batch_size)
        was_training = self.model.training
        self.model.eval()
        outputs = []
        try:
            with no_grad():
                for batch in loader:
                    xb = batch[0] if isinstance(batch, (list, tuple)) else batch
                    outputs.append(self.model(xb)._array)
        finally:
            self.model.train(was_training)
        return Tensor._make(np.concatenate(outputs), False)

    # -------------------------------------------------------------- checkpoints
    @property
    def scheduler(self):
        """The learning-rate scheduler of the first ``LRScheduler`` callback, if any."""
        for callback in self.callbacks:
            if hasattr(callback, "scheduler"):
                return callback.scheduler
        return None

    def _keyed(self, callbacks):
        """``{state_key: callback}``; identical keys are told apart by ``#2``, ``#3`` in listed order."""
        keyed = {}
        for callback in callbacks:
            key, n = callback.state_key, 1
            while key in keyed:
                n += 1
                key = f"{callback.state_key}#{n}"
            keyed[key] = callback
        return keyed

    def _callback_states(self):
        states = {key: c.state_dict() for key, c in self._keyed(self._active).items()}
        return {key: state for key, state in states.items() if state}

    def _claim_pending_states(self):
        """Give checkpointed states to the callbacks of this ``fit`` that match them."""
        if not self._pending_states:
            return
        keyed = self._keyed(self._active)
        steps = [
            (keyed[key].load_state_dict, state, keyed[key].state_dict())
            for key, state in self._pending_states.items()
            if key in keyed
        ]
        checkpoint.apply_states("the checkpoint loaded", steps)
        left = [key for key in self._pending_states if key not in keyed]
        if left:
            warnings.warn(
                f"the checkpoint holds state for callbacks that this fit does not have: {', '.join(left)}; "
                "it is ignored",
                stacklevel=3,
            )
        self._pending_states = {}

    def save_checkpoint(self, path, epoch=None):
        """Save model, optimizer, scheduler, RNG state, epoch, history and callback states.

        The random state saved is soma's global generator, which shuffling and
        dropout draw from by default; a DataLoader given its own ``generator``
        keeps that state outside the checkpoint, so leave it out for an exact resume.
        """
        extra = {"history": self.history.state_dict(), "callbacks": self._callback_states()}
        distributed.save_on_main(  # every rank holds the same weights: rank 0 writes
            checkpoint.save_checkpoint,
            path,
            self.model,
            self.optimizer,
            self.scheduler,
            epoch=self.epoch if epoch is None else epoch,
            extra=extra,
        )

    def load_checkpoint(self, path):
        """Restore a :meth:`save_checkpoint` file; returns the epoch for ``initial_epoch``.

        Everything is checked before anything changes (all or nothing). Callback states
        are matched by ``state_key`` (class and monitored quantity), not by position; a
        state whose callback is not in ``callbacks`` waits for a ``fit(callbacks=...)``
        that has it, and one no callback claims is ignored with a warning.
        """
        distributed.before_load()  # rank 0's last save is on disk
        content = checkpoint.read_checkpoint(path)
        checkpoint.check_parts(path, content, self.model, self.optimizer, self.scheduler)
        extra = content.get("extra") or {}
        history, states = extra.get("history"), extra.get("callbacks", {})
        well_formed = isinstance(history, dict) and isinstance(history.get("history"), dict)
        if history is not None and not (well_formed and isinstance(history.get("epoch"), list)):
            raise ValueError(f"{str(path)!r}: corrupt checkpoint: the training history is malformed")
        if not isinstance(states, dict) or not all(isinstance(v, dict) for v in states.values()):
            raise ValueError(f"{str(path)!r}: corrupt checkpoint: the callback states are malformed")
        steps = checkpoint.checkpoint_steps(content, self.model, self.optimizer, self.scheduler)
        if history is not None:
            steps.append((self.history.load_state_dict, history, self.history.state_dict()))
        keyed = self._keyed(self.callbacks)
        steps += [(keyed[k].load_state_dict, v, keyed[k].state_dict()) for k, v in states.items() if k in keyed]
        checkpoint.apply_states(path, steps)
        self._pending_states = {k: v for k, v in states.items() if k not in keyed}
        fresh = [k for k, c in keyed.items() if k not in states and c.state_dict()]
        if fresh:
            warnings.warn(
                f"{str(path)!r} holds no state for {', '.join(fresh)}; they start afresh", stacklevel=2
            )
        self.epoch = content["epoch"]
        return self.epoch


def _is_count(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_fit_arguments(epochs, initial_epoch, batch_size, x):
    if not _is_count(epochs) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer (the epoch to stop at), got {epochs!r}")
    if not _is_count(initial_epoch) or not 0 <= initial_epoch <= epochs:
        raise ValueError(
            f"fit: initial_epoch must be an integer from 0 to epochs={epochs} (Keras's convention: "
            f"epochs is the epoch to stop at, not how many to run), got {initial_epoch!r}"
        )
    if not isinstance(x, DataLoader) and (not _is_count(batch_size) or batch_size < 1):
        raise ValueError(f"fit: batch_size must be a positive integer, got {batch_size!r}")


def _check_not_empty(dataset):
    try:
        n = len(dataset)
    except TypeError:  # a stream without a length
        return
    if n == 0:
        raise ValueError("fit: the training data is empty (0 samples)")


def fit(model, loss_fn, optimizer, x, y=None, *, metrics=None, callbacks=None, verbose=1, **kwargs):
    """``Trainer(model, loss_fn, optimizer, metrics, callbacks, verbose).fit(x, y, **kwargs)``."""
    return Trainer(model, loss_fn, optimizer, metrics, callbacks, verbose).fit(x, y, **kwargs)
