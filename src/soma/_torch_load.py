"""Read files written by ``torch.save`` without torch and without running anything they contain.

A ``torch.save`` file is a pickle, and unpickling can call any function a file names
(``os.system`` included). This reader unpickles with an allowlist instead: the only
globals it resolves are the tensor rebuild functions, the storage types, the dtypes,
``torch.Size``/``torch.device`` and ``collections.OrderedDict``, each mapped to soma's
own code, never to torch's. Any other global is refused, naming it, before anything
runs. Tensors first come back as inert placeholders; after unpickling, every storage
and view is checked against the bytes actually in the file (declared sizes, offsets,
strides, element counts) and only then copied into soma tensors.

Two layouts are read:

- the zip format (PyTorch ≥ 1.6): ``<archive>/data.pkl`` (the pickle; each storage
  is a persistent id ``("storage", <type>, key, location, numel)``), and the raw
  little- or big-endian bytes of storage ``key`` in ``<archive>/data/<key>``;
- the legacy format (``_use_new_zipfile_serialization=False``): five pickles in a row
  (magic number, protocol version, system info, the object, the storage keys), then
  each storage as an int64 element count followed by its bytes.

``bfloat16`` storages come back as ``float32`` (exactly the same values), as in
:func:`soma.load`.
"""

import io
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np

__all__ = ["is_torch_file", "load_torch", "UnsafeTorchFileError"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_MAX_EXPANDED_BYTES = 1 << 30  # a view may repeat its storage (stride 0) up to this many bytes
_MAX_DIMS = 64

# storage type name -> (NumPy dtype of the elements, itemsize in the file)
_STORAGES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16", "BFloat16Storage": "bfloat16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8",
    "ByteStorage": "uint8", "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "UntypedStorage": "uint8",
}
_DTYPES = {
    "float64": "float64", "double": "float64", "float32": "float32", "float": "float32", "float16": "float16",
    "half": "float16", "bfloat16": "float32", "int64": "int64", "long": "int64", "int32": "int32", "int": "int32",
    "int16": "int16", "short": "int16", "int8": "int8", "uint8": "uint8", "bool": "bool",
    "complex64": "complex64", "complex128": "complex128",
}


class UnsafeTorchFileError(pickle.UnpicklingError):
    """The file names a global outside the allowlist (it would run code): nothing was executed."""


class _TorchFileError(ValueError):
    pass


# ------------------------------------------------------------------ inert placeholders
class _Inert:
    """Objects the unpickler builds stay inert: BUILD (``__setstate__``) on them is refused."""

    __slots__ = ()

    def __setstate__(self, state):
        raise UnsafeTorchFileError(f"refusing to set state on a {type(self).__name__[1:]} (no torch file does)")

    def __reduce__(self):  # pragma: no cover - never pickled
        raise TypeError("not picklable")


class _StorageType(_Inert):
    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype


class _DType(_Inert):
    """A ``torch.<dtype>`` global; becomes a soma (NumPy) dtype in the result."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class _Call(_Inert):
    """An allowed callable, wrapped afresh for each lookup so a file can change nothing shared."""

    __slots__ = ("function",)

    def __init__(self, function):
        self.function = function

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


class _Storage(_Inert):
    """A storage the file declares: its key, element type, location and element count (data read later)."""

    __slots__ = ("key", "dtype", "location", "numel", "array")

    def __init__(self, key, dtype, location, numel):
        self.key, self.dtype, self.location, self.numel, self.array = key, dtype, location, numel, None


class _View(_Inert):
    """A tensor the file declares: a strided view of a storage (checked when the data is known)."""

    __slots__ = ("storage", "offset", "size", "stride", "requires_grad", "parameter")

    def __init__(self, storage, offset, size, stride, requires_grad):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride
        self.requires_grad, self.parameter = requires_grad, False


def _is_int(value):
    return type(value) is int


def _check_hooks(hooks, what):
    if not (hooks is None or (isinstance(hooks, OrderedDict) and not hooks)):
        raise UnsafeTorchFileError(f"{what}: backward hooks are not loaded (got {type(hooks).__name__})")


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    """soma's stand-in for ``torch._utils._rebuild_tensor_v2`` (and v1): a placeholder, checked later."""
    del metadata  # names of extra Python attributes; soma ignores them
    if not isinstance(storage, _Storage):
        raise UnsafeTorchFileError(f"_rebuild_tensor_v2: expected a storage, got {type(storage).__name__}")
    if not _is_int(storage_offset) or not isinstance(size, tuple) or not isinstance(stride, tuple):
        raise _TorchFileError("_rebuild_tensor_v2: the offset must be an int and size, stride tuples")
    if not all(_is_int(v) for v in size + stride) or len(size) != len(stride) or len(size) > _MAX_DIMS:
        raise _TorchFileError(f"_rebuild_tensor_v2: bad size {size!r} or stride {stride!r}")
    if not isinstance(requires_grad, bool):
        raise _TorchFileError("_rebuild_tensor_v2: requires_grad must be a bool")
    _check_hooks(backward_hooks, "_rebuild_tensor_v2")
    return _View(storage, storage_offset, size, stride, requires_grad)


