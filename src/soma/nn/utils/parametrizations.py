"""``nn.utils.parametrizations``: weight normalization and spectral normalization as parametrizations.

- ``weight_norm`` (Salimans & Kingma): w = g · v / ‖v‖, the norm taken over every axis
  but ``dim``; the direction v and the length g are learned separately.
- ``spectral_norm`` (Miyato et al.): w = W / σ(W), σ the largest singular value of W
  (viewed as a matrix, rows along ``dim``), estimated by power iteration: each training
  forward runs ``n_power_iterations`` steps u ← normalize(W v), v ← normalize(Wᵀ u) on
  buffers u, v, then σ = uᵀ W v (u and v held constant in the backward, as in PyTorch).

Both register through :func:`soma.nn.utils.parametrize.register_parametrization`, with
PyTorch's ``state_dict`` keys (``parametrizations.weight.original0``/``original1`` for g/v;
``parametrizations.weight.original`` and ``parametrizations.weight.0._u``/``_v``).
"""

import numpy as np

from soma.nn._utils import beside
from soma.nn.module import Module
from soma.nn.utils.parametrize import register_parametrization
from soma.random import generator
from soma.tensor import Tensor

__all__ = ["weight_norm", "spectral_norm"]


def _norm_except_dim(v, dim):
    """‖v‖₂ over every axis but ``dim`` (kept as size-1 axes); the whole norm when dim = -1."""
    if dim == -1:
        return (v * v).sum().sqrt()
    axes = tuple(a for a in range(v.ndim) if a != dim)
    return (v * v).sum(dim=axes, keepdim=True).sqrt() if axes else v.abs()


class _WeightNorm(Module):
    """(g, v) ↦ g · v / ‖v‖ (norm over all axes but ``dim``)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight.detach(), self.dim), weight.detach()


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as g · v / ‖v‖ with learned g (``original0``) and v (``original1``).

    Args:
        module: the module (e.g. a Linear or Conv layer).
        name: the parameter to normalize.
        dim: the axis that keeps its own norms (0: one per output unit); None: one norm for all.

    Example::

        >>> layer = nn.utils.parametrizations.weight_norm(nn.Linear(20, 40))
        >>> layer.parametrizations.weight.original0.shape     # g
        (40, 1)
    """
    if dim is not None and not -1 <= dim < getattr(module, name).ndim:
        raise IndexError(f"weight_norm: dim {dim} is out of range for {name} of shape "
                         f"{tuple(getattr(module, name).shape)}")
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


def _normalize(x, eps):
    return x / max(float(np.sqrt((x * x).sum())), eps)


class _SpectralNorm(Module):
    """W ↦ W / σ(W), σ estimated by power iteration on the buffers ``_u``, ``_v``."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(f"spectral_norm: dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("spectral_norm: expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._matrix(weight._array)
            h, w = matrix.shape
            rng = generator()
            # drawn on the host from soma's generator (the same on every device), kept beside the weight
            self.register_buffer("_u", beside(weight, _normalize(rng.standard_normal(h), eps).astype(matrix.dtype)))
            self.register_buffer("_v", beside(weight, _normalize(rng.standard_normal(w), eps).astype(matrix.dtype)))
            self._power_method(matrix, 15)

    def _matrix(self, weight):
        """W as a matrix with ``dim`` first (an array or a tensor)."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim)) \
                if isinstance(weight, Tensor) else np.moveaxis(weight, self.dim, 0)
        return weight.reshape(weight.shape[0], -1)

    def _power_method(self, matrix, iterations):
        u, v = self._u._array, self._v._array
        for _ in range(iterations):
            u[...] = _normalize(matrix @ v, self.eps)
            v[...] = _normalize(matrix.conj().T @ u, self.eps)

    def forward(self, weight):
        if weight.ndim == 1:
            return weight / (weight * weight).sum().sqrt().clamp(min=self.eps)
        if self.training:
            self._power_method(self._matrix(weight._array), self.n_power_iterations)
        u = Tensor._make(self._u._array.copy(), False)
        v = Tensor._make(self._v._array.copy(), False)
        sigma = (u * (self._matrix(weight) @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as W / σ(W), σ its largest singular value (power iteration).

    Args:
        module: the module.
        name: the parameter to normalize.
        n_power_iterations: power-iteration steps per training forward (1).
        eps: the floor of the norms in the iteration (1e-12).
        dim: the axis of the matrix's rows (0; 1 for ConvTranspose layers).

    Example::

        >>> layer = nn.utils.parametrizations.spectral_norm(nn.Linear(20, 40))
        >>> sorted(layer.state_dict())
        ['bias', 'parametrizations.weight.0._u', 'parametrizations.weight.0._v', 'parametrizations.weight.original']
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: module {type(module).__name__} has no parameter or buffer with name "
                         f"{name!r}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
