"""``soma.linalg``: norms, inverses, solves, determinants and decompositions, as ``torch.linalg``.

Every function takes a batch of matrices (the last two dims; any leading dims are a batch),
float32 or float64, and is differentiable (the formulas are in :mod:`soma.ops.decompositions`).
A singular matrix in ``inv``/``solve`` or a matrix that is not positive-definite in
``cholesky`` raises :class:`LinAlgError`, a RuntimeError, as ``torch.linalg.LinAlgError``.

Example::

    >>> A = soma.tensor([[4.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> x = soma.linalg.solve(A, soma.tensor([1.0, 2.0]))      # A x = b
    >>> soma.linalg.slogdet(A).logabsdet.backward()             # ∂ log|det A| / ∂A = A⁻ᵀ
"""

import math
from collections import namedtuple

import numpy as np

from soma.ops import decompositions as _kernels
from soma.ops._common import as_tensor_arg, broadcast_shape, write_out
from soma.ops.decompositions import LinAlgError
from soma.tensor import Tensor

__all__ = [
    "LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "solve", "det", "slogdet", "svd", "svdvals", "qr",
    "cholesky", "eigh", "eigvalsh", "pinv", "matrix_rank", "matmul", "vecdot", "matrix_power", "multi_dot",
    "solve_triangular", "inv_ex", "cholesky_ex", "solve_ex",
    "cross", "diagonal", "vander", "matrix_exp", "cond", "lstsq", "tensorinv", "tensorsolve",
]  # logdet, pinverse, cholesky_solve, cholesky_inverse live here too: torch has them at the top level

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
svd_result = namedtuple("svd", ["U", "S", "Vh"])
qr_result = namedtuple("qr", ["Q", "R"])
eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def _matrices(A, name, square=True, argument="A"):
    """``A`` checked as a float batch of (square) matrices, with PyTorch's messages."""
    A = as_tensor_arg(A, f"linalg.{name}", argument)
    if A._array.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got {A.dtype}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor {argument} must have at least 2 dimensions, "
                           f"got shape {tuple(A.shape)}.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{name}: {argument} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    return A


def inv(A, *, out=None):
    """A⁻¹ for each matrix of the batch (LinAlgError when one is singular)."""
    return write_out(_kernels.Inv.apply(_matrices(A, "inv")), out, "linalg.inv")


def solve(A, B, *, left=True, out=None):
    """X with AX = B (``left=False``: XA = B); B a batch of matrices, or of vectors (B.shape == A.shape[:-1])."""
    from soma.ops.shape import expand

    A = _matrices(A, "solve")
    B = as_tensor_arg(B, "linalg.solve", "B")
    if A._array.dtype != B._array.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type {A.dtype} "
                           f"and B of type {B.dtype} instead")
    if not left:
        return write_out(solve(A.mT, B.mT).mT, out, "linalg.solve")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        B = B.unsqueeze(-1)
    n = A.shape[-1]
    if B.ndim < 2 or B.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{n} and {'x'.join(map(str, B.shape[-2:]))})")
    batch = broadcast_shape("linalg.solve", A.shape[:-2], B.shape[:-2])
    if tuple(A.shape[:-2]) != batch:
        A = expand(A, (*batch, n, n))
    if tuple(B.shape[:-2]) != batch:
        B = expand(B, (*batch, *B.shape[-2:]))
    X = _kernels.Solve.apply(A, B)
    return write_out(X.squeeze(-1) if vector else X, out, "linalg.solve")


def det(A, *, out=None):
    """det A for each matrix; the gradient is the cofactor matrix, right for singular A too."""
    return write_out(_kernels.Det.apply(_matrices(A, "det")), out, "linalg.det")


def slogdet(A, *, out=None):
    """(sign, logabsdet) with det A = sign · e^logabsdet (sign 0 and logabsdet -inf for singular A)."""
    A = _matrices(A, "slogdet")
    sign = Tensor._make(np.linalg.slogdet(A._array)[0], False)
    return slogdet_result(sign, _kernels.LogAbsDet.apply(A))


