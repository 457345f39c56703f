"""Making tensors: from data, filled with a value, ranges, and random draws.

Every factory takes PyTorch's keywords (``dtype=``, ``device=``, ``requires_grad=``, ``out=``).
Floating-point tensors get the default dtype (float32 unless :func:`soma.set_default_dtype`
changed it) unless a dtype is given; integer data becomes
int64; random draws come from the one generator that :func:`soma.manual_seed` seeds.
"""

import numpy as np

from soma._device import backend_for, place, resolve
from soma._promotion import get_default_dtype
from soma.ops._common import write_out
from soma.random import generator as _generator
from soma.tensor import Tensor

__all__ = [
    "tensor", "as_tensor", "from_numpy", "is_tensor", "zeros", "ones", "full", "empty", "arange",
    "linspace", "eye", "rand", "randn", "randint", "randperm", "normal", "zeros_like",
    "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like", "asarray", "logspace",
    "is_floating_point",
]

def _size(size, name="size"):
    """PyTorch's size argument: ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])``, non-negative integers."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, Tensor) and s.ndim == 0 and s.dtype.kind in "iu":
            continue
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{name} must be a tuple of ints, but got an element of type {type(s).__name__}: {s!r}")
    size = tuple(int(s) for s in size)
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return size


def _dtype(dtype, default=None):
    if dtype is None:
        return default if default is not None else get_default_dtype()
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{dtype!r} is not a dtype") from None


def _finish(array, requires_grad, device=None, name="tensor"):
    """The new tensor: its array (made on the host, so a seed gives the same numbers on every device) placed."""
    tensor = Tensor._make(place(array, device, name), False)
    return tensor.requires_grad_(True) if requires_grad else tensor


def _made(fill, args, requires_grad, device, name):
    """The new tensor ``xp.fill(*args)`` made by the array library of ``device`` (no host array and copy for a
    device that has its own memory; a backend whose library is NumPy's gets the host array moved)."""
    target = backend_for(resolve(device, name))
    tensor = Tensor._make(target.transfer(getattr(target.xp, fill)(*args)), False)
    return tensor.requires_grad_(True) if requires_grad else tensor


def _rng(generator, name):
    """The generator to draw from: a :class:`soma.Generator` (any ``numpy.random.Generator``) or the global one."""
    if generator is None:
        return _generator()
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{name}(): argument 'generator' must be soma.Generator, not {type(generator).__name__}")
    return generator


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array or a tensor)."""
    result = Tensor(data, dtype=dtype)
    result._array = place(result._array, device, "tensor")
    return result.requires_grad_(True) if requires_grad else result


def as_tensor(data, dtype=None, device=None):
    """Like :func:`tensor`, but shares memory with an ndarray (or tensor) of the right dtype and device."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data if device is None else data._to_device(device, "as_tensor")
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == np.dtype(dtype)):
        return Tensor._make(place(data, device, "as_tensor"), False)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(array):
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return Tensor._make(array, False)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.kind == "f"