def _rebuild_tensor_v1(storage, storage_offset, size, stride):
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    """soma's stand-in for ``torch._utils._rebuild_parameter`` (``_with_state`` when ``state`` is given)."""
    if not isinstance(data, _View):
        raise UnsafeTorchFileError(f"_rebuild_parameter: expected a tensor, got {type(data).__name__}")
    _check_hooks(backward_hooks, "_rebuild_parameter")
    if state:
        raise UnsafeTorchFileError("_rebuild_parameter_with_state: parameters with extra Python state are not loaded")
    data.requires_grad, data.parameter = bool(requires_grad), True
    return data


def _size(*args):
    if len(args) != 1 or not isinstance(args[0], (tuple, list)) or not all(_is_int(v) for v in args[0]):
        raise _TorchFileError("torch.Size: expected a sequence of ints")
    return tuple(args[0])


def _device(*args):
    from soma._device import device

    if not args or not isinstance(args[0], str) or not all(_is_int(a) for a in args[1:]):
        raise _TorchFileError("torch.device: expected a string and an optional index")
    return device(*args)


def _allowlist():
    """(module, name) -> a function making a fresh inert object for each lookup."""
    table = {
        ("torch._utils", "_rebuild_tensor_v2"): lambda: _Call(_rebuild_tensor),
        ("torch._utils", "_rebuild_tensor"): lambda: _Call(_rebuild_tensor_v1),
        ("torch._utils", "_rebuild_parameter"): lambda: _Call(_rebuild_parameter),
        ("torch._utils", "_rebuild_parameter_with_state"): lambda: _Call(_rebuild_parameter),
        ("torch", "Size"): lambda: _Call(_size),
        ("torch", "device"): lambda: _Call(_device),
        ("collections", "OrderedDict"): lambda: _Call(OrderedDict),
    }
    for name, dtype in _STORAGES.items():
        table[("torch", name)] = lambda name=name, dtype=dtype: _StorageType(name, dtype)
    table[("torch.storage", "UntypedStorage")] = table[("torch", "UntypedStorage")]
    for name, dtype in _DTYPES.items():
        table[("torch", name)] = lambda dtype=dtype: _DType(dtype)
    return table


_ALLOWED = _allowlist()


