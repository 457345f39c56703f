"""Matrix functions and decompositions (the kernels of :mod:`soma.linalg`), each backward beside its forward.

All work on batches: the last two dims are the matrix, the others are a batch. With G the
incoming gradient (∂L/∂ of the output), Xᵀ the transpose of the last two dims:

    inverse      Y = A⁻¹              ∂L/∂A = -Yᵀ G Yᵀ
    solve        X = A⁻¹B             ∂L/∂B = A⁻ᵀG,  ∂L/∂A = -(∂L/∂B) Xᵀ
    determinant  d = det A            ∂L/∂A = g · adj(A)ᵀ  (= g d A⁻ᵀ when A is invertible)
    log|det|     l = log |det A|      ∂L/∂A = g A⁻ᵀ
    Cholesky     A = LLᵀ              ∂L/∂A = ½ (S + Sᵀ),  S = L⁻ᵀ Φ(Lᵀ G_L) L⁻¹
    QR           A = QR (m ≥ n)       ∂L/∂A = (G_Q + Q copyltu(M)) R⁻ᵀ,  M = R G_Rᵀ - G_Qᵀ Q
    eigh         A = V diag(w) Vᵀ     ∂L/∂A = V (diag(G_w) + F ∘ VᵀG_V) Vᵀ,  Fᵢⱼ = 1/(wⱼ - wᵢ)
    SVD          A = U diag(s) Vᵀ     see :class:`Svd`

Φ keeps the lower triangle with the diagonal halved; copyltu(M) is the symmetric matrix with
M's lower triangle. The adjugate comes from the SVD (adj(A) = det(U)det(V) V adj(S) Uᵀ with
adj(S)ᵢᵢ = ∏ⱼ≠ᵢ sⱼ), so det's gradient is right for singular matrices too. Eigenvector and
singular-vector gradients need distinct eigenvalues / singular values (the F terms), as in
PyTorch. NumPy's LAPACK does the factorizations. Every kernel also has its backward written in
differentiable soma ops (``formula``), so create_graph=True gives second derivatives of them all.
"""

import numpy as np

from soma.autograd.function import Function
from soma.tensor import Tensor

__all__ = ["LinAlgError", "Inv", "Solve", "Det", "LogAbsDet", "Cholesky", "Qr", "Eigh", "Svd"]


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle (singular, not positive-definite), as torch.linalg.LinAlgError."""


def _lapack(function, message, *arrays):
    """``function(*arrays)``, NumPy's LinAlgError turned into soma's with PyTorch's ``message``."""
    try:
        return function(*arrays)
    except np.linalg.LinAlgError:
        raise LinAlgError(f"{message} (shape {arrays[0].shape}).") from None


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _tensor_mT(t):
    return t.transpose(-2, -1)


