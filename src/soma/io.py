"""``soma.save`` / ``soma.load``: tensors and nested structures as ONE safetensors file, never pickle.

A safetensors file is an 8-byte little-endian header length, a JSON header (each
tensor's dtype, shape and byte range, plus string metadata) and the raw bytes. Loading
one can only ever produce arrays and plain values: nothing in the file is run.

**Structures.** ``soma.save(obj, f)`` takes what ``torch.save`` is mostly used for: a
tensor, or dicts, lists and tuples nesting tensors, NumPy arrays and plain values
(numbers, strings, bools, ``None``), e.g. a whole checkpoint
``{"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}``.
Every array becomes a tensor of the file, named by its path (``optimizer.state.0.exp_avg``;
a flat ``state_dict`` keeps its own names, so other safetensors readers see them); the
structure around the arrays is JSON in the metadata entry ``soma.structure``, in which
each dict is ``{"__dict__": [[key, value], ...]}`` (so int keys stay ints), each tuple
``{"__tuple__": [...]}``, each array ``{"__tensor__": name}`` and each non-finite float
``{"__float__": "inf"}``. ``soma.load`` rebuilds it exactly: 0-d stays 0-d, ints stay
ints, tuples stay tuples. A safetensors file from anywhere else loads as a flat dict of
name -> tensor.

**Saving** to a path writes a temporary file ``.<name>.tmp-<pid>-<random>`` in the same
folder (mode from the umask, as ``open`` gives), fsyncs it, renames it over the target
and fsyncs the folder: a crash at any point leaves the old file or the new one, never a
mix. The temporary is removed on every exit path a process lives through (errors,
Ctrl-C); one left by a writer that was killed (``SIGKILL``, power loss) is removed by the
next save of the same target, which recognises it because no live process holds its lock.

**Loading** reads the header first and checks it before reading any data: at most
100 MB of header, every dtype known, every byte range inside the file, no two tensors
overlapping, no bytes left over, structure nested at most 200 levels. Only regular files
are opened (a FIFO, ``/dev/zero`` or a folder is refused at once), and each tensor is
read straight into its own array, so loading a file needs about its size in memory.
``bfloat16`` tensors (from ``safetensors.torch``) are upcast to ``float32``, which holds
every bfloat16 value exactly; float8 and complex tensors are refused with their names.
"""

import errno
import json
import math
import os
import stat
import uuid

import numpy as np

from soma.tensor import Tensor

__all__ = ["save", "load", "save_bytes", "load_bytes", "MAX_HEADER_BYTES", "MAX_DEPTH"]

MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit
MAX_DEPTH = 200
STRUCTURE_KEY = "soma.structure"
_FORMAT = "soma/1"

