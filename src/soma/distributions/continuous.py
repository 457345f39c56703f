"""Location-scale and interval distributions, reparametrized: Normal, Laplace, Uniform, Exponential.

Each ``rsample`` is ``x = g(θ, ε)`` with ``ε`` drawn from soma's global generator, so gradients reach the
parameters:  Normal ``x = μ + σε``, ``ε ~ N(0, 1)``;  Laplace ``x = μ - b·sign(u)·log(1 - |u|)``,
``u ~ U(-1, 1)``;  Uniform ``x = a + (b - a)u``, ``u ~ U(0, 1)``;  Exponential ``x = ε / λ``, ``ε ~ Exp(1)``.
"""

import math

import soma
from soma.distributions import constraints
from soma.distributions.distribution import Distribution
from soma.distributions.utils import _draw, broadcast_all

__all__ = ["Normal", "Laplace", "Uniform", "Exponential"]


class _LocScale(Distribution):
    """A distribution with parameters ``loc`` and ``scale`` broadcast together."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    def _checked(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return value


class Normal(_LocScale):
    r"""Normal (Gaussian) distribution ``N(μ, σ²)`` with ``loc`` μ and ``scale`` σ.

    ``log p(x) = -(x - μ)² / (2σ²) - log σ - ½ log 2π``,  entropy ``½ + ½ log 2π + log σ``,
    ``F(x) = ½ (1 + erf((x - μ) / (σ√2)))``.
    """

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def rsample(self, sample_shape=()):
        eps = _draw(lambda g, s: g.standard_normal(s), self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        value = self._checked(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        value = self._checked(value)
        return 0.5 * (1 + soma.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * soma.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + soma.log(self.scale)


class Laplace(_LocScale):
    r"""Laplace distribution with ``loc`` μ and ``scale`` b: ``log p(x) = -log 2b - |x - μ| / b``.

    Entropy ``1 + log 2b``; variance ``2b²``.
    """

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=()):
        eps = soma.finfo(self.loc.dtype).eps
        u = _draw(lambda g, s: g.uniform(eps - 1, 1, s), self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc - self.scale * u.sign() * soma.log1p(-u.abs())

    def log_prob(self, value):
        value = self._checked(value)
        return -soma.log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        value = self._checked(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * soma.expm1(-(value - self.loc).abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * soma.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + soma.log(2 * self.scale)


class Uniform(Distribution):
    r"""Uniform distribution on the half-open interval ``[low, high)``: ``log p(x) = -log(high - low)`` inside.

    Mean ``(low + high) / 2``, variance ``(high - low)² / 12``, entropy ``log(high - low)``.
    """

    has_rsample = True

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return math.nan * self.high

    @property
    def stddev(self):
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        rand = _draw(lambda g, s: g.random(s), self._extended_shape(sample_shape), self.low.dtype)
        return self.low + rand * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value) & (self.high > value)
        return soma.log(inside.to(self.low.dtype)) - soma.log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return soma.log(self.high - self.low)


class Exponential(Distribution):
    r"""Exponential distribution with ``rate`` λ: ``log p(x) = log λ - λx`` for ``x >= 0``.

    ``F(x) = 1 - e^{-λx}``, mean ``1/λ``, variance ``1/λ²``, entropy ``1 - log λ``.
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return soma.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        eps = _draw(lambda g, s: g.standard_exponential(s), self._extended_shape(sample_shape), self.rate.dtype)
        return eps / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - soma.exp(-self.rate * value)

    def icdf(self, value):
        return -soma.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - soma.log(self.rate)
