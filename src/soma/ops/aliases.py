"""PyTorch's other names and thin forms of soma's ops: concatenate, detach, fill, scalar_tensor, rsub,
is_neg/is_nonzero/is_signed, torch.cross (first dim of size 3 by default) and torch.vander (decreasing
powers by default)."""

import numpy as np

from soma.ops._common import as_tensor_arg

__all__ = ["concatenate", "detach", "fill", "scalar_tensor", "rsub", "is_neg", "is_nonzero", "is_signed", "cross",
           "vander"]


def concatenate(tensors, dim=0, *, out=None):
    """soma.cat under NumPy's name."""
    from soma.ops import cat

    return cat(tensors, dim)


def detach(input):
    return as_tensor_arg(input, "detach").detach()


def fill(input, value):
    """A tensor like ``input`` filled with ``value`` (differentiable in a 0-d tensor value)."""
    from soma.tensor_base import _fill

    return _fill(as_tensor_arg(input, "fill"), value)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number ``s`` (float32 unless ``dtype``)."""
    from soma import creation

    return creation.tensor(float(s) if dtype is None else s, dtype=dtype or np.float32, device=device,
                           requires_grad=requires_grad)


def rsub(input, other, *, alpha=1):
    """other - alpha · input."""
    from soma.ops import sub

    return sub(other, input, alpha=alpha)


def is_neg(input):
    """False: soma has no lazy negation bit."""
    return False


def is_nonzero(input):
    return bool(as_tensor_arg(input, "is_nonzero"))


def is_signed(input):
    return as_tensor_arg(input, "is_signed")._array.dtype.kind in "if"


def cross(input, other, dim=None):
    """The cross product along ``dim`` (None: the first dim of size 3, as torch.cross)."""
    from soma import linalg

    if dim is None:
        dim = next((d for d, n in enumerate(np.broadcast_shapes(input.shape, other.shape)) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input (shapes {tuple(input.shape)}, {tuple(other.shape)})")
    return linalg.cross(input, other, dim=dim)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D x: columns x^(N-1), …, x, 1 (``increasing``: 1, x, …)."""
    from soma import linalg

    x = as_tensor_arg(x, "vander", "x")
    if x.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor, got shape {tuple(x.shape)}")
    powers = linalg.vander(x, N=x.shape[0] if N is None else N)
    return powers if increasing else powers.flip(-1)
