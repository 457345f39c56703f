"""Training: the loop, its callbacks, checkpoints, metrics, summaries and plots.

=================================  ============================================
:class:`Trainer` / :func:`fit`     epochs of mini-batches, validation, callbacks
callbacks                          :class:`EarlyStopping`, :class:`ModelCheckpoint`,
                                   :class:`LRScheduler`, :class:`History`,
                                   :class:`CSVLogger`, :class:`TerminateOnNaN`,
                                   :class:`TensorBoard` (the ``tensorboard`` extra)
:func:`save_checkpoint` / load     model + optimizer + scheduler + RNG in one file
metrics                            :func:`accuracy`, :func:`top_k_accuracy`, ...
:func:`summary`                    Keras-style table of layers and parameter counts
plots (``soma.train.plots``)       curves, confusion matrix, image grids (PNG)
=================================  ============================================
"""

from soma.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LRScheduler,
    ModelCheckpoint,
    TerminateOnNaN,
)
from soma.train.checkpoint import load_checkpoint, save_checkpoint
from soma.train.metrics import (
    accuracy,
    confusion_matrix,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_f1,
    r2_score,
    top_k_accuracy,
)
from soma.train.progress import ProgressBar
from soma.train.tensorboard import TensorBoard
from soma.train.summary import ModelSummary, count_parameters, summary  # noqa: I001 (shadows the module name)
from soma.train.trainer import Trainer, fit

__all__ = [
    "Callback",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "ModelSummary",
    "LRScheduler",
    "ModelCheckpoint",
    "ProgressBar",
    "TensorBoard",
    "TerminateOnNaN",
    "Trainer",
    "accuracy",
    "confusion_matrix",
    "count_parameters",
    "fit",
    "load_checkpoint",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_recall_f1",
    "r2_score",
    "save_checkpoint",
    "summary",
    "top_k_accuracy",
]
