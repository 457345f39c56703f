"""Type promotion by PyTorch's rules, written once: :func:`result_type`.

NumPy and PyTorch promote differently. NumPy lets a 0-d float64 array make a float32
array float64 and sends ``int64 * 1.5`` to float64; PyTorch keeps the dtype of the
dimensioned tensor unless something of a *higher category* appears. Every soma op that
combines operands asks :func:`result_type` and casts to it, so soma's dtypes are
PyTorch's. The rule:

* Categories rank bool < integer < floating < complex.
* Operands fall into three priority classes: dimensioned tensors, 0-d tensors, and
  scalars (Python numbers and NumPy scalars such as ``np.float64(1.5)``).
* Within a class, dtypes promote as usual (``int8 + uint8 -> int16``,
  ``float16 + float32 -> float32``; across categories the higher category's dtype wins:
  ``int64 + float16 -> float16``).
* A lower class changes the result only if its category is higher: ``float32 tensor *
  float64 0-d tensor -> float32``, ``int64 tensor * 1.5 -> float32``, ``uint8 tensor + 300
  -> uint8``, ``int32 tensor + int64 0-d tensor -> int32``, ``int64 tensor + float64 0-d
  tensor -> float64``.
* A scalar brings its category's default dtype: bool, int64, the default float dtype
  (:func:`get_default_dtype`, float32 unless changed) or the matching complex type.

=================================  ===================
operands                           result
=================================  ===================
float32 tensor, 2.5                float32
float32 tensor, float64 0-d        float32
float32 tensor, float64 tensor     float64
int64 tensor, 2.5                  default float dtype
int64 tensor, float64 0-d          float64
int32 tensor, int64 0-d / 7        int32
uint8 tensor, int8 tensor          int16
bool tensor, 1                     int64
int tensor / int tensor            default float dtype (true division)
int tensor ** 1.5                  default float dtype
sin, exp, sqrt, ... of an int      default float dtype
=================================  ===================
"""

import numpy as np

__all__ = [
    "result_type", "promote_types", "get_default_dtype", "set_default_dtype", "category", "float_result",
    "can_cast",
]

_BOOL = np.dtype(np.bool_)
_INT64 = np.dtype(np.int64)
_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


class _Default:
    float = np.dtype(np.float32)
    complex = np.dtype(np.complex64)


def get_default_dtype():
    """The dtype of new floating-point tensors (float32 unless :func:`set_default_dtype` changed it)."""
    return _Default.float


def set_default_dtype(d):
    """Make ``d`` (float16, float32 or float64) the dtype of new floating-point tensors and of int/int division."""
    dtype = _as_dtype(d)
    if dtype not in _FLOATS:
        raise TypeError("only floating-point types are supported as the default type")
    _Default.float = dtype
    _Default.complex = np.dtype(np.complex128) if dtype == np.float64 else np.dtype(np.complex64)


def _as_dtype(d):
    try:
        return np.dtype(d)
    except TypeError:
        raise TypeError(f"{d!r} is not a dtype") from None


def category(dtype):
    """0 for bool, 1 for integers, 2 for floating point, 3 for complex."""
    kind = dtype.kind
    return 0 if kind == "b" else 1 if kind in "iu" else 2 if kind == "f" else 3


def promote_types(a, b):
    """PyTorch's ``promote_types`` for two dtypes: across categories the higher category's dtype wins."""
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        if ca == 3 or cb == 3:  # complex with a float keeps the float's precision
            low, high = (b, a) if ca == 3 else (a, b)
            return np.promote_types(high, low) if category(low) == 2 else high
        return a if ca > cb else b
    return np.promote_types(a, b)


def _scalar_dtype(value):
    """The dtype a Python or NumPy scalar brings, or None if ``value`` is not a scalar."""
    if isinstance(value, (bool, np.bool_)):
        return _BOOL
    if isinstance(value, (int, np.integer)):
        return _INT64
    if isinstance(value, (float, np.floating)):
        return _Default.float
    if isinstance(value, (complex, np.complexfloating)):
        return _Default.complex
    return None


def _combine(higher, lower):
    """PyTorch's ``combine_categories``: ``lower`` counts only if its category is higher."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    ch, cl = category(higher), category(lower)
    if ch >= cl:
        return higher
    if ch == 2 and cl == 3:  # a float tensor with a complex scalar: complex of the float's precision
        return np.promote_types(higher, np.complex64)
    return promote_types(higher, lower) if ch == 0 or cl >= 2 else lower


def result_type(*operands):
    """The dtype PyTorch computes ``operands`` in (tensors, arrays and scalars; None is skipped)."""
    dims = zeros = scalars = None
    for value in operands:
        array = getattr(value, "_array", value)
        dtype = getattr(array, "dtype", None)
        if dtype is not None and hasattr(array, "ndim") and not isinstance(array, np.generic):
            if array.ndim:
                dims = dtype if dims is None else promote_types(dims, dtype)
            else:
                zeros = dtype if zeros is None else promote_types(zeros, dtype)
            continue
        dtype = _scalar_dtype(value)
        if dtype is None:
            if value is None:
                continue
            raise TypeError(f"expected a Tensor or a number, got {type(value).__name__}")
        scalars = dtype if scalars is None else promote_types(scalars, dtype)
    return _combine(dims, _combine(zeros, scalars))


def float_result(dtype):
    """The dtype of a floating-point function (sin, exp, true division) of ``dtype``: ints become the default float."""
    return dtype if dtype.kind in "fc" else _Default.float


def can_cast(source, target):
    """PyTorch's ``can_cast`` for in-place results: never down a category (float -> int, int -> bool)."""
    return category(source) <= category(target)
