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

import numpy as np

from soma.autograd import no_grad
from soma.tensor import Tensor
from soma.train import checkpoint
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
    """

    def __init__(self, model, loss_fn, optimizer, metrics=None, callbacks=None, verbose=1):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.metrics = _metric_names(metrics)
        self.callbacks = list(callbacks or [])
        self.verbose = verbose
        self.history = History()
        self.stop_training = False
        self.params = {}
        self.epoch = 0  # epochs completed

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
        output = self.model(x)
        self._check_targets(output, y)
        loss = self.loss_fn(output, y)
        loss.backward()
        self.optimizer.step()
        return float(loss.item()), output.detach()

    def _run_callbacks(self, callbacks, hook, *args):
        for callback in callbacks:
            getattr(callback, hook)(*args)

    def _metrics(self, targets, outputs, prefix=""):
        y_true = np.concatenate(targets)
        y_score = np.concatenate(outputs)
        return {prefix + name: float(fn(y_true, y_score)) for name, fn in self.metrics.items()}

    def fit(
        self,
        x,
        y=None,
        *,
        epochs=1,
        batch_size=32,
        shuffle=True,
        validation_data=None,
        validation_split=0.0,
        callbacks=None,
        verbose=None,
        initial_epoch=0,
    ):
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
        if validation_split:
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
            validation_data = Subset(dataset, range(n_train, len(dataset)))
            x, y = Subset(dataset, range(n_train)), None
        train_loader = self._loader(x, y, batch_size, shuffle)
        val_loader = None
        if validation_data is not None:
            vx, vy = (
                (validation_data, None)
                if isinstance(validation_data, (Dataset, DataLoader))
                else validation_data
            )
            val_loader = self._loader(vx, vy, max(batch_size, 256), False)
        verbose = self.verbose if verbose is None else verbose
        callbacks = [self.history, *self.callbacks, *(callbacks or [])]
        if verbose:
            callbacks.append(ProgressBar(verbose))
        callbacks.sort(key=lambda callback: callback.order)
        for callback in callbacks:
            callback.set_trainer(self)
        try:
            steps = len(train_loader)
        except TypeError:
            steps = None
        self.params = {"epochs": epochs, "steps": steps, "verbose": verbose}
        self.stop_training = False
        self._run_callbacks(callbacks, "on_train_begin", {})
        for epoch in range(initial_epoch, epochs):
            logs = self._train_epoch(epoch, train_loader, callbacks)
            if val_loader is not None:
                logs.update(self.evaluate(val_loader, prefix="val_"))
            self.epoch = epoch + 1
            self._run_callbacks(callbacks, "on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        self._run_callbacks(callbacks, "on_train_end", {})
        return self.history

    def _train_epoch(self, epoch, loader, callbacks):
        self.model.train()
        lr = self._lr()
        self._run_callbacks(callbacks, "on_epoch_begin", epoch, {})
        total, count, targets, outputs = 0.0, 0, [], []
        for step, batch in enumerate(loader):
            xb, yb = _split_batch(batch)
            self._run_callbacks(callbacks, "on_train_batch_begin", step, {})
            loss, output = self.train_step(xb, yb)
            n = len(yb)
            total, count = total + loss * n, count + n
            logs = {"loss": loss}
            if self.metrics:
                targets.append(yb._array)
                outputs.append(output._array)
            self._run_callbacks(callbacks, "on_train_batch_end", step, logs)
            if self.stop_training:
                break
        logs = {"loss": total / max(count, 1)}
        if self.metrics and targets:
            logs.update(self._metrics(targets, outputs))
        if lr is not None:
            logs["lr"] = lr
        return logs

    def _lr(self):
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    def evaluate(self, x, y=None, *, batch_size=256, prefix=""):
        """The loss (mean over samples) and every metric on ``x, y``, in eval mode without grad."""
        loader = self._loader(x, y, batch_size, False)
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
        if not count:
            raise ValueError("evaluate: the data is empty")
        return {prefix + "loss": total / count, **self._metrics(targets, outputs, prefix)}

    def predict(self, x, *, batch_size=256):
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

    def _callback_states(self):
        return {f"{i}.{type(c).__name__}": c.state_dict() for i, c in enumerate(self.callbacks)}

    def save_checkpoint(self, path, epoch=None):
        """Save model, optimizer, scheduler, RNG state, epoch, history and callback states.

        The random state saved is soma's global generator, which shuffling and
        dropout draw from by default; a DataLoader given its own ``generator``
        keeps that state outside the checkpoint, so leave it out for an exact resume.
        """
        extra = {"history": self.history.state_dict(), "callbacks": self._callback_states()}
        checkpoint.save_checkpoint(
            path,
            self.model,
            self.optimizer,
            self.scheduler,
            epoch=self.epoch if epoch is None else epoch,
            extra=extra,
        )

    def load_checkpoint(self, path):
        """Restore a :meth:`save_checkpoint` file; returns the epoch for ``initial_epoch``."""
        info = checkpoint.load_checkpoint(path, self.model, self.optimizer, self.scheduler)
        extra = info["extra"] or {}
        if "history" in extra:
            self.history.load_state_dict(extra["history"])
        for key, callback in zip(self._callback_states(), self.callbacks, strict=True):
            state = extra.get("callbacks", {}).get(key)
            if state:
                callback.load_state_dict(state)
        self.epoch = info["epoch"]
        return self.epoch


def fit(model, loss_fn, optimizer, x, y=None, *, metrics=None, callbacks=None, verbose=1, **kwargs):
    """``Trainer(model, loss_fn, optimizer, metrics, callbacks, verbose).fit(x, y, **kwargs)``."""
    return Trainer(model, loss_fn, optimizer, metrics, callbacks, verbose).fit(x, y, **kwargs)