class Inv(Function):
    """Y = A⁻¹"""

    @staticmethod
    def forward(ctx, a):
        y = _lapack(np.linalg.inv, "linalg.inv: The inversion could not be completed because the input matrix is "
                    "singular", a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        yt = _mT(y)
        return -(yt @ grad @ yt)

    @staticmethod
    def formula(ctx, grad):
        yt = _tensor_mT(Inv.apply(ctx.inputs[0]))
        return -(yt @ grad @ yt)


class Solve(Function):
    """X = A⁻¹B for B a batch of matrices (the batch dims already agree: soma.linalg.solve expands them)"""

    @staticmethod
    def forward(ctx, a, b):
        x = _lapack(np.linalg.solve, "torch.linalg.solve: The solver failed because the input matrix is singular", a, b)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        grad_b = np.linalg.solve(_mT(a), grad)
        return -(grad_b @ _mT(x)) if ctx.needs_input_grad[0] else None, grad_b

    @staticmethod
    def formula(ctx, grad):
        a, b = ctx.inputs
        grad_b = Solve.apply(_tensor_mT(a), grad)
        grad_a = -(grad_b @ _tensor_mT(Solve.apply(a, b))) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b if ctx.needs_input_grad[1] else None


def adjugate_transpose(a):
    """adj(A)ᵀ, the cofactor matrix, by SVD: exact for singular A as well (zero when rank < n - 1)."""
    n = a.shape[-1]
    if n == 0:
        return np.zeros_like(a)
    u, s, vh = np.linalg.svd(a)
    sign = np.linalg.det(u) * np.linalg.det(vh)  # ±1: det(U)·det(V)
    if n == 1:
        others = np.ones_like(s)
    else:
        left = np.cumprod(np.concatenate([np.ones_like(s[..., :1]), s[..., :-1]], -1), -1)
        right = np.flip(np.cumprod(np.concatenate([np.ones_like(s[..., :1]), np.flip(s, -1)[..., :-1]], -1), -1), -1)
        others = left * right  # ∏ⱼ≠ᵢ sⱼ without dividing
    adjugate = _mT(vh) @ (others[..., :, None] * _mT(u)) * sign[..., None, None]
    return _mT(adjugate)


class Det(Function):
    """d = det A"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(invalid="ignore"):  # NaN in, NaN out, as in PyTorch
            return np.linalg.det(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad[..., None, None] * adjugate_transpose(a)

    @staticmethod
    def formula(ctx, grad):
        # g · d · A⁻ᵀ in differentiable ops (second order for invertible A)
        (a,) = ctx.inputs
        return (grad * Det.apply(a))[..., None, None] * _tensor_mT(Inv.apply(a))


class LogAbsDet(Function):
    """l = log |det A| (the second output of slogdet; the sign is a constant)"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.linalg.slogdet(a)[1]

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        try:
            return grad[..., None, None] * _mT(np.linalg.inv(a))
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.slogdet: the gradient of log|det A| needs an invertible A") from None

    @staticmethod
    def formula(ctx, grad):
        return grad[..., None, None] * _tensor_mT(Inv.apply(ctx.inputs[0]))


def _phi(x):
    """The lower triangle of ``x`` with the diagonal halved."""
    out = np.tril(x)
    i = np.arange(x.shape[-1], like=x)
    out[..., i, i] *= 0.5  # (an einsum diagonal is a view in NumPy, not in every backend)
    return out


class Cholesky(Function):
    """L lower-triangular with A = LLᵀ (A symmetric positive-definite; only its lower triangle is read)"""

    @staticmethod
    def forward(ctx, a):
        low = _lapack(np.linalg.cholesky, "linalg.cholesky: The factorization could not be completed because the "
                      "input is not positive-definite", a)
        ctx.save_for_backward(low)
        return low

    @staticmethod
    def backward(ctx, grad):
        (low,) = ctx.saved_tensors
        p = _phi(_mT(low) @ np.tril(grad))
        inverse = np.linalg.inv(low)
        s = _mT(inverse) @ p @ inverse
        return 0.5 * (s + _mT(s))

    @staticmethod
    def formula(ctx, grad):
        from soma.ops import tril

        low = Cholesky.apply(ctx.inputs[0])
        product = _tensor_mT(low) @ tril(grad)
        p = tril(product) - _diagonal_matrix(product) * 0.5
        inverse = Inv.apply(low)
        s = _tensor_mT(inverse) @ p @ inverse
        return (s + _tensor_mT(s)) * 0.5


class Qr(Function):
    """(Q, R) with A = QR, Q with orthonormal columns and R upper-triangular; ``complete`` gives a square Q"""

    @staticmethod
    def forward(ctx, a, mode):
        q, r = np.linalg.qr(a, mode=mode)
        ctx.save_for_backward(a, q, r)
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        a, q, r = ctx.saved_tensors
        m, n = a.shape[-2:]
        if ctx.inputs[1] == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_backward(q, r, grad_q, grad_r), None
        # wide A = [X | Y]: X = QR₁ is square, R₂ = QᵀY
        y, r1, grad_r1, grad_r2 = a[..., m:], r[..., :m], grad_r[..., :m], grad_r[..., m:]
        grad_x = _qr_backward(q, r1, grad_q + y @ _mT(grad_r2), grad_r1)
        return np.concatenate([grad_x, q @ grad_r2], axis=-1), None

    @staticmethod
    def formula(ctx, grad_q, grad_r):
        from soma.ops import cat

        a, mode = ctx.inputs
        m, n = a.shape[-2:]
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        q, r = Qr.apply(a, mode)
        if m >= n:
            return _qr_formula(q, r, grad_q, grad_r), None
        y = a[..., m:]
        grad_x = _qr_formula(q, r[..., :m], grad_q + y @ _tensor_mT(grad_r[..., m:]), grad_r[..., :m])
        return cat([grad_x, q @ grad_r[..., m:]], -1), None


def _qr_formula(q, r, grad_q, grad_r):
    """:func:`_qr_backward` in differentiable ops."""
    from soma.ops import tril

    m = r @ _tensor_mT(grad_r) - _tensor_mT(grad_q) @ q
    low = tril(m, -1)
    m = low + _tensor_mT(low) + _diagonal_matrix(m)
    return _tensor_mT(Solve.apply(r, _tensor_mT(grad_q + q @ m)))


def _qr_backward(q, r, grad_q, grad_r):
    """∂L/∂A of A = QR for a tall or square A."""
    m = r @ _mT(grad_r) - _mT(grad_q) @ q
    low = np.tril(m, -1)
    m = low + _mT(low) + np.einsum("...ii->...i", m)[..., None] * np.eye(m.shape[-1], dtype=m.dtype, like=m)
    b = grad_q + q @ m
    # B R⁻ᵀ = (R⁻¹ Bᵀ)ᵀ: a triangular solve, done as a general solve (LAPACK sees the zeros)
    return _mT(np.linalg.solve(r, _mT(b)))


class Eigh(Function):
    """(w, V): A = V diag(w) Vᵀ, w ascending, from the lower (UPLO='L') or upper triangle of A"""

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, grad_w, grad_v):
        w, v = ctx.saved_tensors
        inner = np.zeros_like(v, shape=v.shape[:-2] + (w.shape[-1],) * 2)
        if np.any(grad_v):
            gap = w[..., None, :] - w[..., :, None]  # wⱼ - wᵢ
            i = np.arange(w.shape[-1], like=w)
            gap[..., i, i] = np.inf
            inner = (_mT(v) @ grad_v) / gap
        inner = inner + grad_w[..., None, :] * np.eye(w.shape[-1], dtype=v.dtype, like=v)
        return v @ inner @ _mT(v), None

    @staticmethod
    def formula(ctx, grad_w, grad_v):
        a, uplo = ctx.inputs
        w, v = Eigh.apply(a, uplo)
        inner = (_tensor_mT(v) @ grad_v) * _inverse_gaps(w) + _diagonal_matrix(grad_w.unsqueeze(-2), vector=True)
        return v @ inner @ _tensor_mT(v), None


