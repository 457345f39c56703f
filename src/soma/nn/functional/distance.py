"""Distances and similarities between vectors: ‖x₁ - x₂‖ₚ, cos θ = x₁·x₂ / (‖x₁‖‖x₂‖), and x / ‖x‖ₚ.

The p-norm ‖x‖ₚ = (Σᵢ |xᵢ|ᵖ)^(1/p) measures a vector's length; the distance between two
vectors is the norm of their difference, and the cosine of the angle between them is
their dot product over the product of their lengths (1 for the same direction, 0 at a
right angle, -1 for opposite ones). Each follows PyTorch 2.13's formula to the rounding:

* ``pairwise_distance``: d = ‖x₁ - x₂ + ε‖ₚ over the last dimension (ε inside the norm,
  so equal vectors give ε·n^(1/p), not 0, and the gradient at them exists);
* ``cosine_similarity``: Σ (x₁/max(‖x₁‖, ε))·(x₂/max(‖x₂‖, ε)) along ``dim``: each norm is
  floored at ε on its own, and the floor is applied as PyTorch does, in place under
  ``no_grad``, so the gradient flows as if the norm were not floored;
* ``pdist``: the distance ‖xᵢ - xⱼ‖ₚ of every pair of rows i < j of an (N, M) matrix, in
  row-major order of the upper triangle (N(N-1)/2 values);
* ``normalize``: x / max(‖x‖ₚ, ε) along ``dim`` (here the floor does stop the gradient:
  a zero vector's gradient is 1/ε).
"""

import numpy as np

from soma import backend
from soma._errors import DTypeError, ShapeError
from soma._promotion import result_type
from soma.autograd.function import Function
from soma.ops._common import as_tensor_arg, broadcast_shape, write_out
from soma.ops.arithmetic import clamp_min
from soma.ops.norms import norm
from soma.ops.reduction import normalize_dims
from soma.ops.splitting import broadcast_tensors

__all__ = ["pairwise_distance", "cosine_similarity", "pdist", "normalize"]


class FloorKeepingGradient(Function):
    """y = max(x, ε), with ∂y/∂x = 1 everywhere (PyTorch's ``clamp_min_`` on a norm under ``no_grad``)"""

    @staticmethod
    def forward(ctx, x, eps):
        return np.maximum(x, x.dtype.type(eps))

    @staticmethod
    def backward(ctx, grad):
        return grad, None

    @staticmethod
    def formula(ctx, grad):
        return grad, None


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """d = ‖x₁ - x₂ + ε‖ₚ over the last dimension of the broadcast inputs (``F.pairwise_distance``)."""
    x1, x2 = as_tensor_arg(x1, "pairwise_distance", "x1"), as_tensor_arg(x2, "pairwise_distance", "x2")
    broadcast_shape("pairwise_distance", x1.shape, x2.shape)
    last = max(x1.ndim, x2.ndim) - 1
    return norm(x1 - x2 + eps, p, last, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """cos θ = Σ (x₁/max(‖x₁‖, ε))·(x₂/max(‖x₂‖, ε)) along ``dim`` of the broadcast inputs."""
    x1, x2 = as_tensor_arg(x1, "cosine_similarity", "x1"), as_tensor_arg(x2, "cosine_similarity", "x2")
    dtype = result_type(x1, x2)
    if dtype.kind != "f":
        raise DTypeError(f"cosine_similarity: expected common dtype to be floating point, yet common dtype is "
                         f"{dtype} (x1: {x1.dtype}, x2: {x2.dtype})")
    shape = broadcast_shape("cosine_similarity", x1.shape, x2.shape)
    (dim,) = normalize_dims(dim, len(shape), "cosine_similarity")
    x1, x2 = broadcast_tensors(*(x if x.dtype.kind == "f" else x.to(dtype) for x in (x1, x2)))
    n1, n2 = (FloorKeepingGradient.apply(norm(x, 2, dim, keepdim=True), eps) for x in (x1, x2))
    return ((x1 / n1) * (x2 / n2)).sum(dim)


class Pdist(Function):
    """dₖ = ‖x_i - x_j‖ₚ for the k-th pair i < j of rows.

    ∂dₖ/∂x_i = -∂dₖ/∂x_j = sign(δ)·|δ|^(p-1)/d^(p-1) with δ = x_i - x_j (δ/d for p = 2, sign δ for
    p = 1), as PyTorch's ``_pdist_backward`` computes it: 0 where d = 0 (and where δ = 0 for p < 1),
    0 for p = 0, and for p = ∞ sign δ at every element with |δ| = d (each tie gets the whole gradient,
    where ``norm``'s subgradient shares it).
    """

    @staticmethod
    def forward(ctx, x, p):
        rows, cols = _pairs(x, x.shape[0])
        delta = x[rows] - x[cols]
        if delta.shape[1] == 0:
            d = np.zeros_like(x, shape=len(rows))
        else:
            d = np.linalg.norm(delta, ord=p, axis=1).astype(x.dtype, copy=False)
        ctx.save_for_backward(delta, d)
        ctx.p, ctx.n = p, x.shape[0]
        return d

    @staticmethod
    def backward(ctx, grad):
        delta, d = ctx.saved_tensors
        p = ctx.p
        d, grad = d[:, None], grad[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                local = np.zeros_like(delta)
            elif p == 1:
                local = np.sign(delta)
            elif p == 2:
                local = np.where(d == 0, 0, delta / d)
            elif np.isinf(p):
                local = np.sign(delta) * (np.abs(delta) == d)
            else:
                zero = (d == 0) | ((delta == 0) if p < 1 else False)
                local = np.where(zero, 0, np.sign(delta) * np.abs(delta) ** (p - 1) / d ** (p - 1))
        g_delta = (grad * local).astype(delta.dtype, copy=False)
        rows, cols = _pairs(delta, ctx.n)
        out = np.zeros_like(delta, shape=(ctx.n, delta.shape[1]))
        np.add.at(out, rows, g_delta)
        np.subtract.at(out, cols, g_delta)
        return out, None


def _pairs(like, n):
    """The row indices (i, j) of every pair i < j, in the upper triangle's row-major order, beside ``like``."""
    return tuple(backend.of(like).transfer(index) for index in np.triu_indices(n, 1))


def pdist(input, p=2):
    """‖xᵢ - xⱼ‖ₚ for every pair of rows i < j of an (N, M) matrix: N(N-1)/2 distances (``F.pdist``)."""
    input = as_tensor_arg(input, "pdist")
    if input.ndim != 2:
        raise ShapeError(f"pdist only supports 2D tensors, got: {input.ndim}D (input of shape {tuple(input.shape)})")
    if input.dtype.kind != "f":
        raise DTypeError(f"pdist only supports floating-point dtypes, got {input.dtype}")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got p={p}")
    return Pdist.apply(input, float(p))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(‖x‖ₚ, ε) along ``dim``: unit vectors, and a zero vector stays zero (``F.normalize``)."""
    input = as_tensor_arg(input, "normalize")
    if input.dtype.kind != "f":
        raise DTypeError(f"normalize: expected a floating point tensor as input, got {input.dtype} "
                         f"(input of shape {tuple(input.shape)})")
    denominator = clamp_min(norm(input, p, dim, keepdim=True), eps)
    return write_out(input / denominator, out, "normalize")

