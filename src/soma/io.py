"""Saving and loading tensors as safetensors files: plain data, never pickle.

A safetensors file is an 8-byte header length, a JSON header (names, dtypes, shapes,
offsets, optional string metadata) and raw little-endian bytes. Loading one can
only ever produce arrays: no code in the file is run. Saving writes a temporary file
in the same folder and renames it over the target, so a crash mid-save leaves the
previous file intact.
"""

import json
import os
import struct
import tempfile

import numpy as np

from soma.tensor import Tensor

__all__ = ["save", "load", "save_bytes", "load_bytes"]


def _arrays(state):
    if not isinstance(state, dict):
        raise TypeError(f"save: expected a dict of name -> tensor, got {type(state).__name__}")
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str):
            raise TypeError(f"save: keys must be strings, got {name!r}")
        array = value._array if isinstance(value, Tensor) else value
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"save: value for {name!r} is {type(value).__name__}; only tensors and arrays "
                "can be saved (put numbers in a tensor, text in metadata)"
            )
        # (np.ascontiguousarray would turn a 0-d array into shape (1,))
        arrays[name] = array if array.flags.c_contiguous else np.ascontiguousarray(array)
    return arrays


def save_bytes(state, metadata=None):
    """The safetensors encoding of ``state`` (a dict of name -> tensor) as bytes."""
    from safetensors.numpy import save as encode

    if metadata is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise TypeError("save: metadata must map strings to strings")
    return encode(_arrays(state), metadata=metadata)


def save(state, path, metadata=None):
    """Write ``state`` (e.g. ``model.state_dict()``) to ``path`` atomically.

    Example::

        >>> soma.save(model.state_dict(), "model.safetensors")
        >>> model.load_state_dict(soma.load("model.safetensors"))
    """
    payload = save_bytes(state, metadata)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _check_header(data, source):
    if len(data) < 8:
        raise ValueError(f"load: {source} is not a safetensors file (only {len(data)} bytes)")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8 or not data[8:9] == b"{":
        raise ValueError(
            f"load: {source} is not a safetensors file (bad header); soma never unpickles, "
            "so files written by torch.save or pickle cannot be read"
        )
    try:
        header = json.loads(data[8 : 8 + length])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"load: {source} has a corrupt safetensors header") from None
    return header.get("__metadata__", {})


def load_bytes(data, source="data"):
    """Decode safetensors bytes into a dict of name -> tensor."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as decode

    _check_header(data, source)
    try:
        arrays = decode(data)
    except (SafetensorError, ValueError) as error:
        raise ValueError(f"load: {source} is corrupt: {error}") from None
    return {name: Tensor._make(np.array(array), False) for name, array in arrays.items()}


def load(path, with_metadata=False):
    """Read a file written by :func:`save`; returns a dict of name -> tensor.

    With ``with_metadata=True`` returns ``(tensors, metadata)``.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        data = file.read()
    tensors = load_bytes(data, repr(path))
    if with_metadata:
        return tensors, _check_header(data, repr(path))
    return tensors
