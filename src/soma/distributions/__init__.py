"""Probability distributions with PyTorch's names and numbers (``torch.distributions``).

    >>> import soma
    >>> from soma.distributions import Normal, kl_divergence
    >>> p = Normal(soma.tensor([0.0]), soma.tensor([1.0]))
    >>> p.log_prob(soma.tensor([0.0]))
    tensor([-0.9189])

Every distribution is composed of soma's differentiable ops, so ``log_prob``, ``entropy``, ``cdf`` and
``kl_divergence`` back-propagate to the parameters, and ``rsample`` (where ``has_rsample``) is reparametrized.
Draws come from soma's global generator: ``soma.manual_seed`` repeats them (they differ from PyTorch's).
"""

from soma.distributions import constraints
from soma.distributions.continuous import Exponential, Laplace, Normal, Uniform
from soma.distributions.discrete import Bernoulli, Categorical, OneHotCategorical
from soma.distributions.distribution import Distribution
from soma.distributions.gamma import Beta, Gamma
from soma.distributions.independent import Independent
from soma.distributions.kl import kl_divergence, register_kl
from soma.distributions.multivariate_normal import MultivariateNormal

__all__ = ["Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma", "Independent", "Laplace",
           "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence",
           "register_kl"]