def _filled(name, fill):
    def factory(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
        if not size:
            raise TypeError(f"{name}() missing 1 required positional arguments: \"size\"")
        return write_out(_made(fill, (_size(size), _dtype(dtype)), requires_grad, device, name), out, name)

    factory.__name__ = factory.__qualname__ = name
    return factory


zeros = _filled("zeros", "zeros")
ones = _filled("ones", "ones")
empty = _filled("empty", "zeros")  # zero-filled: uninitialized memory would make runs irreproducible


def _fill_dtype(fill_value):
    if isinstance(fill_value, Tensor):
        return fill_value.dtype
    from soma._promotion import result_type

    return result_type(fill_value)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value (bool, int64, default float)."""
    dtype = _dtype(dtype, _fill_dtype(fill_value))
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value  # a number on every device
    if dtype.kind in "iu" and isinstance(value, (int, np.integer)):
        _check_range(value, dtype)
    return write_out(_made("full", (_size((size,)), value, dtype), requires_grad, device, "full"), out, "full")


def _check_range(value, dtype):
    info = np.iinfo(dtype)
    if not int(info.min) <= int(value) <= int(info.max):
        raise RuntimeError(f"value cannot be converted to type {dtype} without overflow")


def _number(value, name, argument):
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"{name}: {argument} must be a 0-d tensor or a number")
        return value.item()
    if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
        raise TypeError(f"{name}(): argument '{argument}' must be Number, not {type(value).__name__}")
    return value


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from start (inclusive) to end (exclusive); int64 for integer arguments, else the default float."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange", n) for v, n in ((start, "start"), (end, "end"), (step, "step")))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not all(np.isfinite(v) for v in (start, end)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("arange: upper bound and larger bound inconsistent with step sign")
    whole = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dtype = _dtype(dtype, np.dtype(np.int64) if whole else None)
    if dtype == np.int64 and int(step) == 0:  # PyTorch casts an int64 range's step to int64 first
        raise ValueError(f"arange: step must be nonzero (step {step} is 0 in {dtype})")
    count = int(np.ceil((end - start) / step))
    array = (start + np.arange(count, dtype=np.float64 if not whole else np.int64) * step).astype(dtype)
    return write_out(_finish(array, requires_grad, device, "arange"), out, "arange")


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    start, end = _number(start, "linspace", "start"), _number(end, "linspace", "end")
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    if dtype is not None and np.dtype(dtype).kind == "b":
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    array = np.linspace(start, end, steps).astype(_dtype(dtype))
    return write_out(_finish(array, requires_grad, device, "linspace"), out, "linspace")


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    exponents = linspace(start, end, steps, dtype=np.float64)._array
    array = (base**exponents).astype(_dtype(dtype))
    return write_out(_finish(array, requires_grad, device, "logspace"), out, "logspace")


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    for name, value in (("n", n), ("m", m)):
        if value is not None:
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise TypeError(f"eye(): argument '{name}' must be int, not {type(value).__name__}")
            if value < 0:
                raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {value}")
    return write_out(_made("eye", (n, m, 0, _dtype(dtype)), requires_grad, device, "eye"), out, "eye")


def _float_dtype(dtype, name):
    dtype = _dtype(dtype)
    if dtype.kind != "f":
        raise RuntimeError(f"{name}: \"{name}\" not implemented for '{dtype}' (random floats need a floating dtype)")
    return dtype


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform on [0, 1)."""
    rng = _rng(generator, "rand")
    dtype = _float_dtype(dtype, "rand")
    return write_out(_finish(rng.random(_size(size), dtype=_draw(dtype)).astype(dtype, copy=False),
                             requires_grad, device, "rand"), out, "rand")


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal."""
    rng = _rng(generator, "randn")
    dtype = _float_dtype(dtype, "randn")
    array = rng.standard_normal(_size(size), dtype=_draw(dtype)).astype(dtype, copy=False)
    return write_out(_finish(array, requires_grad, device, "randn"), out, "randn")


def _draw(dtype):
    """NumPy draws float32 and float64 directly; float16 is drawn in float32 and rounded."""
    return dtype if dtype in (np.float32, np.float64) else np.float32


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high) (``randint(high, size)`` starts at 0); int64 unless ``dtype``."""
    rng = _rng(generator, "randint")
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dtype = _dtype(dtype, np.dtype(np.int64))
    array = rng.integers(low, high, _size((size,))).astype(dtype)
    return write_out(_finish(array, requires_grad, device, "randint"), out, "randint")


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    rng = _rng(generator, "randperm")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    array = rng.permutation(int(n)).astype(_dtype(dtype, np.dtype(np.int64)))
    return write_out(_finish(array, requires_grad, device, "randperm"), out, "randperm")


def normal(mean, std, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Draws from N(mean, std²): numbers with ``size``, or tensors of means/stds (broadcast)."""
    rng = _rng(generator, "normal")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if device is None and tensors:
        device = tensors[0].device  # beside the parameters, as PyTorch
    # NumPy's generator draws from host parameters: the same numbers on every device
    mean_array = mean.cpu()._array if isinstance(mean, Tensor) else mean
    std_array = std.cpu()._array if isinstance(std, Tensor) else std
    if np.any(np.less(std_array, 0)):
        raise RuntimeError("normal expects std >= 0.0")
    if size is None:
        shape = np.broadcast_shapes(np.shape(mean_array), np.shape(std_array))
        base = next((t.dtype for t in (mean, std) if isinstance(t, Tensor)), None)
        dtype = _dtype(dtype, base)
    else:
        shape, dtype = _size((size,)), _float_dtype(dtype, "normal")
    array = rng.normal(mean_array, std_array, shape).astype(dtype)
    return write_out(_finish(array, requires_grad, device, "normal"), out, "normal")


def _like(name, factory):
    def like(input, *args, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
        device = input.device if device is None else device
        return factory(input, *args, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad, **kwargs)

    like.__name__ = like.__qualname__ = name
    return like


zeros_like = _like("zeros_like", lambda t, **k: zeros(t.shape, **k))
ones_like = _like("ones_like", lambda t, **k: ones(t.shape, **k))
empty_like = _like("empty_like", lambda t, **k: empty(t.shape, **k))
full_like = _like("full_like", lambda t, fill_value, **k: full(t.shape, fill_value, **k))
rand_like = _like("rand_like", lambda t, **k: rand(t.shape, **k))
randn_like = _like("randn_like", lambda t, **k: randn(t.shape, **k))


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    if high is None:
        low, high = 0, low
    device = input.device if device is None else device
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)
