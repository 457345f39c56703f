"""What every op's argument handling shares: raw arrays, PyTorch's promotion, broadcast checks, ``out=``.

Ops check their arguments here once, with PyTorch's exception types and messages that
name the op and the shapes, so no raw NumPy error reaches the user.
"""

import numpy as np

from soma._promotion import result_type
from soma.backend import as_array, is_array
from soma.tensor import Tensor

__all__ = ["raw", "constant", "honours_inplace", "shape_of", "broadcast_shape", "promote", "to_dtype", "write_out",
           "as_tensor_arg"]


def raw(value):
    """The array inside a tensor; anything else unchanged."""
    return value._array if isinstance(value, Tensor) else value


def constant(value):
    """``value`` as a Tensor: itself if it is one, else a constant wrapping its array."""
    return value if isinstance(value, Tensor) else Tensor._make(as_array(value), False)  # an array stays where it is


def shape_of(value):
    return value.shape if hasattr(value, "shape") else ()


def broadcast_shape(name, *shapes):
    """The broadcast of ``shapes``, or PyTorch's RuntimeError naming the op and the first mismatch."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        pass
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    for axis in range(ndim - 1, -1, -1):
        sizes = {p[axis] for p in padded} - {1}
        if len(sizes) > 1:
            a, b = sorted(sizes)[:2]
            raise RuntimeError(
                f"{name}: the size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton "
                f"dimension {axis} (shapes {' and '.join(str(tuple(s)) for s in shapes)})"
            )
    raise RuntimeError(f"{name}: shapes {shapes} cannot be broadcast together")  # pragma: no cover


def to_dtype(value, dtype):
    """``value`` in ``dtype``: tensors through a differentiable cast, scalars as 0-d arrays (wrapping as PyTorch)."""
    if isinstance(value, Tensor):
        if value._array.dtype == dtype:
            return value
        from soma.ops.shape import cast

        return cast(value, dtype)
    if value is None:
        return None
    if is_array(value):
        return value if value.dtype == dtype else value.astype(dtype)
    try:
        return np.asarray(value).astype(dtype)[()]  # a NumPy scalar: it mixes with any backend's arrays
    except OverflowError:
        raise RuntimeError(f"value {value!r} cannot be converted to type {dtype} without overflow") from None


def promote(a, b):
    """``a`` and ``b`` cast to the dtype PyTorch computes them in (see :mod:`soma._promotion`)."""
    # Fast paths, measured to matter: same-dtype tensors, and a float tensor with a Python number.
    if isinstance(a, Tensor):
        kind = a._array.dtype.kind
        if isinstance(b, Tensor):
            if a._array.dtype == b._array.dtype:
                return a, b
        elif (type(b) is float or type(b) is int) and kind in "fc":
            return a, b
    elif isinstance(b, Tensor) and (type(a) is float or type(a) is int) and b._array.dtype.kind in "fc":
        return a, b
    dtype = result_type(a, b)
    return to_dtype(a, dtype), to_dtype(b, dtype)


def as_tensor_arg(value, name, argument="input"):
    """``value`` as a Tensor, or PyTorch's TypeError naming the function and the argument."""
    if isinstance(value, Tensor):
        return value
    raise TypeError(f"{name}(): argument '{argument}' must be Tensor, not {type(value).__name__}")


def honours_inplace(function):
    """``function(input, ..., inplace=False)`` with PyTorch's ``inplace=True``: the result is written into
    ``input``, which takes over the op's history (see TensorBase._inplace). The plain call stays a direct call."""
    import functools
    import inspect

    position = list(inspect.signature(function).parameters).index("inplace")
    name = function.__name__

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        inplace = kwargs.pop("inplace", args[position] if len(args) > position else False)
        args = args[:position] + args[position + 1 :]
        if not inplace:
            return function(*args, **kwargs)
        input, rest = args[0], args[1:]
        return input._inplace(f"{name}(inplace=True)", lambda x: function(x, *rest, **kwargs))

    return wrapper


def write_out(result, out, name):
    """Copy ``result`` into the tensor ``out`` (resized if empty or of another shape, as PyTorch), return ``out``."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    from soma.autograd.function import is_grad_enabled

    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )
    array = result._array
    if out._array.dtype != array.dtype and not np.can_cast(array.dtype, out._array.dtype, "same_kind"):
        raise RuntimeError(f"{name}(): result type {array.dtype} can't be cast to the desired output type "
                           f"{out._array.dtype}")
    if out._array.shape != array.shape:
        out._array = np.empty_like(array, dtype=out._array.dtype)
    out._array[...] = array
    from soma.autograd.function import mark_dirty

    mark_dirty(out)
    return out