# safetensors dtype -> (dtype of the bytes on disk, itemsize)
_DTYPES = {
    "BOOL": np.dtype("bool"),
    "U8": np.dtype("<u1"),
    "I8": np.dtype("<i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # upcast to float32 after reading
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}


# ------------------------------------------------------------------ structure
def _flatten(obj):
    """``(arrays, skeleton)``: every array of ``obj`` by a unique name, and the JSON-able rest."""
    arrays = {}

    def name_for(path):
        name, n = path or "tensor", 1
        while name in arrays:
            name, n = f"{path}~{n}", n + 1
        return name

    def walk(value, path, depth):
        if depth > MAX_DEPTH:
            raise ValueError(f"save: the structure is nested deeper than {MAX_DEPTH} levels at {path!r}")
        if isinstance(value, (Tensor, np.ndarray, np.generic)):
            tag = "__tensor__" if isinstance(value, Tensor) else "__ndarray__"
            if isinstance(value, np.generic):
                tag = "__scalar__"
            array = value._array if isinstance(value, Tensor) else np.asarray(value)
            if array.dtype.kind not in "biuf" or array.dtype.itemsize > 8:
                where = path or "the tensor"
                raise TypeError(f"save: {where!r} has dtype {array.dtype}, which safetensors cannot store")
            name = name_for(path)
            # (np.ascontiguousarray would turn a 0-d array into shape (1,))
            arrays[name] = array if array.flags.c_contiguous else np.ascontiguousarray(array)
            return {tag: name}
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        child = f"{path}." if path else ""
        if isinstance(value, (list, tuple)):
            items = [walk(v, f"{child}{i}", depth + 1) for i, v in enumerate(value)]
            return {"__tuple__": items} if isinstance(value, tuple) else items
        if isinstance(value, dict):
            pairs = []
            for key, v in value.items():
                plain = key is None or isinstance(key, (bool, int, str))
                if not (plain or (isinstance(key, float) and math.isfinite(key))):
                    raise TypeError(f"save: dict keys must be strings, numbers, bools or None; got {key!r} at {path!r}")
                pairs.append([key, walk(v, f"{child}{key}", depth + 1)])
            return {"__dict__": pairs}
        raise TypeError(
            f"save: cannot store {type(value).__name__} at {path or 'the top level'!r}: only tensors, arrays, "
            "numbers, strings, bools, None and dicts/lists/tuples of them are saved (never pickled objects)"
        )

    return arrays, walk(obj, "", 0)


def _unflatten(skeleton, tensors, source):
    """Rebuild what :func:`_flatten` split; every tensor of the file must be used exactly once."""
    used = set()

    def bad(what):
        return ValueError(f"load: {source} has a corrupt {STRUCTURE_KEY} entry ({what})")

    def walk(node, depth):
        if depth > MAX_DEPTH:
            raise bad(f"nested deeper than {MAX_DEPTH} levels")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [walk(v, depth + 1) for v in node]
        if not isinstance(node, dict) or len(node) != 1:
            raise bad(f"unexpected {type(node).__name__}")
        ((tag, body),) = node.items()
        if tag in ("__tensor__", "__ndarray__", "__scalar__"):
            if not isinstance(body, str) or body not in tensors or body in used:
                raise bad(f"tensor {body!r} is missing or used twice")
            used.add(body)
            array = tensors[body]
            if tag == "__tensor__":
                return Tensor._make(array, False)
            return array if tag == "__ndarray__" else array[()]
        if tag == "__float__" and body in ("inf", "-inf", "nan"):
            return float(body)
        if tag == "__tuple__" and isinstance(body, list):
            return tuple(walk(v, depth + 1) for v in body)
        if tag == "__dict__" and isinstance(body, list):
            if not all(isinstance(p, list) and len(p) == 2 and not isinstance(p[0], (list, dict)) for p in body):
                raise bad("a dict entry is not a [key, value] pair")
            return {key: walk(value, depth + 1) for key, value in body}
        raise bad(f"unknown tag {tag!r}")

    result = walk(skeleton, 0)
    if used != set(tensors):
        raise bad(f"tensors {sorted(set(tensors) - used)[:5]} are not part of the structure")
    return result


def _encode(obj, metadata):
    if metadata is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save: metadata must map strings to strings")
        if STRUCTURE_KEY in metadata:
            raise ValueError(f"save: the metadata key {STRUCTURE_KEY!r} is soma's own")
    arrays, skeleton = _flatten(obj)
    structure = json.dumps({"format": _FORMAT, "structure": skeleton}, allow_nan=False)
    arrays = {k: a if a.dtype.byteorder != ">" else a.astype(a.dtype.newbyteorder("<")) for k, a in arrays.items()}
    return arrays, {**(metadata or {}), STRUCTURE_KEY: structure}


def _safetensors_call(function, what, *args, **kwargs):
    """Call into safetensors' Rust code, turning its panics (a BaseException) into Python errors."""
    from safetensors import SafetensorError

    try:
        return function(*args, **kwargs)
    except SafetensorError as error:
        raise OSError(f"save: safetensors could not write {what}: {error}") from error
    except BaseException as error:
        if type(error).__name__ != "PanicException":
            raise
        text = str(error)
        if any(word in text.lower() for word in ("memory", "alloc", "capacity")):
            raise MemoryError(f"save: out of memory while encoding {what} ({text})") from None
        raise OSError(f"save: safetensors failed while writing {what} ({text})") from None


# ------------------------------------------------------------------ saving
def save_bytes(obj, metadata=None):
    """The safetensors encoding of ``obj`` (what :func:`save` writes) as bytes."""
    from safetensors.numpy import save as encode

    arrays, metadata = _encode(obj, metadata)
    return _safetensors_call(encode, "the data", arrays, metadata=metadata)


def _temporary_prefix(path):
    return f".{os.path.basename(path)}.tmp-"


def _lock(fd, blocking):
    """Lock ``fd`` exclusively (POSIX); a dead process's locks are released by the kernel."""
    try:
        import fcntl
    except ImportError:  # Windows: an open file cannot be deleted, which protects it instead
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _remove_stale_temporaries(path):
    """Delete temporaries of ``path`` left by writers that died (nobody holds their lock)."""
    folder, prefix = os.path.dirname(path) or ".", _temporary_prefix(path)
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix)]
    except OSError:
        return
    for name in names:
        candidate = os.path.join(folder, name)
        try:
            fd = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and _lock(fd, blocking=False):
                os.remove(candidate)
        except OSError:
            pass  # in use (Windows) or already gone
        finally:
            os.close(fd)


