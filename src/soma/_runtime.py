"""Process-wide controls with PyTorch's top-level names: threads, determinism, matmul precision, warnings,
anomaly mode, inference mode, ``compile``, and the facts about dtypes (``finfo``/``iinfo``).

soma runs on NumPy, so several of PyTorch's switches have nothing to switch; each keeps PyTorch's
signature, checks its argument as PyTorch does, stores the value for its getter, and does what it can:

- ``set_num_threads(n)`` sets the BLAS thread pool's size through threadpoolctl (``pip install soma[fast]``);
  without threadpoolctl the number is only stored. ``get_num_threads()`` reads the BLAS pool back.
  The inter-op pool does not exist in soma (one op runs at a time): its number is stored.
- ``use_deterministic_algorithms``: soma's CPU kernels are deterministic already; the flag is stored.
- ``set_float32_matmul_precision``: NumPy's float32 matmul is full float32 ("highest"); the value is stored.
- ``set_flush_denormal`` returns False: NumPy gives no switch for the CPU's denormal mode (PyTorch
  returns False too where the CPU lacks one).
- ``compile(model)`` returns ``model`` (or the function) unchanged: soma has no compiler. PyTorch's keyword
  arguments (``fullgraph``, ``dynamic``, ``backend``, ``mode``, ``options``, ``disable``) are accepted and ignored.
- ``inference_mode()`` switches recording off, as ``no_grad``; a tensor made inside it is not marked, so
  ``Tensor.is_inference()`` is always False (marking every new tensor would cost each op a check).
"""

import builtins
import functools
import os
import warnings

import numpy as np

from soma.autograd.function import _Mode, is_anomaly_enabled, no_grad
from soma.tensor import Tensor

__all__ = [
    "set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
    "get_float32_matmul_precision", "set_flush_denormal", "set_warn_always", "is_warn_always_enabled",
    "is_anomaly_enabled", "set_anomaly_enabled", "compile", "inference_mode", "is_inference_mode_enabled",
    "finfo", "iinfo", "is_complex", "is_same_size", "typename",
]

_STATE = {"threads": None, "interop": None, "deterministic": False, "warn_only": False, "precision": "highest",
          "warn_always": False, "inference": False}
_BLAS: list = []  # the threadpoolctl controller (or None without it), made on first use: it scans the libraries


def blas_controller():
    """threadpoolctl's controller of the loaded BLAS libraries (None without threadpoolctl), made once."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _BLAS.append(None)
        else:
            _BLAS.append(ThreadpoolController())
    return _BLAS[0]


def _positive_int(value, name):
    if isinstance(value, builtins.bool) or not isinstance(value, (builtins.int, np.integer)):
        raise RuntimeError(f"{name} expects an int, but got {type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return builtins.int(value)


def _flag(value, name):
    if not isinstance(value, builtins.bool):
        raise TypeError(f"{name}(): argument must be bool, not {type(value).__name__}")
    return value


def set_num_threads(int):  # noqa: A002  (PyTorch's parameter name)
    """Set the number of threads soma's BLAS uses (threadpoolctl); without threadpoolctl, only store it."""
    n = _positive_int(int, "set_num_threads")
    _STATE["threads"] = n
    controller = blas_controller()
    if controller is not None:
        controller.limit(limits=n, user_api="blas")  # set now; only a `with` block would undo it


def get_num_threads():
    """The BLAS thread count (or the stored one without threadpoolctl; the CPU count before any set)."""
    controller = blas_controller()
    if controller is not None:
        counts = [lib.num_threads for lib in controller.select(user_api="blas").lib_controllers]
        if counts:
            return builtins.max(counts)
    return _STATE["threads"] or os.cpu_count() or 1


def set_num_interop_threads(int):  # noqa: A002
    """Store the inter-op thread count (soma runs one op at a time: there is no such pool to size)."""
    _STATE["interop"] = _positive_int(int, "set_num_interop_threads")


def get_num_interop_threads():
    return _STATE["interop"] or os.cpu_count() or 1


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms. soma's kernels are deterministic already; the flags are stored."""
    _STATE["deterministic"] = _flag(mode, "use_deterministic_algorithms")
    _STATE["warn_only"] = _flag(warn_only, "use_deterministic_algorithms")


def are_deterministic_algorithms_enabled():
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _STATE["warn_only"]


