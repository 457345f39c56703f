r"""MultivariateNormal ``N(μ, Σ)`` over vectors of length n, given ``Σ``, its Cholesky factor ``L`` (``Σ = LLᵀ``)
or the precision ``Σ⁻¹``; every formula goes through ``L``:

``log p(x) = -½ (n log 2π + ‖L⁻¹(x - μ)‖²) - Σᵢ log Lᵢᵢ``,  entropy ``½ n (1 + log 2π) + Σᵢ log Lᵢᵢ``,
``rsample: x = μ + Lε``, ``ε ~ N(0, I)``,
``KL(p ‖ q) = Σᵢ log L_q,ᵢᵢ - Σᵢ log L_p,ᵢᵢ + ½ (‖L_q⁻¹ L_p‖²_F + ‖L_q⁻¹(μ_q - μ_p)‖² - n)``.
"""

import math

import soma
from soma.distributions import constraints
from soma.distributions.distribution import Distribution
from soma.distributions.kl import register_kl
from soma.distributions.utils import _draw, lazy_property

__all__ = ["MultivariateNormal"]


def _mahalanobis(L, x):
    """``‖L⁻¹x‖²`` over the last dimension, ``L`` and ``x`` broadcast over their batch dimensions."""
    batch = soma.broadcast_shapes(tuple(L.shape[:-2]), tuple(x.shape[:-1]))
    n = x.shape[-1]
    L = L.expand(batch + (n, n))
    x = x.expand(batch + (n,)).unsqueeze(-1)
    return soma.linalg.solve_triangular(L, x, upper=False).squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(precision):
    """``L`` with ``LLᵀ = P⁻¹`` from the Cholesky factor of ``P`` with rows and columns reversed."""
    Lf = soma.linalg.cholesky(soma.flip(precision, (-2, -1)))
    L_inv = soma.flip(Lf, (-2, -1)).transpose(-2, -1)
    eye = soma.eye(precision.shape[-1], dtype=precision.dtype).expand(tuple(precision.shape))
    return soma.linalg.solve_triangular(L_inv, eye, upper=False)


def _half_log_det(L):
    return L.diagonal(dim1=-2, dim2=-1).log().sum(-1)


class MultivariateNormal(Distribution):
    """Gaussian over vectors: ``loc`` of shape ``(..., n)`` and exactly one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril`` of shape ``(..., n, n)``; event shape ``(n,)``."""

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {"covariance_matrix": covariance_matrix, "precision_matrix": precision_matrix,
                 "scale_tril": scale_tril}
        given = {k: v for k, v in given.items() if v is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        (name, matrix), = given.items()
        if matrix.dim() < 2:
            label = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{label} must be at least two-dimensional, with optional leading batch dimensions")
        batch_shape = soma.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        setattr(self, name, matrix.expand(batch_shape + tuple(matrix.shape[-2:])))
        self.loc = loc.expand(batch_shape + (loc.shape[-1],))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = scale_tril
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = soma.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(MultivariateNormal, batch_shape,
                                  ("loc", "covariance_matrix", "precision_matrix", "scale_tril"), _instance)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.transpose(-2, -1)).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        return soma.cholesky_inverse(self._unbroadcasted_scale_tril).expand(self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(tuple(self._batch_shape + self._event_shape))

    def rsample(self, sample_shape=()):
        eps = _draw(lambda g, s: g.standard_normal(s), self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = _mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M) - _half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self):
        n = self._event_shape[0]
        H = 0.5 * n * (1.0 + math.log(2 * math.pi)) + _half_log_det(self._unbroadcasted_scale_tril)
        return H.expand(tuple(self._batch_shape)) if len(self._batch_shape) else H


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event shapes cannot be "
                         "computed")
    p_L, q_L = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    n = p.event_shape[0]
    batch = soma.broadcast_shapes(tuple(q_L.shape[:-2]), tuple(p_L.shape[:-2]))
    solved = soma.linalg.solve_triangular(q_L.expand(batch + (n, n)), p_L.expand(batch + (n, n)), upper=False)
    term2 = solved.pow(2).flatten(-2).sum(-1)
    term3 = _mahalanobis(q_L, q.loc - p.loc)
    return _half_log_det(q_L) - _half_log_det(p_L) + 0.5 * (term2 + term3 - n)
