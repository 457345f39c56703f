"""A strict array backend for tests: NumPy's numbers in an array type that refuses to become a NumPy array.

``StrictArray`` holds an ndarray and takes part in NumPy's dispatch (``__array_ufunc__``,
``__array_function__``, ``like=``) the way CuPy's arrays do, and, like them, it raises on
every implicit conversion: ``np.asarray(x)``, mixing with an ``np.ndarray`` operand in a
ufunc or function, ``x.__array__()``. An op that runs on it and gives NumPy's numbers
routes every array through :mod:`soma.backend`; any leak (an array made from a shape
without ``like=``, an ``np.asarray`` of data) raises here, naming the function.
Registered for the device type ``"privateuseone"`` (PyTorch's slot for an out-of-tree
backend), so ``soma.randn(3, device="privateuseone")`` makes one.
"""

import weakref

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

import soma.backend as backend

__all__ = ["StrictArray", "DEVICE", "enable", "disable", "unwrap"]

DEVICE = "privateuseone"


class ImplicitConversion(TypeError):
    pass


def _unwrap(value, where):
    if isinstance(value, StrictArray):
        return value._a
    if isinstance(value, np.ndarray):
        raise ImplicitConversion(f"{where}: a NumPy array of shape {value.shape} met a StrictArray (no implicit "
                                 "conversion, as with CuPy)")
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, where) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v, where) for k, v in value.items()}
    return value


_wrappers = weakref.WeakValueDictionary()  # id(ndarray) -> its one StrictArray, so identity means memory


def _wrap(value):
    if isinstance(value, np.ndarray):
        wrapper = _wrappers.get(id(value))
        if wrapper is None or wrapper._a is not value:
            wrapper = _wrappers[id(value)] = StrictArray(value)
        return wrapper
    if isinstance(value, np.generic):  # a reduction to a scalar stays on the device, as CuPy's 0-d arrays
        return StrictArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class StrictArray(NDArrayOperatorsMixin):
    """An ndarray that only NumPy's dispatch can see inside."""

    __slots__ = ("_a", "_base", "__weakref__")

    def __init__(self, array):
        self._a = array
        self._base = None

    # -------------------------------------------------------------- refusing conversion
    def __array__(self, dtype=None, copy=None):
        raise ImplicitConversion("StrictArray: implicit conversion to a NumPy array is not allowed; "
                                 "use the backend's to_numpy")

    # ---------------------------------------------------------------------- dispatch
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        where = f"np.{ufunc.__name__}"
        out = kwargs.get("out")
        args = _unwrap(inputs, where)
        kwargs = _unwrap(kwargs, where)
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        where = f"np.{func.__name__}"
        result = func(*_unwrap(args, where), **_unwrap(kwargs, where))
        return _wrap(result)

    # --------------------------------------------------------------------- the array
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: StrictArray(self._a.T))
    mT = property(lambda self: StrictArray(self._a.mT))

    @property
    def base(self):
        if self._base is None and isinstance(self._a.base, np.ndarray):
            self._base = _wrap(self._a.base)  # held, so the root's wrapper lives as long as its views
        return self._base

    def __getattr__(self, name):
        if name.startswith("__"):  # __array_interface__ and kin would hand NumPy the memory
            raise AttributeError(name)
        attribute = getattr(self._a, name)
        if not callable(attribute):
            return _wrap(attribute)

        def method(*args, **kwargs):
            return _wrap(attribute(*_unwrap(args, f"ndarray.{name}"), **_unwrap(kwargs, f"ndarray.{name}")))

        return method

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index, "getitem")])

    def __setitem__(self, index, value):
        self._a[_unwrap(index, "setitem")] = _unwrap(value, "setitem")

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __complex__(self):
        return complex(self._a)

    def __repr__(self):
        return f"StrictArray({self._a!r})"

    def __eq__(self, other):  # NDArrayOperatorsMixin's, spelled out so hashing stays off
        return np.equal(self, other)

    __hash__ = None


def unwrap(array):
    """The host copy of a StrictArray (the backend's explicit transfer)."""
    return array._a.copy()


def _from_numpy(array):
    if isinstance(array, StrictArray):
        return array
    return _wrap(np.array(array, copy=True))


def _windows(array, shape, strides):
    return _wrap(np.lib.stride_tricks.as_strided(array._a, shape, strides, writeable=False))


BACKEND = backend.Backend("strict", DEVICE, np, StrictArray, to_numpy=unwrap, from_numpy=_from_numpy,
                          index_of=lambda array: 0, windows=_windows)


def enable():
    backend.register(BACKEND)


def disable():
    backend.unregister(DEVICE)
