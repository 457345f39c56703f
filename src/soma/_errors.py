"""The exception types of layer and loss argument checks, compatible with PyTorch's and with soma's earlier ones.

PyTorch raises a ``RuntimeError`` for most bad tensors (a dtype mismatch, a wrong channel count), and a
``NotImplementedError`` (itself a ``RuntimeError``) for a dtype a kernel lacks; soma used to raise
``TypeError`` and ``ValueError`` for the same cases. These classes are both, so code catching either
keeps working:

========================  ====================================================
``DTypeError``            a tensor of the wrong dtype (TypeError, ValueError, NotImplementedError: RuntimeError)
``ShapeError``            a tensor of the wrong shape (ValueError, RuntimeError)
========================  ====================================================
"""

__all__ = ["DTypeError", "ShapeError", "check_floating", "check_same_dtype"]


class DTypeError(TypeError, ValueError, NotImplementedError):
    """A tensor of a dtype the layer or function cannot take (PyTorch: RuntimeError, NotImplementedError, or
    ValueError for the recurrent layers)."""


class ShapeError(ValueError, RuntimeError):
    """A tensor of a shape the layer or function cannot take (PyTorch: RuntimeError, sometimes ValueError)."""


class ShapeAssertion(AssertionError, RuntimeError):
    """A shape PyTorch refuses with an ``assert`` (multi-head attention's checks): an AssertionError as there,
    and a RuntimeError as every other shape error of soma's."""


def check_floating(name, input):
    """PyTorch's kernels of most layers exist for floating-point inputs only ("not implemented for 'Long'")."""
    if input.dtype.kind != "f":
        raise DTypeError(f"{name}: not implemented for dtype {input.dtype} (input of shape {tuple(input.shape)}); "
                         "expected a floating-point tensor")


def check_same_dtype(name, **tensors):
    """PyTorch does not promote a layer's input against its weights: all given tensors share one dtype."""
    given = {k: v for k, v in tensors.items() if v is not None}
    dtypes = {str(v.dtype) for v in given.values()}
    if len(dtypes) > 1:
        listing = ", ".join(f"{k}: {v.dtype}" for k, v in given.items())
        raise DTypeError(f"{name}: all tensors must have the same dtype, got {listing}")
