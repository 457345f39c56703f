"""Checkpoints: everything needed to resume training exactly, in ONE safetensors file.

A run continues bit for bit from where it stopped only if everything that
shapes its future is saved: the model's parameters and buffers, the
optimizer's state (momentum buffers, Adam's moments, step counts), the
learning-rate scheduler's position, the random generator (next epoch's
shuffle and dropout masks) and the epoch counter. :func:`save_checkpoint`
writes all of it to a safetensors file; nothing is pickled, so loading a
checkpoint can never run code.

The file is what :func:`soma.save` writes for a nested structure:
``{"format", "epoch", "model_class", "model", "optimizer", "scheduler",
"rng_state", "extra"}``, every array a tensor of the file and the rest JSON
in its metadata, so optimizer states (int keys, tuples of betas, 0-d step
counters) come back exactly.

Loading is all or nothing: every field is checked first (the format, the
epoch, the model's names and shapes, that each part asked for is there), then
the model, optimizer, scheduler and random state are set; if setting any of
them fails, those already set are put back as they were and the error says why.

Example:
    >>> save_checkpoint("ckpt.safetensors", model, optimizer, scheduler, epoch=2)
    >>> info = load_checkpoint("ckpt.safetensors", model, optimizer, scheduler)
    >>> info["epoch"]
    2
"""

import copy
import os

import numpy as np

from soma import io, random
from soma.tensor import Tensor

__all__ = ["save_checkpoint", "load_checkpoint", "read_checkpoint"]

FORMAT = "soma.checkpoint/2"


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=0, extra=None):
    """Write model, optimizer, scheduler, the global RNG state and ``epoch`` to ``path``.

    Args:
        path: file to write (atomically: a crash mid-save keeps the old file).
        model: the ``nn.Module``.
        optimizer, scheduler: anything with ``state_dict()`` (optional).
        epoch: epochs completed so far.
        extra: a dict of tensors, numbers, strings, lists, tuples and dicts to keep
            alongside, e.g. the training history.
    """
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"save_checkpoint: epoch must be a non-negative integer, got {epoch!r}")
    io.save(
        {
            "format": FORMAT,
            "epoch": int(epoch),
            "model_class": type(model).__name__,
            "model": dict(model.state_dict()),
            "optimizer": None if optimizer is None else optimizer.state_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),
            "rng_state": random.get_rng_state(),
            "extra": extra,
        },
        path,
    )


def _fail(path, what):
    return ValueError(f"{os.fspath(path)!r}: {what}")


def read_checkpoint(path):
    """The checked contents of a checkpoint file (nothing applied): a dict of its fields."""
    content, metadata = io.load(path, with_metadata=True)
    if metadata.get("format") == "soma.checkpoint/1":
        raise _fail(path, "a checkpoint in soma's first format (soma.checkpoint/1), which this soma no longer reads")
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise _fail(
            path,
            f"not a soma training checkpoint (no {FORMAT!r} format field); "
            "for a file of weights alone use model.load_state_dict(soma.load(path))",
        )
    epoch = content.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise _fail(path, f"corrupt checkpoint: epoch must be a non-negative integer, got {epoch!r}")
    model = content.get("model")
    if not isinstance(model, dict) or not all(isinstance(v, Tensor) for v in model.values()):
        raise _fail(path, "corrupt checkpoint: 'model' must map names to tensors")
    rng = content.get("rng_state")
    if not isinstance(rng, Tensor) or rng.dtype != np.uint8 or rng.ndim != 1:
        raise _fail(path, "corrupt checkpoint: 'rng_state' must be a 1-d uint8 tensor")
    for part in ("optimizer", "scheduler"):
        if content.get(part) is not None and not isinstance(content[part], dict):
            raise _fail(path, f"corrupt checkpoint: {part!r} must be a state dict")
    if content.get("extra") is not None and not isinstance(content["extra"], dict):
        raise _fail(path, "corrupt checkpoint: 'extra' must be a dict")
    return content


def _check_model(path, content, model):
    saved = {name: tuple(t.shape) for name, t in content["model"].items()}
    own = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    problems = []
    missing = [k for k in own if k not in saved]
    unexpected = [k for k in saved if k not in own]
    if missing:
        problems.append("missing from the checkpoint: " + ", ".join(missing))
    if unexpected:
        problems.append("not in the model: " + ", ".join(unexpected))
    problems += [
        f"{k} has shape {saved[k]} in the checkpoint but {own[k]} in the model"
        for k in own
        if k in saved and saved[k] != own[k]
    ]
    if problems:
        raise _fail(
            path,
            f"a checkpoint of a different model (saved from {content.get('model_class')}, "
            f"loading into {type(model).__name__}):\n  " + "\n  ".join(problems),
        )


def apply_states(path, steps):
    """Apply ``(load_state_dict, new_state, old_state)`` steps all or nothing.

    If any step raises, the steps already taken are undone with their ``old_state``
    and a ``ValueError`` names the file and the cause.
    """
    done = []
    try:
        for apply, state, old in steps:
            apply(state)
            done.append((apply, old))
    except Exception as error:
        for apply, old in reversed(done):
            apply(old)
        raise _fail(path, f"could not be applied, nothing was changed: {type(error).__name__}: {error}") from error


def checkpoint_steps(content, model, optimizer=None, scheduler=None, restore_rng=True):
    """The ``apply_states`` steps that set model, optimizer, scheduler and RNG from ``content``."""
    weights = {k: Tensor._make(v._array.copy(), False) for k, v in model.state_dict().items()}
    steps = [(model.load_state_dict, content["model"], weights)]
    for owner, name in ((optimizer, "optimizer"), (scheduler, "scheduler")):
        if owner is not None:
            steps.append((owner.load_state_dict, content[name], copy.deepcopy(owner.state_dict())))
    if restore_rng:
        steps.append((random.set_rng_state, content["rng_state"], random.get_rng_state()))
    return steps


def check_parts(path, content, model, optimizer=None, scheduler=None):
    """Check ``content`` (from :func:`read_checkpoint`) fits ``model`` and holds each part given."""
    _check_model(path, content, model)
    for name, owner in {"optimizer": optimizer, "scheduler": scheduler}.items():
        if owner is not None and content.get(name) is None:
            raise _fail(path, f"holds no {name} state, but a {name} was given")


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng=True):
    """Restore what :func:`save_checkpoint` wrote, in place; returns ``{"epoch", "extra"}``.

    Everything is checked before anything is applied, so a checkpoint of a different
    model, a missing part or a corrupt field fails with a message and changes nothing.
    """
    content = read_checkpoint(path)
    check_parts(path, content, model, optimizer, scheduler)
    apply_states(path, checkpoint_steps(content, model, optimizer, scheduler, restore_rng))
    return {"epoch": content["epoch"], "extra": content.get("extra")}
