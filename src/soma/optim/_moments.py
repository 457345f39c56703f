"""The in-place arithmetic the optimizers' updates share, rounded as PyTorch's in-place ops round it.

Running averages of the gradient and its square (Adam's family, RMSprop, Adadelta), the denominator
√v + ε and the step θ ← θ - η·m/d (Adam, Adagrad, RMSprop), PyTorch's lerp, float32 scalar state.
"""

import numpy as np

__all__ = ["lerp_", "as_float32", "average_", "average_square_", "root_plus_eps", "descend_ratio_"]


def lerp_(start, end, weight):
    """``start ← start + w·(end - start)`` in place, rounded as PyTorch's ``lerp_`` rounds it.

    PyTorch computes ``start + w·(end - start)`` for ``w < ½`` and ``end - (end - start)·(1 - w)``
    otherwise, so each end is reached exactly.
    """
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)
    return start


def as_float32(value):
    """A Python float rounded to float32: PyTorch keeps scalar state (ASGD's η, NAdam's μ product) in float32."""
    return float(np.float32(value))


def average_(average, value, beta):
    """``a ← β·a + (1 - β)·x`` in place: Adam's first moment, RMSprop's centered mean gradient."""
    average *= beta
    average += (1 - beta) * value


def average_square_(average, g, beta):
    """``v ← β·v + (1 - β)·g²`` in place: the second moment of Adam, NAdam and RAdam, RMSprop's mean square."""
    average *= beta
    average += (1 - beta) * (g * g)


def root_plus_eps(square, eps, correction=None):
    """``√v / c + ε`` as a new array (0-d for a 0-d parameter): the denominator of Adagrad, RMSprop and Adam."""
    denominator = np.sqrt(square, out=np.empty_like(square))
    if correction is not None:
        denominator /= correction
    denominator += eps
    return denominator


def descend_ratio_(p, numerator, denominator, step_size):
    """``θ ← θ - η·n / d`` in place, computed in ``denominator``'s buffer (which it overwrites)."""
    np.divide(numerator, denominator, out=denominator)
    denominator *= step_size
    p -= denominator
