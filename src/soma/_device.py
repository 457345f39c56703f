"""Devices: where a tensor's storage lives, and which array library computes on it.

`soma.device` is PyTorch's ``torch.device``: a type (``"cpu"``, ``"cuda"``, ...) and
an optional index. Every factory, ``Tensor.to`` and ``Module.to`` accept a device (a
`soma.device`, a string such as ``"cpu"`` or ``"cuda:0"``, or an int for a GPU index)
and hand it to :func:`resolve`, the one place that maps a device to its array library.
Today that is NumPy for ``"cpu"``; asking for a device that this machine does not have
raises a ``RuntimeError`` that says so, at the call that asked for it.
"""

import numpy as np

__all__ = ["device", "resolve", "place", "device_of", "backend_for", "set_default_device", "get_default_device"]

# PyTorch's device types, so that a string it would parse parses here too.
_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
    "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)


class device:
    """A device type and index: ``soma.device("cpu")``, ``soma.device("cuda", 0)``, ``soma.device("cuda:1")``.

    Equal to another device of the same type and index; ``str`` gives ``"cpu"`` or ``"cuda:1"``.
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device(): an index cannot be given with a device object")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, (int, np.integer)) and not isinstance(type, bool):
            type, index = "cuda", int(type)
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string, a device or an int, got {_name(type)}")
        name, _, suffix = type.partition(":")
        if name not in _TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_TYPES)} device type at start of device string: {type}"
            )
        if suffix:
            if index is not None:
                raise RuntimeError(f"device(): type {type!r} already names an index; got index={index} as well")
            if not suffix.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(suffix)
        if index is not None:
            if not isinstance(index, (int, np.integer)) or isinstance(index, bool) or index < 0:
                raise RuntimeError(f"Device index must be a non-negative integer, got {index!r}")
            index = int(index)
        self._type, self._index = name, index

    @property
    def type(self):
        return self._type

    @property
    def index(self):
        return self._index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, device) and (self._type, self._index) == (other._type, other._index)

    def __hash__(self):
        return hash((self._type, self._index))

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self):
        if self._index is None:
            return f"device(type={self._type!r})"
        return f"device(type={self._type!r}, index={self._index})"

    def __reduce__(self):
        return device, (self._type, self._index)


def _name(value):
    return type(value).__name__


CPU = device("cpu")


class _Defaults:
    device = CPU


def resolve(where, op="soma"):
    """The :class:`device` that ``where`` names (``None``: the default device), checked to exist here.

    The one place that decides what a device means: ``"cpu"`` computes with NumPy, any other
    type with the array backend registered for it (:mod:`soma.backend`; CuPy for ``"cuda"``
    where a GPU exists). A device without a backend raises a ``RuntimeError`` naming ``op``
    and saying what this machine has.
    """
    if where is None:
        return _Defaults.device
    target = where if isinstance(where, device) else device(where)
    if target._type == "cpu":
        return CPU
    if target._type == "meta":
        raise NotImplementedError(f"{op}: the 'meta' device (shapes without storage) is not supported by soma")
    from soma import cuda

    if target._type == "cuda" and not cuda.is_available():
        raise RuntimeError(
            f"{op}: device {str(target)!r} was asked for, but CUDA is not available on this machine "
            "(soma.cuda.is_available() is False); use device='cpu'"
        )
    if backend_for(target) is None:
        raise RuntimeError(
            f"{op}: device {str(target)!r} is not supported by soma on this machine; only 'cpu' is available"
        )
    return target


def backend_for(target):
    """The array backend of a device (NumPy's for the CPU), or None."""
    from soma import backend

    return backend.for_device(target._type)


def device_of(array):
    """The :class:`device` an array lives on."""
    from soma import backend

    owner = backend.of(array)
    if owner is backend.NUMPY:
        return CPU
    return device(owner.device_type, owner.index_of(array))


def place(array, where, op="soma"):
    """``array`` moved to the device ``where`` names (``None``: the default device); unchanged if it is there."""
    target = resolve(where, op)
    if target is CPU and type(array) is np.ndarray:
        return array
    return backend_for(target).transfer(array)


def set_default_device(where):
    """Make ``where`` the device factories use when no ``device=`` is given (``None`` resets to CPU)."""
    _Defaults.device = CPU if where is None else resolve(where, "set_default_device")


def get_default_device():
    return _Defaults.device
