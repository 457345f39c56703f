"""``TensorBoard``: write the epoch's numbers (and, if asked, weight histograms) as TensorBoard event files.

The files are written by TensorBoard's own event writer (``tensorboard.summary.writer``,
the optional extra ``pip install "soma[tensorboard]"``, which also installs the viewer),
laid out as Keras lays them out, so ``tensorboard --logdir logs`` shows training and
validation curves on the same charts::

    logs/train/events.out.tfevents...        epoch_loss, epoch_accuracy, epoch_learning_rate, batch_loss
    logs/validation/events.out.tfevents...   epoch_loss, epoch_accuracy  (from val_loss, val_accuracy)

Example:
    >>> trainer = Trainer(model, loss, optimizer, callbacks=[TensorBoard("logs")])  # doctest: +SKIP
"""

import os
import time

import numpy as np

from soma.train.callbacks import Callback

__all__ = ["TensorBoard"]


def _writer_classes():
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError(
            "the TensorBoard callback writes event files with the tensorboard package: "
            'pip install "soma[tensorboard]"'
        ) from None
    return EventFileWriter, Event, Summary, HistogramProto


class TensorBoard(Callback):
    """Log every epoch's ``logs`` (and optionally each batch's loss and weight histograms) for TensorBoard.

    Args:
        log_dir: the folder; ``train/`` and ``validation/`` are made inside it.
        update_freq: ``"epoch"`` (default), or ``"batch"`` to log each batch's loss as
            ``batch_loss`` too, or an int ``n`` to log every ``n``-th batch.
        histogram_freq: every how many epochs to write a histogram of each parameter
            (0, the default, writes none).
    """

    def __init__(self, log_dir="logs", update_freq="epoch", histogram_freq=0):
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or an int > 0, got {update_freq!r}")
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be a non-negative int, got {histogram_freq!r}")
        self._classes = _writer_classes()  # fail at construction, not after the first epoch
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers, self._batches = {}, 0

    def _writer(self, split):
        if split not in self._writers:
            EventFileWriter = self._classes[0]
            folder = os.path.join(self.log_dir, split)
            os.makedirs(folder, exist_ok=True)
            self._writers[split] = EventFileWriter(folder)
        return self._writers[split]

    def _write(self, split, step, values=(), histograms=()):
        _, Event, Summary, HistogramProto = self._classes
        entries = [Summary.Value(tag=tag, simple_value=float(value)) for tag, value in values]
        for tag, array in histograms:
            counts, edges = np.histogram(array, bins=30)
            histogram = HistogramProto(
                min=float(array.min()), max=float(array.max()), num=float(array.size),
                sum=float(array.sum()), sum_squares=float(np.square(array, dtype=np.float64).sum()),
                bucket_limit=edges[1:].tolist(), bucket=counts.astype(float).tolist(),
            )
            entries.append(Summary.Value(tag=tag, histo=histogram))
        event = Event(wall_time=time.time(), step=int(step), summary=Summary(value=entries))
        self._writer(split).add_event(event)

    def on_epoch_begin(self, epoch, logs=None):
        steps = self.trainer.params.get("steps")
        if steps:  # the global step goes on from a resumed epoch instead of starting again at 1
            self._batches = epoch * steps

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq != "epoch" and "loss" in (logs or {}) and self._batches % self.update_freq == 0:
            self._write("train", self._batches, [("batch_loss", logs["loss"])])

    def on_epoch_end(self, epoch, logs=None):
        train, validation = [], []
        for key, value in (logs or {}).items():
            if key == "lr":
                train.append(("epoch_learning_rate", value))
            elif key.startswith("val_"):
                validation.append((f"epoch_{key[4:]}", value))
            else:
                train.append((f"epoch_{key}", value))
        histograms = ()
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            histograms = [(name, p._array) for name, p in self.trainer.model.named_parameters() if p._array.size]
        self._write("train", epoch, train, histograms)
        if validation:
            self._write("validation", epoch, validation)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
