"""Activations that draw noise: the randomized leaky ReLU and the Gumbel-softmax sampler.

* ``rrelu`` (Xu et al., 2015): y = x for x > 0, else a·x, with a slope a ~ U(lower, upper)
  drawn afresh for every element in training, and the mean slope (lower + upper)/2 in
  evaluation (then it is a leaky ReLU). The gradient uses the slopes drawn: y′ = a for
  x ≤ 0 (x = 0 included, as PyTorch's), 1 above.
* ``gumbel_softmax`` (Jang et al.; Maddison et al., 2016): y = softmax((z + g)/τ) with
  gᵢ = -ln Eᵢ, Eᵢ ~ Exp(1) (Gumbel(0, 1) noise): a differentiable sample of a categorical
  distribution with logits z, which approaches one-hot as τ → 0. ``hard=True`` returns the
  exact one-hot of the argmax, y_hard - y_soft.detach() + y_soft, whose gradient is the soft
  sample's (the straight-through estimator).

Both draw from soma's one global generator (:func:`soma.manual_seed` repeats them) on the
host, and the noise is a constant of the graph, so the derivatives come from the primitives.
"""

import warnings

import numpy as np

from soma._errors import check_floating
from soma.nn._utils import beside
from soma.nn.functional.activation import leaky_relu
from soma.ops._common import honours_inplace
from soma.ops.reduction import normalize_dims
from soma.ops.softmax import softmax
from soma.random import generator
from soma.tensor import Tensor

__all__ = ["rrelu", "rrelu_", "gumbel_softmax"]


def rrelu_slopes(input, lower, upper):
    """The slopes a training ``rrelu`` multiplies ``input`` by: a ~ U(lower, upper) where x ≤ 0, 1 elsewhere."""
    x = input._array
    draws = beside(input, np.asarray(lower + (upper - lower) * generator().random(x.shape), x.dtype))._array
    return Tensor._make(np.where(x <= 0, draws, x.dtype.type(1)), False)


@honours_inplace
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """y = x for x > 0, else a·x: a ~ U(lower, upper) per element in training, a = (lower + upper)/2 in eval."""
    check_floating("rrelu", input)
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper bound (got lower={lower}, "
                           f"upper={upper})")
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    return input * rrelu_slopes(input, lower, upper)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """rrelu in place (``F.rrelu_``)."""
    return rrelu(input, lower, upper, training, inplace=True)


def gumbel_noise(logits):
    """g = -ln E, E ~ Exp(1), in the logits' dtype and shape: Gumbel(0, 1) draws."""
    x = logits._array
    return beside(logits, -np.log(generator().standard_exponential(x.shape)).astype(x.dtype, copy=False))


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample softmax((z + g)/τ) of the Gumbel-softmax distribution, or with ``hard=True`` its one-hot argmax
    carrying the soft sample's gradient. ``eps`` is deprecated and unused, as in PyTorch."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    check_floating("gumbel_softmax", logits)
    y_soft = softmax((logits + gumbel_noise(logits)) / tau, dim)
    if not hard:
        return y_soft
    (axis,) = normalize_dims(dim, logits.ndim, "gumbel_softmax")
    soft = y_soft._array
    one_hot = np.zeros_like(soft)
    if soft.size:
        np.put_along_axis(one_hot, np.argmax(soft, axis=axis, keepdims=True), 1.0, axis=axis)
    return beside(logits, one_hot) - y_soft.detach() + y_soft
