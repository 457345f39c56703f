"""Array backends: which array library a device's tensors live in and compute with.

soma's ops are written once against NumPy's API. NumPy's ufuncs and functions dispatch
on the arrays they are given (``__array_ufunc__``, ``__array_function__``), so the same
op runs on another library's array and returns one of its arrays. What does not
dispatch by itself is written so that it does: arrays made from a shape take a
reference array (``np.zeros(shape, dtype, like=x)``, ``np.zeros_like(x, shape=...)``),
and nothing calls ``np.asarray`` on an array that may live elsewhere. A backend is then
a small :class:`Backend` record: the library's namespace, its array type, its device
type, and the transfers to and from host memory. :data:`NUMPY` is the CPU's;
:mod:`soma.backend.cupy_backend` registers CuPy for ``"cuda"`` where a GPU exists; the
test suite registers a strict backend whose arrays refuse any implicit conversion to
NumPy (as CuPy's do), which proves the ops route every array through here.
:func:`soma._device.resolve` asks this registry what a device means.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from soma._memory import applied as process_settings  # what soma set at import, for inspection
from soma._memory import reuse_freed_memory  # call with False to give freed memory back (or SOMA_KEEP_FREED_MEMORY=0)

__all__ = [
    "Backend", "NUMPY", "register", "of", "for_device", "array_module", "as_array", "is_array", "contiguous",
    "in_layout_of", "process_settings", "reuse_freed_memory",
]


@dataclass(frozen=True)
class Backend:
    """One array library as soma uses it.

    Attributes:
        name: a label ("numpy", "cupy").
        device_type: the :class:`soma.device` type whose tensors live here ("cpu", "cuda").
        xp: the library's NumPy-compatible namespace.
        array_type: the class of its arrays.
        to_numpy: host copy of one of its arrays.
        from_numpy: one of its arrays holding a host array's values.
        index_of: the device index an array lives on (None for the CPU).
        windows: ``windows(array, shape, strides)``, a read-only strided view of the array's memory
            (im2col's receptive fields without a copy; ``as_strided`` is the one function NumPy's dispatch
            cannot route).
    """

    name: str
    device_type: str
    xp: Any
    array_type: type
    to_numpy: Any
    from_numpy: Any
    index_of: Any = lambda array: None
    windows: Any = None

    def transfer(self, array):
        """``array`` (of any registered backend) as one of this backend's arrays."""
        source = of(array)
        if source is self:
            return array
        return self.from_numpy(source.to_numpy(array))


def _numpy_windows(array, shape, strides):
    return np.lib.stride_tricks.as_strided(array, shape, strides, writeable=False)


NUMPY = Backend("numpy", "cpu", np, np.ndarray, to_numpy=lambda a: a, from_numpy=np.asarray, windows=_numpy_windows)

_by_device = {"cpu": NUMPY}
_by_type = {np.ndarray: NUMPY}


def register(backend):
    """Make ``backend`` the one for its device type (and its array type)."""
    _by_device[backend.device_type] = backend
    _by_type[backend.array_type] = backend


def unregister(device_type):
    backend = _by_device.pop(device_type, None)
    if backend is not None and backend is not NUMPY:
        _by_type.pop(backend.array_type, None)


def of(array):
    """The backend that owns ``array`` (NumPy for anything that is not another backend's array)."""
    backend = _by_type.get(type(array))
    if backend is not None:
        return backend
    for kind, backend in _by_type.items():
        if isinstance(array, kind):
            return backend
    return NUMPY


def to_numpy(array):
    """``array`` (of any registered backend) on the host: itself for a NumPy array, else a host copy."""
    return of(array).to_numpy(array)


def for_device(device_type):
    """The backend registered for a device type, or None."""
    return _by_device.get(device_type)


def array_module(array):
    """The namespace (``numpy``, ``cupy``, ...) of the library that owns ``array``."""
    return of(array).xp


def is_array(value):
    """True for an array of any registered backend (not for NumPy scalars or Python data)."""
    return type(value) in _by_type or any(isinstance(value, kind) for kind in _by_type)


def contiguous(array):
    """``array`` in C order (itself if it is): ``np.ascontiguousarray`` for any backend's array."""
    return array if array.flags.c_contiguous else array.copy(order="C")


def in_layout_of(array, reference):
    """``array`` (of ``reference``'s shape) in ``reference``'s memory order: itself when they agree, else one copy.

    A ufunc over operands of different memory orders (NCHW against channels-last) walks one
    of them with long strides and costs about ten times a transposing copy (measured on
    (32, 16, 16, 16) float32: 1.15 ms for the mixed product, 0.12 ms for the copy).
    """
    if _order(array) == _order(reference):
        return array
    out = np.empty_like(reference, dtype=array.dtype)
    out[...] = array
    return out


def _order(array):
    return sorted((i for i in range(array.ndim) if array.shape[i] > 1), key=lambda i: -abs(array.strides[i]))


def as_array(value):
    """``value`` as an array: any backend's array unchanged; NumPy scalars (results of 0-d reductions) as 0-d arrays."""
    if type(value) in _by_type:
        return value
    for kind in _by_type:
        if isinstance(value, kind):
            return value
    return np.asarray(value)
