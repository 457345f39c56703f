"""Making tensors: from data, filled with a value, ranges, and random draws.

Floating-point tensors are float32 unless a dtype is given; integer data becomes
int64; random draws come from the one generator that :func:`soma.manual_seed` seeds.
"""

import numpy as np

from soma.random import generator
from soma.tensor import Tensor

__all__ = [
    "tensor", "as_tensor", "from_numpy", "is_tensor", "zeros", "ones", "full", "empty", "arange",
    "linspace", "eye", "rand", "randn", "randint", "randperm", "normal", "zeros_like",
    "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like",
]

_FLOAT = np.dtype(np.float32)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"sizes must be non-negative integers, got {size}")
    return tuple(int(s) for s in size)


def _finish(array, requires_grad):
    tensor = Tensor._make(array, False)
    return tensor.requires_grad_(True) if requires_grad else tensor


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a number, nested lists or an array)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None):
    """Like :func:`tensor`, but shares memory with an ndarray (or tensor) of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == np.dtype(dtype)):
        return Tensor._make(data, False)
    return Tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array, False)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def zeros(*size, dtype=None, requires_grad=False):
    return _finish(np.zeros(_size(size), dtype or _FLOAT), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _finish(np.ones(_size(size), dtype or _FLOAT), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else (
            np.int64 if isinstance(fill_value, int) else _FLOAT
        )
    return _finish(np.full(_size((size,)), fill_value, dtype), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _finish(np.empty(_size(size), dtype or _FLOAT), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values from start (inclusive) to end (exclusive); int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        whole = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if whole else _FLOAT
    return _finish(np.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _finish(np.linspace(start, end, steps).astype(dtype or _FLOAT), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=dtype or _FLOAT), requires_grad)


def _float_dtype(dtype):
    dtype = np.dtype(dtype or _FLOAT)
    if dtype.kind != "f":
        raise TypeError(f"random floats need a floating-point dtype, got {dtype}")
    return dtype


def rand(*size, dtype=None, requires_grad=False):
    """Uniform on [0, 1)."""
    dtype = _float_dtype(dtype)
    return _finish(generator().random(_size(size), dtype=dtype), requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal."""
    dtype = _float_dtype(dtype)
    return _finish(generator().standard_normal(_size(size), dtype=dtype), requires_grad)


def randint(low, high=None, size=(), dtype=None):
    """Integers uniform on [low, high) (``randint(high, size)`` starts at 0)."""
    if high is None or isinstance(high, (tuple, list)):
        low, high, size = 0, low, high if high is not None else size
    return Tensor._make(generator().integers(low, high, _size((size,))).astype(dtype or np.int64), False)


def randperm(n, dtype=None):
    return Tensor._make(generator().permutation(n).astype(dtype or np.int64), False)


def normal(mean, std, size, dtype=None, requires_grad=False):
    dtype = _float_dtype(dtype)
    return _finish(generator().normal(mean, std, _size((size,))).astype(dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def empty_like(t, dtype=None, requires_grad=False):
    return empty(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t, dtype=None, requires_grad=False):
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randint_like(t, low, high=None, dtype=None):
    return randint(low, high, t.shape, dtype=dtype or t.dtype)
