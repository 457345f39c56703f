"""The progress display of ``Trainer.fit``: a live bar per epoch, or one line per epoch.

* In a terminal: a tqdm bar per epoch showing the running mean of the loss (over the
  epoch's samples so far, as Keras shows it), left on screen when the epoch ends;
  under it the epoch's numbers, validation included, wrapped to the terminal's width
  (at 80 columns every metric still shows, on as many lines as it takes).
* In Jupyter: the same, as a notebook widget (``tqdm.auto``).
* Anywhere else (output piped to a file or a CI log), or with ``verbose=2``:
  one plain line per epoch, so logs are not flooded with bar redraws.
* ``verbose=0``: nothing.
"""

import importlib.util
import os
import shutil
import sys
import time

from soma.train.callbacks import Callback

__all__ = ["ProgressBar", "format_logs", "wrap_logs"]


def _parts(logs):
    return [f"{key}: {value:.3g}" if key == "lr" else f"{key}: {value:.4f}" for key, value in logs.items()]


def format_logs(logs):
    """``loss: 0.1234 - accuracy: 0.9650 - ...`` (the learning rate in short scientific form)."""
    return " - ".join(_parts(logs))


def wrap_logs(logs, width, indent="  "):
    """The epoch's numbers as lines of at most ``width`` columns, never splitting a ``key: value``."""
    lines, line = [], ""
    for part in _parts(logs):
        candidate = f"{line} - {part}" if line else indent + part
        if line and len(candidate) > width:
            lines.append(line)
            candidate = indent + part
        line = candidate
    return lines + ([line] if line else [])


def _columns(stream):
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return shutil.get_terminal_size().columns


def _in_notebook():
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        return type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except AttributeError:
        return False


class ProgressBar(Callback):
    """Show training progress; the Trainer adds one when ``verbose > 0``.

    Args:
        verbose: 1 = a live bar where the output is a terminal or notebook,
            else one line per epoch; 2 = always one line per epoch.
        file: where to write (``sys.stdout`` when ``None``).
    """

    order = 20  # after everything else has added to the epoch's logs

    def __init__(self, verbose=1, file=None):
        self.verbose, self.file = verbose, file
        self._bar = None

    def _stream(self):
        return self.file if self.file is not None else sys.stdout

    def _live(self):
        if self.verbose != 1:
            return False
        stream = self._stream()
        return _in_notebook() or (hasattr(stream, "isatty") and stream.isatty())

    def on_train_begin(self, logs=None):
        self.epochs = self.trainer.params.get("epochs")

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._sum, self._count = 0.0, 0
        self._title = f"Epoch {epoch + 1}/{self.epochs}"
        if self._live():
            if _in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
                from tqdm.auto import tqdm  # a widget; without ipywidgets tqdm.auto only warns
            else:
                from tqdm import tqdm
            self._bar = tqdm(
                total=self.trainer.params.get("steps"),
                desc=self._title,
                file=self._stream(),
                unit="batch",
                leave=True,
                dynamic_ncols=True,
            )

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        if "loss" in logs:
            size = logs.get("size", 1)
            self._sum, self._count = self._sum + logs["loss"] * size, self._count + size
        if self._bar is not None:
            self._bar.update(1)
            if self._count:
                self._bar.set_postfix_str(f"loss: {self._sum / self._count:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        shown = {k: v for k, v in (logs or {}).items()}
        if self._bar is not None:
            self._bar.set_postfix_str(f"loss: {shown['loss']:.4f}" if "loss" in shown else "", refresh=False)
            self._bar.close()
            self._bar = None
            stream = self._stream()
            print("\n".join(wrap_logs(shown, _columns(stream) - 1)), file=stream, flush=True)
            return
        seconds = time.perf_counter() - self._start
        print(
            f"{self._title} - {seconds:.1f}s - {format_logs(shown)}",
            file=self._stream(),
            flush=True,
        )

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