class _RestrictedUnpickler(pickle.Unpickler):
    """``find_class`` resolves only the allowlist, to soma's own stand-ins; ``persistent_load`` makes storages."""

    def __init__(self, stream, source, storages, legacy):
        super().__init__(stream, encoding="utf-8")
        self.source, self.storages, self.legacy = source, storages, legacy

    def find_class(self, module, name):
        make = _ALLOWED.get((module, name))
        if make is None:
            raise UnsafeTorchFileError(
                f"load: {self.source} refers to the global {module}.{name}, which is not on the allowlist "
                "(tensors, storages, dtypes, torch.Size, torch.device, OrderedDict); nothing was executed. "
                "soma reads weights and plain containers only, never pickled classes or functions"
            )
        return make()

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) != (6 if self.legacy else 5) or pid[0] != "storage":
            raise _TorchFileError(f"load: {self.source} has a persistent id that is not a storage")
        _, kind, key, location, numel = pid[:5]
        if not isinstance(kind, _StorageType):
            raise UnsafeTorchFileError(f"load: {self.source}: a storage of unknown type {type(kind).__name__}")
        if not isinstance(key, str) or not key or "/" in key or not isinstance(location, str) or not _is_int(numel) \
                or numel < 0:
            raise _TorchFileError(f"load: {self.source} declares a malformed storage {pid[2:5]!r}")
        if self.legacy and pid[5] is not None:
            raise _TorchFileError(f"load: {self.source}: legacy storage views are not supported")
        known = self.storages.get(key)
        if known is None:
            known = self.storages[key] = _Storage(key, kind.dtype, location, numel)
        elif (known.dtype, known.numel) != (kind.dtype, numel):
            raise _TorchFileError(f"load: {self.source} declares storage {key!r} twice, differently")
        return known


def _unpickle(stream, source, storages, legacy=False):
    try:
        return _RestrictedUnpickler(stream, source, storages, legacy).load()
    except (UnsafeTorchFileError, _TorchFileError):
        raise
    except RecursionError:
        raise _TorchFileError(f"load: {source}: the pickle is nested too deeply") from None
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, KeyError, IndexError,
            struct.error, UnicodeDecodeError) as error:
        raise _TorchFileError(f"load: {source} is a corrupt torch.save file ({type(error).__name__}: {error})") \
            from None


# ------------------------------------------------------------------ the two layouts
def _storage_array(raw, storage, byteorder, source):
    """The storage's elements from its raw bytes, after checking their count against the declaration."""
    file_dtype = np.dtype("uint16" if storage.dtype == "bfloat16" else storage.dtype)
    if len(raw) != storage.numel * file_dtype.itemsize:
        raise _TorchFileError(
            f"load: {source}: storage {storage.key!r} declares {storage.numel} elements of {storage.dtype} "
            f"({storage.numel * file_dtype.itemsize} bytes) but the file holds {len(raw)} bytes"
        )
    array = np.frombuffer(raw, file_dtype.newbyteorder("<" if byteorder == "little" else ">"))
    array = array.astype(file_dtype.newbyteorder("="), copy=False)
    if storage.dtype == "bfloat16":  # the high half of a float32
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array


def _find_archive(archive, source):
    names = archive.namelist()
    pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise _TorchFileError(f"load: {source} is a zip file but not a torch.save archive (no single data.pkl)")
    return pickles[0][: -len("data.pkl")]


def _load_zip(stream, source):
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _TorchFileError(f"load: {source} starts like a torch.save zip archive but is not a readable zip "
                              f"({error})") from None
    with archive:
        prefix = _find_archive(archive, source)
        byteorder = "little"
        if prefix + "byteorder" in archive.namelist():
            byteorder = archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise _TorchFileError(f"load: {source} has an unknown byteorder {byteorder!r}")
        storages = {}
        obj = _unpickle(io.BytesIO(archive.read(prefix + "data.pkl")), source, storages)
        for storage in storages.values():
            name = f"{prefix}data/{storage.key}"
            try:
                info = archive.getinfo(name)
            except KeyError:
                raise _TorchFileError(f"load: {source} declares storage {storage.key!r} but has no {name}") from None
            itemsize = 2 if storage.dtype == "bfloat16" else np.dtype(storage.dtype).itemsize
            if info.file_size != storage.numel * itemsize:  # checked before anything is read
                raise _TorchFileError(
                    f"load: {source}: storage {storage.key!r} declares {storage.numel} elements of {storage.dtype} "
                    f"but {name} holds {info.file_size} bytes"
                )
            storage.array = _storage_array(archive.read(name), storage, byteorder, source)
    return obj


