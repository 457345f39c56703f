"""The array module: where every op gets its array functions.

soma's ops are written once against NumPy's API. NumPy ufuncs and most ``numpy``
functions dispatch on the array they are given (``__array_ufunc__`` and
``__array_function__``), so the same op runs on a CuPy array and returns a CuPy
array. The few places that create arrays from a shape alone ask this module which
library owns the inputs; that is the one place a GPU backend plugs in.
"""

import numpy as np

from soma._process import applied as process_settings  # what soma set at import, for inspection
from soma._process import reuse_freed_memory  # call with False to give freed memory back

__all__ = ["array_module", "as_array", "process_settings", "reuse_freed_memory"]


def array_module(array):
    """Return the array library (``numpy`` or ``cupy``) that owns ``array``."""
    if isinstance(array, np.ndarray) or not hasattr(array, "__cuda_array_interface__"):
        return np
    import cupy  # only reached for a CuPy array, so CuPy is installed

    return cupy


def as_array(value):
    """Return ``value`` as an array, turning NumPy scalars (results of 0-d reductions) into 0-d arrays."""
    if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
        return value
    return np.asarray(value)
