"""Shrinkage: set the small values to zero, y = 0 for |x| ≤ λ (hard: y = x elsewhere; soft: y = x ∓ λ).

Soft shrinkage is the proximal step of the L1 penalty λ‖x‖₁ (the soft-thresholding of
sparse coding and the lasso): it pulls every value λ towards zero and stops at zero;
hard shrinkage keeps the values beyond λ unchanged. Both are flat on [-λ, λ], so their
derivative is 0 there and 1 outside; at NaN they are those of PyTorch's vectorized CPU loop
(which computes nearly every element): y = NaN, y′ = 0, and the zeros are +0. Both are a
``where`` between the moving branch and a constant, so every order of derivative comes from
the primitives.
"""

import numpy as np

from soma._errors import check_floating
from soma.ops.arithmetic import where
from soma.tensor import Tensor

__all__ = ["hardshrink", "softshrink"]


def _shrink(input, lambd, step):
    """``input - step`` where |x| > λ, else the constant 0 (NaN where x is NaN)."""
    x = input._array
    rest = np.where(np.isnan(x), x, x.dtype.type(0))
    return where(np.abs(x) > lambd, input - step if step is not None else input, Tensor._make(rest, False))


def hardshrink(input, lambd=0.5):
    """y = x if |x| > λ else 0; y′ = 1 outside [-λ, λ], 0 inside."""
    check_floating("hardshrink", input)
    return _shrink(input, lambd, None)


def softshrink(input, lambd=0.5):
    """y = x - λ for x > λ, x + λ for x < -λ, 0 between; y′ = 1 outside [-λ, λ], 0 inside."""
    check_floating("softshrink", input)
    if not 0 <= lambd <= np.finfo(input.dtype).max:
        raise RuntimeError(f"softshrink: lambda must be in range [0, {np.finfo(input.dtype).max:g}] for input dtype "
                           f"{input.dtype}, but found {lambd}")
    return _shrink(input, lambd, Tensor._make(np.copysign(input.dtype.type(lambd), input._array), False))