def _read_exact(stream, n, remaining, source, what):
    if n > remaining:
        raise _TorchFileError(f"load: {source}: {what} needs {n} bytes but only {remaining} are left in the file")
    data = stream.read(n)
    if len(data) != n:
        raise _TorchFileError(f"load: {source} is truncated in {what}")
    return data


def _load_legacy(stream, total, source):
    storages = {}
    if _unpickle(stream, source, storages, legacy=True) != _LEGACY_MAGIC:
        raise _TorchFileError(f"load: {source} is not a torch.save file (wrong magic number)")
    if _unpickle(stream, source, storages, legacy=True) != _LEGACY_PROTOCOL:
        raise _TorchFileError(f"load: {source} uses an unsupported legacy torch.save protocol")
    info = _unpickle(stream, source, storages, legacy=True)
    if not isinstance(info, dict) or info.get("little_endian", True) is not True:
        raise _TorchFileError(f"load: {source}: only little-endian legacy torch.save files are supported")
    obj = _unpickle(stream, source, storages, legacy=True)
    keys = _unpickle(stream, source, storages, legacy=True)
    if not isinstance(keys, list) or sorted(keys) != sorted(storages):
        raise _TorchFileError(f"load: {source}: the storage key list does not match the storages used")
    for key in keys:
        storage = storages[key]
        here = stream.tell()
        (count,) = struct.unpack("<q", _read_exact(stream, 8, total - here, source, f"storage {key!r}"))
        if count != storage.numel:
            raise _TorchFileError(f"load: {source}: storage {key!r} declares {storage.numel} elements but "
                                  f"its data says {count}")
        itemsize = 2 if storage.dtype == "bfloat16" else np.dtype(storage.dtype).itemsize
        raw = _read_exact(stream, count * itemsize, total - here - 8, source, f"storage {key!r}")
        storage.array = _storage_array(raw, storage, "little", source)
    return obj


# ------------------------------------------------------------------ placeholders -> soma tensors
def _materialize(view, source, map_location):
    from soma.nn.module import Parameter
    from soma.tensor import Tensor

    storage = view.storage
    where = f"load: {source}: a tensor of size {view.size} on storage {storage.key!r} ({storage.numel} elements)"
    if storage.location != "cpu" and map_location is None:
        raise RuntimeError(
            f"{where} was saved on {storage.location!r}; soma's tensors live on the CPU: "
            "pass map_location='cpu' (as torch.load needs on a machine without that device)"
        )
    if view.offset < 0 or any(s < 0 for s in view.size) or any(s < 0 for s in view.stride):
        raise _TorchFileError(f"{where}: negative offset {view.offset}, size or stride {view.stride}")
    numel = int(np.prod(view.size, dtype=object))
    array = storage.array
    if numel:
        last = view.offset + sum((n - 1) * s for n, s in zip(view.size, view.stride))
        if last >= storage.numel:
            raise _TorchFileError(f"{where}: offset {view.offset} and stride {view.stride} reach element {last}, "
                                  "outside the storage")
        if numel > storage.numel and numel * array.itemsize > _MAX_EXPANDED_BYTES:
            raise _TorchFileError(f"{where}: {numel} elements repeat a storage of {storage.numel}; "
                                  f"refusing more than {_MAX_EXPANDED_BYTES} bytes")
        strides = tuple(s * array.itemsize for s in view.stride)
        out = np.lib.stride_tricks.as_strided(array[view.offset:], view.size, strides, writeable=False).copy()
    else:
        out = np.zeros(view.size, array.dtype)
    tensor = Tensor._make(out, False)
    if view.parameter:
        tensor = Parameter(tensor, requires_grad=view.requires_grad)
    elif view.requires_grad and tensor.dtype.kind in "fc":
        tensor.requires_grad_(True)
    if callable(map_location):
        tensor = map_location(tensor, storage.location)
        if not isinstance(tensor, Tensor):
            raise TypeError(f"load: map_location returned {type(tensor).__name__}, expected a tensor")
    return tensor


