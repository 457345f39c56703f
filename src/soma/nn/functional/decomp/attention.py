"""The attention weights P = softmax(s·Q·Kᵀ + M) in differentiable primitives.

    S = s·(Q·Kᵀ) + M,   S_ij = −∞ where causal forbids j > i,   P = softmax(S) along the keys

A row whose every key is masked ("dead") has no softmax; with ``safe`` the kernel gives it
zero weights. The composite puts 0 in such rows' scores *before* the softmax and zeros its
output there, so no 0/0 (NaN) enters the derivatives either; without ``safe`` the row is
NaN as in the kernel.
"""

import numpy as np

from soma.backend import as_array
from soma.nn.functional.attention import AttentionWeights, _causal_forbidden
from soma.ops.arithmetic import where
from soma.tensor import Tensor

__all__ = []


def _attention_weights(ctx, q, k, mask, scale, causal, safe):
    scores = (q @ k.transpose(-1, -2)) * scale
    if mask is not None:
        scores = scores + (mask if isinstance(mask, Tensor) else Tensor._make(as_array(mask), False))
    if causal:
        scores = where(Tensor._make(_causal_forbidden(*scores.shape[-2:], like=scores._array), False), -np.inf, scores)
    dead = np.isneginf(scores._array.max(axis=-1, keepdims=True, initial=-np.inf))
    if not (safe and dead.any()):
        return scores.softmax(-1)
    dead = Tensor._make(dead, False)
    return where(dead, 0.0, where(dead, 0.0, scores).softmax(-1))


AttentionWeights.composite = staticmethod(_attention_weights)
