r"""Kullback-Leibler divergence ``KL(p ‖ q) = E_p[log p(x) - log q(x)]`` in closed form, per batch element.

``register_kl(P, Q)`` adds a rule; ``kl_divergence(p, q)`` uses the most specific rule for the pair's types
(the nearest classes in their method resolution orders) and raises ``NotImplementedError`` where none applies.
Built in:  Normal ``log(σ_q/σ_p) + (σ_p² + (μ_p - μ_q)²) / (2σ_q²) - ½``;  Bernoulli, Categorical
``Σ_k p_k (log p_k - log q_k)`` (``inf`` where ``q_k = 0 < p_k``);  Uniform ``log((b_q - a_q)/(b_p - a_p))``
(``inf`` unless ``[a_p, b_p] ⊆ [a_q, b_q]``);  Exponential, Laplace, Gamma, Beta;  Independent sums its base's.
"""

import math

import soma
import soma.nn.functional as F
from soma.distributions.continuous import Exponential, Laplace, Normal, Uniform
from soma.distributions.discrete import Bernoulli, Categorical, OneHotCategorical
from soma.distributions.gamma import Beta, Gamma
from soma.distributions.independent import Independent
from soma.distributions.utils import _sum_rightmost

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY = {}


def register_kl(type_p, type_q):
    """Decorator: ``@register_kl(Normal, Normal) def kl(p, q): ...`` registers a closed form."""
    if not isinstance(type_p, type) or not isinstance(type_q, type):
        raise TypeError(f"Expected type_p and type_q to be Distribution subclasses but got {type_p} and {type_q}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        return fn

    return decorator


def _dispatch(type_p, type_q):
    matches = [(i + j, i, fn) for i, super_p in enumerate(type_p.__mro__) for j, super_q in enumerate(type_q.__mro__)
               if (fn := _KL_REGISTRY.get((super_p, super_q))) is not None]
    return min(matches, key=lambda m: m[:2])[2] if matches else None


def kl_divergence(p, q):
    """``KL(p ‖ q)`` of two distributions with matching batch shapes, one value per batch element."""
    fn = _dispatch(type(p), type(q))
    if fn is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {p.__class__.__name__} and "
                                  f"q type {q.__class__.__name__}")
    return fn(p, q)


def _inf_where(condition, value):
    return soma.where(condition, soma.full_like(value, math.inf), value)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1 = soma.where(p.probs == 0, soma.zeros_like(t1), _inf_where(q.probs == 0, t1))
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2 = soma.where(p.probs == 1, soma.zeros_like(t2), _inf_where(q.probs == 1, t2))
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = _inf_where((q.probs == 0).expand(tuple(t.shape)), t)
    t = soma.where((p.probs == 0).expand(tuple(t.shape)), soma.zeros_like(t), t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _inf_where((q.low > p.low) | (q.high < p.high), result)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    rate_ratio = q.rate / p.rate
    return rate_ratio - 1 - rate_ratio.log()


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    return -scale_ratio.log() + loc_abs_diff / q.scale + scale_ratio * (-loc_abs_diff / p.scale).exp() - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = soma.lgamma(q.concentration) - soma.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * soma.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = soma.lgamma(q.concentration1) + soma.lgamma(q.concentration0) + soma.lgamma(sum_p)
    t2 = soma.lgamma(p.concentration1) + soma.lgamma(p.concentration0) + soma.lgamma(sum_q)
    t3 = (p.concentration1 - q.concentration1) * soma.digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * soma.digamma(p.concentration0)
    t5 = (sum_q - sum_p) * soma.digamma(sum_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
