"""Gamma and Beta distributions: log-density, entropy and moments differentiable in the parameters.

Draws come from NumPy's gamma and beta samplers through soma's global generator (``soma.manual_seed`` repeats
them). They carry no gradient: PyTorch's implicit reparametrization of the gamma sampler is not built, so
``rsample`` raises and ``has_rsample`` is False.
"""

import math

import numpy as np

import soma
from soma.distributions import constraints
from soma.distributions.distribution import Distribution
from soma.distributions.utils import _draw, broadcast_all

__all__ = ["Gamma", "Beta"]


class _Drawn(Distribution):
    """A distribution sampled by NumPy, without a reparametrized gradient."""

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__}.rsample: soma draws gamma variates without a "
                                  "reparametrized gradient (use .sample())")

    def _numpy_params(self):
        return [getattr(self, name).detach().numpy() for name in self.arg_constraints]


class Gamma(_Drawn):
    r"""Gamma distribution with ``concentration`` α and ``rate`` β:
    ``log p(x) = α log β + (α - 1) log x - βx - log Γ(α)`` for ``x >= 0``.

    Mean ``α/β``, variance ``α/β²``, mode ``max(α - 1, 0)/β``,
    entropy ``α - log β + log Γ(α) + (1 - α) ψ(α)``.
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def sample(self, sample_shape=()):
        alpha, beta = self._numpy_params()
        shape = self._extended_shape(sample_shape)
        tiny = soma.finfo(self.rate.dtype).tiny
        return _draw(lambda g, s: np.maximum(g.standard_gamma(alpha, s) / beta, tiny), shape, self.rate.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        alpha, beta = self.concentration, self.rate
        return soma.xlogy(alpha, beta) + soma.xlogy(alpha - 1, value) - beta * value - soma.lgamma(alpha)

    def entropy(self):
        alpha = self.concentration
        return alpha - soma.log(self.rate) + soma.lgamma(alpha) + (1.0 - alpha) * soma.digamma(alpha)


class Beta(_Drawn):
    r"""Beta distribution with ``concentration1`` a and ``concentration0`` b on ``[0, 1]``:
    ``log p(x) = (a - 1) log x + (b - 1) log(1 - x) - log B(a, b)``, ``log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a+b)``.

    Mean ``a/(a+b)``, variance ``ab / ((a+b)²(a+b+1))``,
    entropy ``log B(a, b) - (a-1)ψ(a) - (b-1)ψ(b) + (a+b-2)ψ(a+b)``.
    """

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        up, down = (a - 1).clamp(min=0), (b - 1).clamp(min=0)
        total = up + down
        # a, b < 1: the density is U-shaped, infinite at both ends; PyTorch names 1 (its Dirichlet's first corner)
        undefined = (total == 0) & ~((a < 1) & (b < 1))
        mode = soma.where(total == 0, soma.ones_like(a), up / soma.where(total == 0, soma.ones_like(a), total))
        return soma.where(undefined, soma.full_like(a, math.nan), mode)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def sample(self, sample_shape=()):
        a, b = self._numpy_params()
        return _draw(lambda g, s: g.beta(a, b, s), self._extended_shape(sample_shape), self.concentration1.dtype)

    def _log_normalizer(self):
        a, b = self.concentration1, self.concentration0
        return soma.lgamma(a) + soma.lgamma(b) - soma.lgamma(a + b)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return soma.xlogy(a - 1, value) + soma.xlogy(b - 1, 1 - value) - self._log_normalizer()

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        return (self._log_normalizer() - (a - 1) * soma.digamma(a) - (b - 1) * soma.digamma(b)
                + (total - 2) * soma.digamma(total))