def svd(A, full_matrices=True, *, driver=None, out=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending; ``full_matrices=False`` keeps k = min(m, n) columns."""
    A = _matrices(A, "svd", square=False)
    return svd_result(*_kernels.Svd.apply(A, bool(full_matrices)))


def svdvals(A, *, driver=None, out=None):
    """The singular values of each matrix, descending."""
    A = _matrices(A, "svdvals", square=False)
    return write_out(_kernels.Svd.apply(A, False)[1], out, "linalg.svdvals")


def qr(A, mode="reduced", *, out=None):
    """(Q, R) with A = QR: ``reduced`` (k = min(m, n) columns of Q), ``complete`` (square Q), ``r`` (R only;
    Q is empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    A = _matrices(A, "qr", square=False)
    Q, R = _kernels.Qr.apply(A, "reduced" if mode == "r" else mode)
    if mode == "r":
        Q = Tensor._make(np.zeros_like(A._array, shape=(0,)), False)
    return qr_result(Q, R)


def cholesky(A, *, upper=False, out=None):
    """L lower-triangular with A = LLᵀ (``upper=True``: U = Lᵀ, A = UᵀU); A symmetric positive-definite."""
    L = _kernels.Cholesky.apply(_matrices(A, "cholesky"))
    return write_out(L.mT if upper else L, out, "linalg.cholesky")


def _uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO


def eigh(A, UPLO="L", *, out=None):
    """(eigenvalues ascending, eigenvectors as columns) of the symmetric matrices A, read from one triangle."""
    return eigh_result(*_kernels.Eigh.apply(_matrices(A, "eigh"), _uplo(UPLO)))


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues of the symmetric matrices A, ascending."""
    return write_out(_kernels.Eigh.apply(_matrices(A, "eigvalsh"), _uplo(UPLO))[0], out, "linalg.eigvalsh")


def _tolerance(S, shape, atol, rtol):
    """The cutoff below which singular values count as zero (PyTorch's defaults: rtol = eps·max(m, n))."""
    if rtol is None:
        rtol = np.finfo(S._array.dtype).eps * max(shape[-2:]) if atol is None or atol == 0 else 0.0
    top = S._array[..., :1] if S.shape[-1] else np.zeros_like(S._array, shape=S.shape[:-1] + (1,))
    return np.maximum(0.0 if atol is None else atol, rtol * top)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The Moore-Penrose pseudo-inverse V diag(1/s) Uᵀ over the singular values above the tolerance."""
    from soma.ops import where

    A = _matrices(A, "pinv", square=False)
    U, S, Vh = _kernels.Svd.apply(A, False)
    kept = Tensor._make(S._array > _tolerance(S, A.shape, atol, rtol), False)
    inverse = where(kept, 1.0 / where(kept, S, 1.0), 0.0)
    return write_out(Vh.mT @ (inverse.unsqueeze(-1) * U.mT), out, "linalg.pinv")


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The number of singular values above the tolerance, per matrix (int64)."""
    A = _matrices(A, "matrix_rank", square=False)
    s = np.linalg.svd(A._array, compute_uv=False)
    S = Tensor._make(s, False)
    rank = (s > _tolerance(S, A.shape, atol, rtol)).sum(-1).astype(np.int64)
    return write_out(Tensor._make(rank, False), out, "linalg.matrix_rank")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """(Σ |xᵢ|^ord)^(1/ord) over ``dim`` (all elements when None); ord may be inf, -inf or 0 (a count)."""
    from soma.ops import norm as _norm

    x = as_tensor_arg(x, "linalg.vector_norm", "x")
    if x._array.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype}")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return write_out(_norm(x, ord, dim, keepdim, dtype=dtype), out, "linalg.vector_norm")


_MATRIX_ORDERS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """A matrix norm over the two dims ``dim``: 'fro', 'nuc' (sum of singular values), 2 / -2 (largest /
    smallest singular value), 1 / -1 (max / min column sum of |aᵢⱼ|), inf / -inf (max / min row sum)."""
    from soma.ops.reduction import normalize_dims

    A = _matrices(A, "matrix_norm", square=False)
    if ord not in _MATRIX_ORDERS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if dtype is not None:
        A = A.to(dtype)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {tuple(dim)}")
    rows, cols = normalize_dims(tuple(dim), A.ndim, "linalg.matrix_norm")
    if ord == "fro":
        result = vector_norm(A, 2, (rows, cols), keepdim)
    elif ord in ("nuc", 2, -2):
        S = svdvals(A.movedim((rows, cols), (-2, -1)))
        result = S.sum(-1) if ord == "nuc" else (S.amax(-1) if ord == 2 else S.amin(-1))
        if keepdim:
            for axis in sorted((rows, cols)):
                result = result.unsqueeze(axis)
    else:
        inner, outer = (rows, cols) if abs(ord) == 1 else (cols, rows)  # 1: column sums; inf: row sums
        sums = A.abs().sum(inner, keepdim=True)
        result = sums.amax(outer, keepdim=True) if ord > 0 else sums.amin(outer, keepdim=True)
        if not keepdim:
            result = result.squeeze((rows, cols))
    return write_out(result, out, "linalg.matrix_norm")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """A vector norm (1-D input or an int ``dim``) or a matrix norm (2-D input or a 2-tuple ``dim``), as
    torch.linalg.norm; with ord and dim both None, the 2-norm of all elements."""
    A = as_tensor_arg(A, "linalg.norm")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None and ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    if dim is None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.ndim}D.")
        dim = tuple(range(A.ndim))
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


def matmul(input, other, *, out=None):
    """The matrix product (soma.matmul)."""
    from soma.ops import matmul as _matmul

    return _matmul(input, other, out=out)


def vecdot(x, y, *, dim=-1, out=None):
    """Σᵢ xᵢyᵢ along ``dim`` (broadcast), for real inputs."""
    return write_out((x * y).sum(dim), out, "linalg.vecdot")


def matrix_power(A, n, *, out=None):
    """Aⁿ by repeated squaring (n < 0: the power of A⁻¹; n = 0: the identity)."""
    from soma.ops import matmul as _matmul

    A = _matrices(A, "matrix_power")
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else _matmul(result, base)
        n >>= 1
        if n:
            base = _matmul(base, base)
    if result is None:
        result = _identity(A)
    return write_out(result, out, "linalg.matrix_power")


def multi_dot(tensors, *, out=None):
    """A₁A₂…Aₖ (the first may be a vector, as may the last), multiplied left to right."""
    from soma.ops import matmul as _matmul

    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    result = tensors[0]
    for t in tensors[1:]:
        result = _matmul(result, t)
    return write_out(result, out, "linalg.multi_dot")


def logdet(A):
    """log det A (NaN where det A < 0, -inf where it is 0), as torch.logdet."""
    sign, logabsdet = slogdet(A)
    with np.errstate(divide="ignore", invalid="ignore"):
        return logabsdet + Tensor._make(np.log(sign._array), False)


def pinverse(input, rcond=1e-15):
    """torch.pinverse: :func:`pinv` with singular values below rcond · max(s) treated as zero."""
    return pinv(input, rtol=rcond)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with AX = B (``left=False``: XA = B) reading only A's upper or lower triangle (its diagonal taken
    as ones when ``unitriangular``); the gradient of A stays on that triangle."""
    from soma.ops import tril, triu

    A = _matrices(A, "solve_triangular")
    triangle = triu(A) if upper else tril(A)
    if unitriangular:
        ones = Tensor._make(np.eye(A.shape[-1], dtype=bool, like=A._array), False)
        triangle = triangle.masked_fill(ones, 1.0)
    return solve(triangle, B, left=left, out=out)


def cholesky_solve(B, L, upper=False, *, out=None):
    """X with (LLᵀ)X = B from the Cholesky factor L (``upper``: U with UᵀU)."""
    low = L.mT if upper else L
    y = solve_triangular(low, B, upper=False)
    return write_out(solve_triangular(low.mT, y, upper=True), out, "cholesky_solve")


def cholesky_inverse(L, upper=False, *, out=None):
    """(LLᵀ)⁻¹ from the Cholesky factor L."""
    return write_out(cholesky_solve(_identity(L), L, upper), out, "cholesky_inverse")


def _identity(A):
    """Identity matrices shaped like the batch ``A``, beside it."""
    eye = np.eye(A.shape[-1], dtype=A._array.dtype, like=A._array)
    return Tensor._make(np.broadcast_to(eye, A.shape).copy(), False)


def _with_info(function, name):
    """``function``'s result and an int32 ``info`` tensor: 0 where it succeeded, else (no raise) > 0."""
    def call(A, *args, check_errors=False, out=None, **kwargs):
        try:
            result = function(A, *args, **kwargs)
            info = np.zeros_like(A._array, shape=A.shape[:-2], dtype=np.int32)
        except LinAlgError:
            if check_errors:
                raise
            shape = A.shape if name != "solve_ex" else args[0].shape
            result = Tensor._make(np.full_like(A._array, np.nan, shape=shape), False)
            info = np.ones_like(A._array, shape=A.shape[:-2], dtype=np.int32)
        return (result, Tensor._make(info, False))

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{function.__name__} and an info tensor (0: success) instead of an error for bad matrices."
    return call