class Svd(Function):
    """(U, S, Vh): A = U diag(S) Vh, S descending; reduced (k = min(m, n) columns) unless ``full_matrices``.

    With E_ij = s_j² - s_i² (i ≠ j), J = UᵀG_U, K = VᵀG_V (V = Vhᵀ):

        ∂L/∂A = U [diag(G_S) + ((J - Jᵀ)/E) S + S ((K - Kᵀ)/E)] Vᵀ
                + (I - UUᵀ) G_U S⁻¹ Vᵀ + U S⁻¹ G_Vᵀ (I - VVᵀ),

    the last two terms only for the non-square side. The extra columns of a full U or V are
    arbitrary, so they receive no gradient. Losses must not depend on the singular vectors'
    signs (their gauge), as in PyTorch.
    """

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        u, vh, grad_u, grad_vh = u[..., :k], vh[..., :k, :], grad_u[..., :k], grad_vh[..., :k, :]
        v, grad_v = _mT(vh), _mT(grad_vh)
        m, n = u.shape[-2], v.shape[-2]
        core = grad_s[..., None, :] * np.eye(k, dtype=s.dtype, like=s)
        with_vectors = np.any(grad_u) or np.any(grad_v)
        if with_vectors:
            squares = s * s
            gap = squares[..., None, :] - squares[..., :, None]
            i = np.arange(k, like=s)
            gap[..., i, i] = np.inf
            j, kk = _mT(u) @ grad_u, _mT(v) @ grad_v
            core = core + ((j - _mT(j)) / gap) * s[..., None, :] + s[..., :, None] * ((kk - _mT(kk)) / gap)
        grad_a = u @ core @ vh
        if with_vectors and m > k:
            grad_a = grad_a + ((grad_u - u @ (_mT(u) @ grad_u)) / s[..., None, :]) @ vh
        if with_vectors and n > k:
            grad_a = grad_a + u @ _mT((grad_v - v @ (_mT(v) @ grad_v)) / s[..., None, :])
        return grad_a, None

    @staticmethod
    def formula(ctx, grad_u, grad_s, grad_vh):
        a, full = ctx.inputs
        u, s, vh = Svd.apply(a, False)
        k = s.shape[-1]
        grad_u, grad_vh = grad_u[..., :k], grad_vh[..., :k, :]
        v, grad_v = _tensor_mT(vh), _tensor_mT(grad_vh)
        m, n = u.shape[-2], v.shape[-2]
        gaps = _inverse_gaps(s * s)
        j, kk = _tensor_mT(u) @ grad_u, _tensor_mT(v) @ grad_v
        core = (_diagonal_matrix(grad_s.unsqueeze(-2), vector=True) + ((j - _tensor_mT(j)) * gaps) * s.unsqueeze(-2)
                + s.unsqueeze(-1) * ((kk - _tensor_mT(kk)) * gaps))
        grad_a = u @ core @ vh
        if m > k:
            grad_a = grad_a + ((grad_u - u @ (_tensor_mT(u) @ grad_u)) / s.unsqueeze(-2)) @ vh
        if n > k:
            grad_a = grad_a + u @ _tensor_mT((grad_v - v @ (_tensor_mT(v) @ grad_v)) / s.unsqueeze(-2))
        return grad_a, None


def _inverse_gaps(w):
    """Fᵢⱼ = 1/(wⱼ - wᵢ) off the diagonal, 0 on it, as a differentiable tensor."""
    from soma.ops import where

    gap = w.unsqueeze(-2) - w.unsqueeze(-1)
    eye = Tensor._make(np.eye(w.shape[-1], dtype=bool, like=w._array), False)
    return where(eye, 0.0, 1.0 / where(eye, 1.0, gap))


def _diagonal_matrix(x, vector=False):
    """The diagonal of the matrices x as diagonal matrices (``vector``: x's last dim is the diagonal)."""
    eye = Tensor._make(np.eye(x.shape[-1], dtype=x._array.dtype, like=x._array), False)
    if vector:
        return x * eye  # (..., 1, n) * (n, n): diag(x) row by row
    from soma.ops import diagonal

    return diagonal(x, 0, -2, -1).unsqueeze(-2) * eye
