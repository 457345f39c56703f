"""CuPy: soma's tensors on an NVIDIA GPU, ``device="cuda"``, where CuPy is installed and sees a GPU.

The ops need nothing GPU-specific: CuPy's arrays take part in NumPy's dispatch
(``__array_ufunc__``, ``__array_function__`` and ``like=``), so every op written against
NumPy runs on them. This module only describes CuPy to :mod:`soma.backend`. It is loaded
by :func:`soma.cuda.is_available`; its tests (tests/backend/test_cupy.py) run where a GPU
exists and are skipped elsewhere (CI has none).
"""

from soma.backend import Backend, register

__all__ = ["load", "device_count"]

_state = {"loaded": None}


def _cupy():
    try:
        import cupy
    except ImportError:
        return None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
    except Exception:  # no driver, no device: CuPy is installed but cannot run here
        return None
    return cupy


def load():
    """Register CuPy for ``"cuda"`` if it can run here; True when it is registered."""
    if _state["loaded"] is None:
        cupy = _cupy()
        _state["loaded"] = cupy is not None
        if cupy is not None:
            register(Backend("cupy", "cuda", cupy, cupy.ndarray, to_numpy=cupy.asnumpy, from_numpy=cupy.asarray,
                             index_of=lambda array: array.device.id,
                             windows=lambda a, shape, strides: cupy.lib.stride_tricks.as_strided(a, shape, strides)))
    return _state["loaded"]


def device_count():
    cupy = _cupy() if load() else None
    return 0 if cupy is None else cupy.cuda.runtime.getDeviceCount()