inv_ex = _with_info(inv, "inv_ex")
cholesky_ex = _with_info(cholesky, "cholesky_ex")
solve_ex = _with_info(solve, "solve_ex")


def cross(input, other, *, dim=-1, out=None):
    """The cross product of 3-vectors along ``dim`` (broadcast)."""
    from soma.ops import stack

    a, b = as_tensor_arg(input, "linalg.cross"), as_tensor_arg(other, "linalg.cross", "other")
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions (got {tuple(a.shape)} "
                           f"and {tuple(b.shape)}).")
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[dim]} and "
                           f"{b.shape[dim]}")
    a0, a1, a2 = a.unbind(dim)
    b0, b1, b2 = b.unbind(dim)
    return write_out(stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim), out, "linalg.cross")


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset`` diagonal of each matrix (a view, as soma.diagonal with the matrix dims last)."""
    from soma.ops import diagonal as _diagonal

    return _diagonal(A, offset, dim1, dim2)


def vander(x, *, N=None):
    """The Vandermonde matrix of powers x⁰, x¹, …, x^(N-1) along a new last dim."""
    from soma.ops import stack

    x = as_tensor_arg(x, "linalg.vander", "x")
    n = x.shape[-1] if N is None else N
    if n < 1:
        raise RuntimeError(f"N must be greater than 1, got {n}")
    powers, current = [], x * 0 + 1
    for _ in range(n):
        powers.append(current)
        current = current * x
    return stack(powers, -1)


def matrix_exp(A):
    """e^A = Σ Aᵏ/k! by scaling and squaring with a degree-13 Padé approximant (Higham's method)."""
    from soma.ops import matmul as _matmul

    A = _matrices(A, "matrix_exp")
    norm = float(np.abs(A._array).sum(-2).max()) if A._array.size else 0.0  # the largest 1-norm of the batch
    squarings = int(max(0, math.ceil(math.log2(max(norm / 5.4, 1.0)))))
    X = A / (2**squarings)
    identity = _identity(A)
    b = _PADE13
    X2 = _matmul(X, X)
    X4 = _matmul(X2, X2)
    X6 = _matmul(X4, X2)
    U = _matmul(X, _matmul(X6, X6 * b[13] + X4 * b[11] + X2 * b[9]) + X6 * b[7] + X4 * b[5] + X2 * b[3]
                + identity * b[1])
    V = _matmul(X6, X6 * b[12] + X4 * b[10] + X2 * b[8]) + X6 * b[6] + X4 * b[4] + X2 * b[2] + identity * b[0]
    E = solve(V - U, V + U)
    for _ in range(squarings):
        E = _matmul(E, E)
    return E


_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)


