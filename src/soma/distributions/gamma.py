"""Gamma and Beta distributions: log-density, entropy and moments differentiable in the parameters.

Draws come from NumPy's gamma sampler through soma's global generator (``soma.manual_seed`` repeats them), and
are reparametrized implicitly: a draw ``x ~ Gamma(α, 1)`` solves ``P(α, x) = u`` for a uniform ``u`` held fixed,
``P`` the regularized lower incomplete gamma function (the CDF), so

    ∂x/∂α = -(∂P/∂α)(α, x) / p(x; α),   p(x; α) = x^(α-1) e^(-x) / Γ(α),

with ``∂P/∂α`` a central difference of SciPy's ``gammainc``. ``Gamma(α, β)`` draws ``x/β``; ``Beta(a, b)`` draws
``x_a / (x_a + x_b)`` from two such draws.
"""

import math

import numpy as np

import soma
from soma import random as _random
from soma.autograd.function import Function
from soma.distributions import constraints
from soma.distributions.distribution import Distribution
from soma.distributions.utils import broadcast_all
from soma.ops.gamma import scipy_special

__all__ = ["Gamma", "Beta"]


class StandardGamma(Function):
    """x ~ Gamma(α, 1) drawn from soma's generator; x′ = -(∂P/∂α)(α, x) / p(x; α) (implicit reparametrization)"""

    @staticmethod
    def forward(ctx, alpha):
        tiny = np.finfo(alpha.dtype).tiny
        x = np.maximum(_random.generator().standard_gamma(alpha), tiny).astype(alpha.dtype)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        alpha, x = (np.asarray(v, dtype=np.float64) for v in ctx.saved_tensors)
        gammainc, gammaln = scipy_special("gammainc"), scipy_special("gammaln")
        up = 1e-5 * np.maximum(alpha, 1.0)
        down = np.minimum(up, alpha / 2)  # α - down stays positive
        with np.errstate(all="ignore"):
            dcdf = (gammainc(alpha + up, x) - gammainc(alpha - down, x)) / (up + down)
            pdf = np.exp((alpha - 1) * np.log(x) - x - gammaln(alpha))
            dx = np.where(pdf > 0, -dcdf / pdf, 0.0)
        return (grad * dx).astype(grad.dtype)


class _Drawn(Distribution):
    """A distribution drawn from standard gamma variates, reparametrized implicitly."""

    has_rsample = True


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

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        x = StandardGamma.apply(self.concentration.expand(shape)) / self.rate.expand(shape)
        return x.clamp(min=soma.finfo(x.dtype).tiny)

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

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        x_a = StandardGamma.apply(self.concentration1.expand(shape))
        x_b = StandardGamma.apply(self.concentration0.expand(shape))
        return x_a / (x_a + x_b)

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