def _rebuild(obj, source, map_location, done, active):
    """Copy the unpickled structure with every placeholder made a soma tensor (shared objects stay shared)."""
    key = id(obj)
    if key in done:
        return done[key]
    if isinstance(obj, _View):
        result = done[key] = _materialize(obj, source, map_location)
        return result
    if isinstance(obj, _DType):
        return np.dtype(obj.name)
    if isinstance(obj, _Inert):
        raise _TorchFileError(f"load: {source}: a bare {type(obj).__name__[1:]} outside a tensor is not loaded")
    if not isinstance(obj, (dict, list, tuple, set, frozenset)):
        return obj
    if key in active:
        raise _TorchFileError(f"load: {source}: the object contains itself (a cycle), which soma does not load")
    active.add(key)
    def again(value):
        return _rebuild(value, source, map_location, done, active)

    if isinstance(obj, dict):
        result = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for k, v in obj.items():
            result[again(k)] = again(v)
        metadata = getattr(obj, "_metadata", None)  # a state_dict's per-module versions
        if isinstance(result, OrderedDict) and isinstance(metadata, dict):
            result._metadata = again(metadata)
    else:
        items = [again(v) for v in obj]
        result = tuple(items) if isinstance(obj, tuple) else type(obj)(items)
    active.discard(key)
    done[key] = result
    return result


# ------------------------------------------------------------------ public
def _peek(f, n):
    if isinstance(f, (str, bytes, os.PathLike)):
        if not os.path.isfile(f):  # never open a FIFO or a device to peek at it
            return b""
        try:
            with open(f, "rb") as stream:
                return stream.read(n)
        except OSError:
            return b""
    try:
        here = f.tell()
        head = f.read(n)
        f.seek(here)
        return head if isinstance(head, bytes) else b""
    except (AttributeError, OSError, ValueError):
        return b""


def is_torch_file(f):
    """Whether ``f`` (a path or a seekable binary file object, left where it stands) starts like a
    ``torch.save`` file: a zip archive, or a legacy pickle opening with PyTorch's magic number."""
    head = _peek(f, 16)
    if head.startswith(b"PK\x03\x04"):
        return True
    return head.startswith(b"\x80\x02\x8a\x0a" + _LEGACY_MAGIC.to_bytes(10, "little"))


def load_torch(f, map_location=None):
    """Load a ``torch.save`` file (zip or legacy format) from a path or a binary file object.

    Returns the saved structure (dicts, OrderedDicts, lists, tuples, sets, numbers, strings,
    ``None``) with each tensor a soma tensor (a ``torch.nn.Parameter`` becomes an
    ``nn.Parameter``); e.g. a model's ``state_dict()`` for ``load_state_dict``, or a
    whole checkpoint with an optimizer's state.

    Args:
        f: a path, or a readable binary file object.
        map_location: ``None`` (tensors saved on another device are an error, as in PyTorch
            without that device), ``"cpu"`` or ``soma.device("cpu")``, a dict mapping saved
            locations to ``"cpu"``, or a function ``fn(tensor, location)`` applied to each
            loaded tensor.

    Raises:
        UnsafeTorchFileError: the pickle names a global outside the allowlist (a class, a
            function such as ``os.system``): refused before anything runs.
        ValueError: a corrupt file, or storages and views that do not fit the data in it.
    """
    from soma.io import _device_map  # the same check of map_location as soma.load's

    _device_map(map_location)
    if isinstance(f, (str, bytes, os.PathLike)):
        source = repr(os.fsdecode(f))
        with open(f, "rb") as stream:
            data = stream.read()
    else:
        source = repr(getattr(f, "name", type(f).__name__))
        data = f.read()
    if not isinstance(data, bytes):
        raise TypeError(f"load: {source} must be opened in binary mode")
    stream = io.BytesIO(data)
    if data.startswith(b"PK\x03\x04"):
        obj = _load_zip(stream, source)
    else:
        obj = _load_legacy(stream, len(data), source)
    try:
        return _rebuild(obj, source, map_location, {}, set())
    except RecursionError:
        raise _TorchFileError(f"load: {source}: the saved structure is nested too deeply") from None
