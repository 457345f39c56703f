"""PyTorch's older top-level forms, kept so old programs run: each is a newer soma function in the old
argument convention.

- ``svd(A, some=True, compute_uv=True)`` → (U, S, V) with A = U diag(S) Vᵀ: V, not :func:`soma.linalg.svd`'s
  Vh = Vᵀ; ``some=False`` gives square U and V; ``compute_uv=False`` gives U and V zero-filled, (m, m) and (n, n).
- ``qr(A, some=True)`` is ``linalg.qr(A, "reduced" if some else "complete")``; ``cholesky(A, upper=False)``
  is ``linalg.cholesky``.
- ``frobenius_norm(A, dim, keepdim)`` is ``‖A‖₂`` over ``dim``; ``nuclear_norm(A, dim=(-2, -1))`` is Σ σᵢ.
- ``range(start, end, step)`` includes ``end``: start + i·step for i = 0 … ⌊(end - start)/step⌋, in the default
  float dtype unless ``dtype`` says; it warns that it is deprecated, as PyTorch.
- ``trapz(y, x, dim=-1)`` / ``trapz(y, dx=1, dim=-1)`` is :func:`soma.trapezoid`; ``row_stack`` is
  :func:`soma.vstack`.
- ``matrix_rank``, ``lstsq``, ``solve``, ``symeig``: removed from PyTorch's top level (they raise there,
  naming the ``linalg`` function to use); soma raises the same RuntimeError, naming soma.linalg's.
"""

import math
import warnings
from collections import namedtuple

import numpy as np

from soma import linalg
from soma.creation import _dtype, _finish, _number
from soma.ops._common import as_tensor_arg
from soma.ops.layout import vstack
from soma.ops.statistics import trapezoid
from soma.tensor import Tensor

__all__ = ["svd", "qr", "cholesky", "frobenius_norm", "nuclear_norm", "range", "trapz", "row_stack",
           "matrix_rank", "lstsq", "solve", "symeig"]

svd_result = namedtuple("svd", ["U", "S", "V"])
qr_result = namedtuple("qr", ["Q", "R"])


def svd(input, some=True, compute_uv=True, *, out=None):  # noqa: A002
    """(U, S, V) with input = U diag(S) Vᵀ (the old convention: V, not Vᵀ); see the module docstring."""
    A = as_tensor_arg(input, "svd")
    if not compute_uv:
        m, n = A.shape[-2:]
        zeros = [Tensor._make(np.zeros_like(A._array, shape=A.shape[:-2] + (k, k)), False) for k in (m, n)]
        return svd_result(zeros[0], linalg.svdvals(A), zeros[1])
    U, S, Vh = linalg.svd(A, full_matrices=not some)
    return svd_result(U, S, Vh.mT)


def qr(input, some=True, *, out=None):  # noqa: A002
    """(Q, R) with input = QR: ``some`` keeps min(m, n) columns of Q, else Q is square."""
    Q, R = linalg.qr(input, "reduced" if some else "complete")
    return qr_result(Q, R)


def cholesky(input, upper=False, *, out=None):  # noqa: A002
    """L lower-triangular with input = LLᵀ (``upper=True``: U = Lᵀ)."""
    return linalg.cholesky(input, upper=upper)


def frobenius_norm(input, dim, keepdim=False, *, out=None):  # noqa: A002
    """√(Σ xᵢ²) over ``dim`` (one dim or two)."""
    return linalg.vector_norm(input, 2, dim, keepdim)


def nuclear_norm(input, dim=(-2, -1), keepdim=False, *, out=None):  # noqa: A002
    """Σ σᵢ, the sum of the singular values of the matrices over the two dims ``dim``."""
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim) is PyTorch's other form
        dim, keepdim = (-2, -1), dim
    return linalg.matrix_norm(input, "nuc", dim, keepdim)


def range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False):
    """start, start + step, … up to and including ``end`` (deprecated: :func:`soma.arange` excludes it)."""
    warnings.warn("soma.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use soma.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    start, end, step = (_number(v, "range", n) for v, n in ((start, "start"), (end, "end"), (step, "step")))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    count = math.floor((end - start) / step) + 1
    values = start + np.arange(count, dtype=np.float64) * step
    return _finish(values.astype(_dtype(dtype)), requires_grad, device, "range")


def trapz(y, x=None, *, dx=None, dim=-1):
    """:func:`soma.trapezoid` (the old name): with ``x`` the sample points, or the spacing ``dx`` (default 1)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def row_stack(tensors, *, out=None):
    """:func:`soma.vstack` (the old name)."""
    return vstack(tensors)


def _removed(name, replacement):
    def function(*args, **kwargs):
        raise RuntimeError(f"This function was deprecated since version 1.9 and is now removed (as in PyTorch). "
                           f"Please use `soma.{replacement}` instead.")

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Removed from PyTorch (it raises there too): use ``soma.{replacement}``."
    return function


matrix_rank = _removed("matrix_rank", "linalg.matrix_rank")
lstsq = _removed("lstsq", "linalg.lstsq")
solve = _removed("solve", "linalg.solve")
symeig = _removed("symeig", "linalg.eigh")
