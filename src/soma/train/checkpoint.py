"""Checkpoints: everything needed to resume training exactly, in ONE safetensors file.

A run continues bit for bit from where it stopped only if everything that
shapes its future is saved: the model's parameters and buffers, the
optimizer's state (momentum buffers, Adam's moments, step counts), the
learning-rate scheduler's position, the random generator (next epoch's
shuffle and dropout masks) and the epoch counter. :func:`save_checkpoint`
writes all of it to a safetensors file; nothing is pickled, so loading a
checkpoint can never run code.

Optimizer and scheduler states are nested dicts and lists of tensors and
numbers. They are *flattened*: every array becomes a named tensor
(``optimizer.state.0.momentum_buffer``), and the structure around them is
JSON in the file's metadata with ``{"__tensor__": name}`` where each array
was. Python floats survive JSON exactly (``repr`` round-trips).

Example:
    >>> save_checkpoint("ckpt.safetensors", model, optimizer, scheduler, epoch=2)
    >>> info = load_checkpoint("ckpt.safetensors", model, optimizer, scheduler)
    >>> info["epoch"]
    2
"""

import json
import os

import numpy as np

from soma import io, random
from soma.tensor import Tensor

__all__ = ["save_checkpoint", "load_checkpoint", "flatten_state", "unflatten_state"]

FORMAT = "soma.checkpoint/1"


def flatten_state(state, prefix):
    """Split a nested state into ``(tensors, skeleton)``: named arrays and JSON-able structure.

    Arrays, tensors and NumPy scalars become entries of ``tensors`` named by
    their dotted path under ``prefix``; tuples and dicts with non-string keys
    are tagged so that :func:`unflatten_state` gives back the same types.
    """
    tensors = {}

    def walk(value, path):
        if isinstance(value, Tensor):
            value = value._array
        if isinstance(value, (np.ndarray, np.generic)):
            tensors[path] = np.asarray(value)
            return {"__tensor__": path}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, tuple):
            return {"__tuple__": [walk(v, f"{path}.{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(value)]
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {k: walk(v, f"{path}.{k}") for k, v in value.items()}
            return {"__items__": [[k, walk(v, f"{path}.{k}")] for k, v in value.items()]}
        raise TypeError(
            f"cannot store {type(value).__name__} at {path!r} in a checkpoint: only tensors, "
            "arrays, numbers, strings, lists, tuples and dicts are saved (never pickled objects)"
        )

    return tensors, walk(state, prefix)


def unflatten_state(skeleton, tensors):
    """Rebuild the nested state :func:`flatten_state` split (tensors come back as soma Tensors)."""
    if isinstance(skeleton, list):
        return [unflatten_state(v, tensors) for v in skeleton]
    if isinstance(skeleton, dict):
        if set(skeleton) == {"__tensor__"}:
            return tensors[skeleton["__tensor__"]]
        if set(skeleton) == {"__tuple__"}:
            return tuple(unflatten_state(v, tensors) for v in skeleton["__tuple__"])
        if set(skeleton) == {"__items__"}:
            return {k: unflatten_state(v, tensors) for k, v in skeleton["__items__"]}
        return {k: unflatten_state(v, tensors) for k, v in skeleton.items()}
    return skeleton


def _model_signature(model):
    return [[name, list(t.shape)] for name, t in model.state_dict().items()]


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=0, extra=None):
    """Write model, optimizer, scheduler, the global RNG state and ``epoch`` to ``path``.

    Args:
        path: file to write (atomically: a crash mid-save keeps the old file).
        model: the ``nn.Module``.
        optimizer, scheduler: anything with ``state_dict()`` (optional).
        epoch: epochs completed so far.
        extra: a JSON-able dict (or nested state with arrays) to keep alongside,
            e.g. the training history.
    """
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "epoch": str(int(epoch)),
        "model_class": type(model).__name__,
        "model_keys": json.dumps(_model_signature(model)),
    }
    parts = {"optimizer": optimizer, "scheduler": scheduler}
    for name, owner in parts.items():
        if owner is not None:
            arrays, skeleton = flatten_state(owner.state_dict(), name)
            tensors.update(arrays)
            metadata[name] = json.dumps(skeleton)
    if extra is not None:
        arrays, skeleton = flatten_state(extra, "extra")
        tensors.update(arrays)
        metadata["extra"] = json.dumps(skeleton)
    tensors["rng_state"] = random.get_rng_state()
    # every shape, so that 0-d tensors (BatchNorm's num_batches_tracked, step counters)
    # come back 0-d whatever the file layer does with them
    metadata["shapes"] = json.dumps(
        {k: list(np.shape(getattr(v, "data", v))) for k, v in tensors.items()}
    )
    io.save(tensors, path, metadata=metadata)


def _check_model(path, metadata, model):
    saved = {name: tuple(shape) for name, shape in json.loads(metadata["model_keys"])}
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
        raise ValueError(
            f"{os.fspath(path)!r} is a checkpoint of a different model (saved from "
            f"{metadata['model_class']}, loading into {type(model).__name__}):\n  "
            + "\n  ".join(problems)
        )


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng=True):
    """Restore what :func:`save_checkpoint` wrote, in place; returns ``{"epoch", "extra"}``.

    The model is checked against the checkpoint first (names and shapes), so a
    checkpoint of a different model fails with a message listing the differences
    and changes nothing.
    """
    tensors, metadata = io.load(path, with_metadata=True)
    if metadata.get("format") != FORMAT:
        raise ValueError(
            f"{os.fspath(path)!r} is not a soma training checkpoint (no {FORMAT!r} metadata); "
            "for a file of weights alone use model.load_state_dict(soma.load(path))"
        )
    _check_model(path, metadata, model)
    shapes = json.loads(metadata.get("shapes", "{}"))
    tensors = {
        k: Tensor._make(v._array.reshape(shapes[k]), False) if k in shapes else v
        for k, v in tensors.items()
    }
    for name, owner in {"optimizer": optimizer, "scheduler": scheduler}.items():
        if owner is not None and name not in metadata:
            raise ValueError(f"{os.fspath(path)!r} holds no {name} state, but a {name} was given")
    model.load_state_dict(
        {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    )
    if optimizer is not None:
        optimizer.load_state_dict(unflatten_state(json.loads(metadata["optimizer"]), tensors))
    if scheduler is not None:
        scheduler.load_state_dict(unflatten_state(json.loads(metadata["scheduler"]), tensors))
    if restore_rng:
        random.set_rng_state(tensors["rng_state"])
    extra = unflatten_state(json.loads(metadata["extra"]), tensors) if "extra" in metadata else None
    return {"epoch": int(metadata["epoch"]), "extra": extra}