def _create_temporary(path):
    """A new, locked temporary file next to ``path``; returns ``(fd, name)``."""
    folder, prefix = os.path.dirname(path) or ".", _temporary_prefix(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        name = os.path.join(folder, f"{prefix}{os.getpid()}-{uuid.uuid4().hex[:12]}")
        fd = os.open(name, flags, 0o666)  # the umask decides the mode, as for open(path, "w")
        _lock(fd, blocking=True)
        try:
            same = os.path.samestat(os.stat(name), os.fstat(fd))
        except FileNotFoundError:
            same = False  # a cleaner took it between create and lock: make another
        if same:
            return fd, name
        os.close(fd)


def _fsync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; its rename is durable enough
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def save(obj, f, metadata=None):
    """Write ``obj`` to ``f`` (a path, atomically, or a binary file object) as one safetensors file.

    Args:
        obj: a tensor, or dicts/lists/tuples nesting tensors, arrays, numbers, strings,
            bools and ``None`` (e.g. ``model.state_dict()`` or a whole checkpoint).
        f: a path, or a writable binary file object (written where it stands, not atomically).
        metadata: extra ``str -> str`` entries for the header's ``__metadata__``.

    Example::

        >>> soma.save(model.state_dict(), "model.safetensors")
        >>> model.load_state_dict(soma.load("model.safetensors"))
        >>> soma.save({"model": model.state_dict(), "epoch": 3}, "ckpt.safetensors")
    """
    if not isinstance(f, (str, bytes, os.PathLike)):
        if not hasattr(f, "write"):
            raise TypeError(f"save: f must be a path or a writable binary file object, got {type(f).__name__}")
        f.write(save_bytes(obj, metadata))
        if hasattr(f, "flush"):
            f.flush()
        return
    path = os.path.realpath(os.fsdecode(f))  # through a symlink to its target, as open() writes
    payload = save_bytes(obj, metadata)
    _remove_stale_temporaries(path)
    fd, temporary = _create_temporary(path)
    try:
        with memoryview(payload) as view:
            written = 0
            while written < len(view):
                written += os.write(fd, view[written : written + (1 << 30)])
        del payload
        os.fsync(fd)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        raise
    finally:
        os.close(fd)
    _fsync_folder(os.path.dirname(path))


# ------------------------------------------------------------------ loading
class _Entry:
    __slots__ = ("name", "code", "shape", "begin", "end")

    def __init__(self, name, code, shape, begin, end):
        self.name, self.code, self.shape, self.begin, self.end = name, code, shape, begin, end


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _parse_header(raw, data_size, source):
    """Check a JSON header against the data that follows; returns ``(entries, metadata)``.

    ``data_size`` is the number of bytes after the header, or ``None`` for a stream of
    unknown length (then the ranges must still tile ``[0, end)`` without gaps).
    """

    def corrupt(what):
        return ValueError(f"load: {source} is corrupt: {what}")

    if not raw.startswith(b"{"):
        raise ValueError(
            f"load: {source} is not a safetensors file (bad header); soma never unpickles, "
            "so files written by torch.save or pickle cannot be read this way"
        )
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"load: {source} has a corrupt safetensors header (not JSON)") from None
    except RecursionError:
        raise ValueError(f"load: {source} has a corrupt safetensors header (nested too deeply)") from None
    if not isinstance(header, dict):
        raise corrupt("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise corrupt("__metadata__ must map strings to strings")
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise corrupt(f"tensor {name!r} needs exactly dtype, shape and data_offsets")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if code not in _DTYPES:
            raise ValueError(
                f"load: {source}: tensor {name!r} has dtype {code!r}, which soma cannot hold "
                f"(supported: {', '.join(_DTYPES)}; bfloat16 is upcast to float32)"
            )
        if not isinstance(shape, list) or len(shape) > 64 or not all(_is_count(d) for d in shape):
            raise corrupt(f"tensor {name!r} has shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
            raise corrupt(f"tensor {name!r} has data_offsets {offsets!r}")
        begin, end = offsets
        if end - begin != math.prod(shape) * _DTYPES[code].itemsize:
            raise corrupt(f"tensor {name!r} of shape {tuple(shape)} {code} does not fit its {end - begin} bytes")
        entries.append(_Entry(name, code, tuple(shape), begin, end))
    entries.sort(key=lambda e: (e.begin, e.end))
    position = 0
    for entry in entries:
        if entry.begin != position:
            what = "overlaps the one before" if entry.begin < position else f"leaves a gap at byte {position}"
            raise corrupt(f"tensor {entry.name!r} {what}")
        position = entry.end
    if data_size is not None and position != data_size:
        state = "truncated" if position > data_size else "followed by unexpected bytes"
        raise corrupt(f"the header describes {position} bytes of data, the file holds {data_size} ({state})")
    return entries, metadata


def _read_into(stream, view, source):
    got = 0
    while got < len(view):
        if hasattr(stream, "readinto"):
            n = stream.readinto(view[got:])
        else:
            chunk = stream.read(min(len(view) - got, 1 << 24))
            n = len(chunk)
            view[got : got + n] = chunk
        if not n:
            raise ValueError(f"load: {source} is corrupt: truncated ({got} of {len(view)} bytes of a tensor)")
        got += n


def _read_tensor(stream, entry, source):
    disk = _DTYPES[entry.code]
    array = np.empty(entry.shape, dtype=disk)
    if array.size:
        _read_into(stream, memoryview(array.reshape(-1)).cast("B"), source)
    if entry.code == "BOOL" and array.size and array.view(np.uint8).max() > 1:
        raise ValueError(f"load: {source} is corrupt: bool tensor {entry.name!r} holds bytes other than 0 and 1")
    if entry.code == "BF16":  # the high half of a float32
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array if disk.isnative else array.astype(disk.newbyteorder("="))


def _read_exact(stream, n, source, what):
    data = bytearray(n)
    if n:
        try:
            _read_into(stream, memoryview(data), source)
        except ValueError:
            raise ValueError(f"load: {source} is not a safetensors file (too short for its {what})") from None
    return bytes(data)


def _read(stream, size, source):
    """``(arrays, metadata)`` from a binary ``stream`` of ``size`` bytes (``None``: unknown)."""
    first = _read_exact(stream, 8, source, "8-byte header length")
    length = int.from_bytes(first, "little")
    pickled = first[:4] == b"PK\x03\x04" or (first[:1] == b"\x80" and 2 <= first[1] <= 5)
    torch_file = ValueError(
        f"load: {source} is not a safetensors file: it looks like a torch.save/pickle file, and soma never unpickles"
    )
    if length > MAX_HEADER_BYTES or (size is not None and length > size - 8):
        if pickled:
            raise torch_file
        raise ValueError(
            f"load: {source} is not a safetensors file (its first 8 bytes give a header of {length} bytes"
            + (f" in a file of {size})" if size is not None else ")")
        )
    raw = _read_exact(stream, length, source, "header")
    if pickled and not raw.startswith(b"{"):
        raise torch_file
    entries, metadata = _parse_header(raw, None if size is None else size - 8 - length, source)
    return {e.name: _read_tensor(stream, e, source) for e in entries}, metadata


def _open_regular(path):
    """Open ``path`` for reading without blocking on a FIFO; refuse anything but a regular file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "load: is a directory, not a safetensors file", path)
        if not stat.S_ISREG(mode):
            device = stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if device else "special"
            raise ValueError(f"load: {path!r} is {kind}, not a regular file; soma.load reads only regular files")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def _stream_size(stream):
    try:
        info = os.fstat(stream.fileno())
        if stat.S_ISREG(info.st_mode):
            return info.st_size - stream.tell()
    except (AttributeError, OSError, ValueError):
        pass
    try:  # io.BytesIO and other seekable in-memory streams
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError):
        return None


def _device_map(map_location):
    """Check ``map_location`` as PyTorch takes it; soma's tensors all live on the CPU."""
    from soma._device import resolve

    if map_location is None or callable(map_location):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        resolve(target, "soma.load(map_location=...)")


def load_bytes(data, source="data"):
    """Decode safetensors bytes (as :func:`save_bytes` makes them) into what was saved."""
    import io as _io

    arrays, metadata = _read(_io.BytesIO(data), len(data), source)
    return _assemble(arrays, metadata, source)


def _assemble(arrays, metadata, source):
    structure = metadata.pop(STRUCTURE_KEY, None)
    if structure is None:  # a plain safetensors file, from anywhere
        return {name: Tensor._make(array, False) for name, array in arrays.items()}
    try:
        document = json.loads(structure)
    except json.JSONDecodeError:
        raise ValueError(f"load: {source} has a corrupt {STRUCTURE_KEY} entry (not JSON)") from None
    except RecursionError:
        raise ValueError(f"load: {source} has a corrupt {STRUCTURE_KEY} entry (nested too deeply)") from None
    if not isinstance(document, dict) or document.get("format") != _FORMAT or "structure" not in document:
        raise ValueError(f"load: {source} has a {STRUCTURE_KEY} entry of an unknown format")
    return _unflatten(document["structure"], arrays, source)


def load(f, map_location=None, *, weights_only=True, mmap=None, with_metadata=False):
    """Read what :func:`save` wrote (or any safetensors file) from a path or a binary file object.

    Returns the saved object rebuilt exactly (dicts, lists, tuples, numbers, strings and
    tensors); a safetensors file written by another tool gives a dict of name -> tensor.

    Args:
        f: a path, or a readable binary file object (read from where it stands).
        map_location: accepted as in ``torch.load`` (a device, a string, a dict or a
            function ``fn(tensor, "cpu")``); soma's tensors live on the CPU, so any other
            device is an error that says so.
        weights_only, mmap: accepted for PyTorch compatibility. soma never unpickles, so
            loading is always as safe as ``weights_only=True``; tensors are always read
            into memory of their own.
        with_metadata: also return the header's string metadata, as ``(obj, metadata)``.

    ``bfloat16`` tensors come back as ``float32`` (exactly the same values).

    Raises:
        ValueError: not a regular file, not safetensors, or corrupt (the message says how).
    """
    del weights_only, mmap  # nothing to execute, and nothing shared with the file
    _device_map(map_location)
    from soma._torch_load import is_torch_file, load_torch

    if is_torch_file(f):  # a torch.save file: read through an allowlist unpickler that runs nothing
        obj = load_torch(f, map_location)
        return (obj, {}) if with_metadata else obj
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f)
        source = repr(path)
        with _open_regular(path) as stream:
            arrays, metadata = _read(stream, os.fstat(stream.fileno()).st_size, source)
    else:
        if not hasattr(f, "read"):
            raise TypeError(f"load: f must be a path or a readable binary file object, got {type(f).__name__}")
        source = repr(getattr(f, "name", type(f).__name__))
        arrays, metadata = _read(f, _stream_size(f), source)
    obj = _assemble(arrays, metadata, source)
    if callable(map_location):
        obj = _map_tensors(obj, map_location)
    return (obj, metadata) if with_metadata else obj


def _map_tensors(obj, function):
    if isinstance(obj, Tensor):
        moved = function(obj, "cpu")
        if not isinstance(moved, Tensor):
            raise TypeError(f"load: map_location returned {type(moved).__name__}, expected a tensor")
        return moved
    if isinstance(obj, dict):
        return {k: _map_tensors(v, function) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [_map_tensors(v, function) for v in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    return obj