def cond(A, p=None):
    """The condition number ‖A‖ₚ‖A⁻¹‖ₚ; p = None or 2 (-2) from the singular values: s_max/s_min (s_min/s_max)."""
    A = _matrices(A, "cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        S = svdvals(A)
        top, bottom = S[..., 0], S[..., -1]
        return bottom / top if p == -2 else top / bottom
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


lstsq_result = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of AX ≈ B (minimum norm for rank-deficient A), through the pseudo-inverse;
    ``residuals`` and ``singular_values`` are empty and ``rank`` is A's rank, as PyTorch's default driver (gelsy)."""
    A = _matrices(A, "lstsq", square=False)
    B = as_tensor_arg(B, "linalg.lstsq", "B")
    vector = B.ndim == A.ndim - 1
    X = pinv(A, rtol=rcond) @ (B.unsqueeze(-1) if vector else B)
    empty = Tensor._make(np.zeros_like(A._array, shape=(0,)), False)
    return lstsq_result(X.squeeze(-1) if vector else X, empty, matrix_rank(A), empty)


def tensorinv(A, ind=2):
    """The tensor inverse: A as a square matrix (its first ``ind`` dims by the rest), inverted, shaped back."""
    A = as_tensor_arg(A, "linalg.tensorinv")
    rows, cols = A.shape[:ind], A.shape[ind:]
    size = math.prod(rows)
    if size != math.prod(cols):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(cols)} != {size}")
    return inv(A.reshape(size, size)).reshape(*cols, *rows)


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B."""
    A, B = as_tensor_arg(A, "linalg.tensorsolve"), as_tensor_arg(B, "linalg.tensorsolve", "B")
    if dims is not None:
        A = A.movedim(tuple(dims), tuple(range(A.ndim - len(dims), A.ndim)))
    solution_shape = A.shape[B.ndim:]
    n = math.prod(B.shape)
    return solve(A.reshape(n, -1), B.reshape(n)).reshape(solution_shape)