def set_float32_matmul_precision(precision):
    """Store ``"highest"``, ``"high"`` or ``"medium"`` (NumPy always multiplies float32 in full float32).

    Another value warns and changes nothing, as in PyTorch."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _STATE["precision"] = precision


def get_float32_matmul_precision():
    return _STATE["precision"]


def set_flush_denormal(mode):
    """False: NumPy has no switch for flushing denormal floats to zero, so the request is not supported."""
    if not isinstance(mode, builtins.bool):
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return False


def set_warn_always(b):
    """Warn every time (True) rather than once per place (False, default); stored for is_warn_always_enabled."""
    if not isinstance(b, builtins.bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _STATE["warn_always"] = b


def is_warn_always_enabled():
    return _STATE["warn_always"]


def set_anomaly_enabled(enabled, check_nan=True):
    """Switch soma's anomaly detection (:class:`soma.autograd.detect_anomaly`) on or off for good."""
    _Mode.anomaly = _flag(enabled, "set_anomaly_enabled") and builtins.bool(check_nan)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,  # noqa: A001
            disable=False):
    """``model`` unchanged: soma has no compiler. As a decorator, with or without arguments, the same."""
    if model is None:
        return lambda fn: fn
    return model


def is_inference_mode_enabled():
    return _STATE["inference"]


class inference_mode(no_grad):
    """Run without recording a graph, as :class:`no_grad` (a context manager and a decorator).

    ``inference_mode(False)`` changes nothing, as in PyTorch. Tensors made inside are not marked:
    ``Tensor.is_inference()`` is False (see the module docstring)."""

    def __new__(cls, mode=True):
        if callable(mode):  # the bare decorator, @soma.inference_mode, as PyTorch allows
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.enabled = builtins.bool(mode)

    def __enter__(self):
        self.previous = _Mode.grad
        self.previous_inference = _STATE["inference"]
        if self.enabled:
            _Mode.grad, _STATE["inference"] = False, True
        return self

    def __exit__(self, *exc):
        _Mode.grad, _STATE["inference"] = self.previous, self.previous_inference
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self.enabled):
                return fn(*args, **kwargs)

        return wrapper


Tensor.is_inference = lambda self: False


class _Info:
    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name):.6g}" for name in self._shown)
        return f"{type(self).__name__}({fields}, dtype={self.dtype})"


class finfo(_Info):
    """Machine limits of a floating dtype: bits, eps, max, min, tiny (= smallest_normal), resolution, dtype.

    ``finfo()`` is the default dtype's; Python's ``float`` is float64; a complex dtype gives its parts'."""

    _shown = ("resolution", "min", "max", "eps", "smallest_normal", "tiny")

    def __init__(self, type=None):  # noqa: A002
        from soma._promotion import get_default_dtype

        kind = np.dtype(get_default_dtype() if type is None else _as_numpy(type))
        if kind.kind not in "fc":
            raise TypeError(f"soma.finfo() requires a floating point input type, got {kind}. Use soma.iinfo "
                            "to handle integer types")
        info = np.finfo(kind)
        self.bits = builtins.int(info.bits)
        self.eps, self.max, self.min = builtins.float(info.eps), builtins.float(info.max), builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision  # exactly 1e-3 for float16, not float16(1e-3)
        self.dtype = str(info.dtype)


class iinfo(_Info):
    """Machine limits of an integer dtype: bits, max, min, dtype (Python's ``int`` is int64; bool is refused)."""

    _shown = ("min", "max")

    def __init__(self, type):  # noqa: A002
        kind = np.dtype(_as_numpy(type))
        if kind.kind == "b":
            raise TypeError("soma.bool is not supported by soma.iinfo")
        if kind.kind not in "iu":
            raise TypeError(f"soma.iinfo() requires an integer input type, got {kind}. Use soma.finfo to handle "
                            "floating types")
        info = np.iinfo(kind)
        self.bits, self.max, self.min = builtins.int(info.bits), builtins.int(info.max), builtins.int(info.min)
        self.dtype = str(kind)


def _as_numpy(type):  # noqa: A002
    if type is builtins.float:
        return np.float64
    if type is builtins.int:
        return np.int64
    if type is builtins.bool:
        return np.bool_
    if isinstance(type, Tensor):
        raise TypeError("finfo/iinfo take a dtype, not a tensor: pass tensor.dtype")
    return type


def _tensor(value, function, argument, position):
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")
    return value


def is_complex(input):  # noqa: A002
    """True when ``input``'s dtype is complex."""
    return _tensor(input, "is_complex", "input", 1)._array.dtype.kind == "c"


def is_same_size(input, other):  # noqa: A002
    """True when the two tensors have the same shape."""
    return _tensor(input, "is_same_size", "input", 1).shape == _tensor(other, "is_same_size", "other", 2).shape


def typename(obj):
    """A tensor's ``type()`` (``"soma.FloatTensor"`` where PyTorch says ``"torch.FloatTensor"``), else the
    object's module-qualified class name (``"int"``, ``"soma.nn.modules.linear.Linear"``)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(type(obj), "__module__", "builtins")
    name = type(obj).__qualname__
    return name if module in (None, "builtins") else f"{module}.{name}"
