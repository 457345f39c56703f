"""Negative log-likelihood losses of a predicted distribution: Gaussian and Poisson.

* Gaussian with mean x and variance σ² (``var``, clamped at ε below):
  E = ½ (ln σ² + (x - y)²/σ²) [+ ½ ln 2π with ``full``];
* Poisson with rate λ (``log_input``: x = ln λ, else x = λ):
  E = λ - y ln λ = eˣ - y·x (or x - y·ln(x + ε)) [+ the Stirling term
  y ln y - y + ½ ln(2πy) of ln y!, for y > 1, with ``full``].

Both are composed from differentiable soma ops as PyTorch composes them, so the target gets a
gradient where PyTorch gives it one.
"""

import math

import numpy as np

import soma
from soma.nn.functional.loss import _check_reduction, _legacy_reduction, _reduce

__all__ = ["gaussian_nll_loss", "poisson_nll_loss"]


def _gaussian_var(input, var):
    """``var`` shaped to broadcast against ``input`` by PyTorch's rules (one dimension short, or one
    mismatched dimension of size 1: homoscedastic), or ValueError."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var has negative entry/entries, got {var}")
        return var * soma.ones_like(input)
    if (var._array < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if var.shape == input.shape:
        return var
    if input.shape[:-1] == var.shape:
        return var.unsqueeze(-1)
    if input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
        return var
    raise ValueError(f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} for input of shape "
                     f"{tuple(input.shape)}: give the input's shape, the input's shape without its last "
                     f"dimension, or the input's shape with one dimension of size 1")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """E = ½ (ln max(σ², ε) + (x - y)²/max(σ², ε)) for a Gaussian of mean x = ``input`` and variance σ² = ``var``.

    ``var`` has the input's shape (heteroscedastic) or one dimension of size 1 or missing at the end
    (homoscedastic), or is a float. The clamp at ε is not differentiated (the gradient passes through it,
    as in PyTorch); ``full`` adds the constant ½ ln 2π.
    """
    var = _gaussian_var(input, var)
    _check_reduction(reduction, "gaussian_nll_loss")
    var = var.clone()
    with soma.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (soma.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """E = eˣ - y·x for a log-rate x (``log_input=True``), else x - y·ln(x + ε) for a rate x.

    ``full`` adds Stirling's approximation of ln y!, y ln y - y + ½ ln(2πy), where y > 1 (0 elsewhere).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "poisson_nll_loss")
    if log_input:
        loss = soma.exp(input) - target * input
    else:
        loss = input - target * soma.log(input + eps)
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):  # y ≤ 0: ln y is -inf or NaN, masked below
            stirling = target * soma.log(target) - target + 0.5 * soma.log(2 * math.pi * target)
        loss = loss + soma.where(target <= 1, soma.zeros_like(stirling), stirling)
    return _reduce(loss, reduction)
