"""Small helpers shared by the optimizers: PyTorch's lerp, float32 scalar state, unsupported flags."""

from typing import Any

import numpy as np

from soma.autograd.function import mark_dirty
from soma.nn.common_types import LossClosure
from soma.optim.optimizer import Optimizer, grads_of

__all__ = ["lerp_", "as_float32", "reject_flags", "lr_of", "ElementwiseOptimizer", "decay_gradient"]


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


def reject_flags(owner, foreach=None, capturable=False, differentiable=False, fused=None):
    """Accept PyTorch's implementation switches at their defaults; anything else is not implemented.

    ``foreach=False`` asks for the per-parameter loop, which is what soma runs, so it is accepted too.
    """
    given = dict(foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused)
    defaults = dict(foreach=(None, False), capturable=(False,), differentiable=(False,), fused=(None, False))
    for name, value in given.items():
        if value not in defaults[name]:
            raise NotImplementedError(f"{owner}: {name}={value!r} is not supported by soma (it has one NumPy "
                                      "implementation); leave the argument at its default")


def lr_of(group):
    """The group's learning rate as a Python float (it may be a 0-d tensor)."""
    return float(group["lr"])


class ElementwiseOptimizer(Optimizer):
    """An optimizer whose update of each parameter depends only on that parameter's gradient and state.

    Subclasses give ``_init_state(p, group)`` (the state dict of a fresh parameter, ``step`` included)
    and ``_update(p, g, state, group)`` (changes the array ``p`` in place; ``g`` is already negated
    under ``maximize``). ``step`` counts the updates; PyTorch saves it as a float32 0-d tensor.
    """

    def step(self, closure: LossClosure | None = None) -> Any:
        loss = self._closure_loss(closure)
        updated = []
        for group in self.param_groups:
            for param, g in grads_of(group):
                state = self.state[param]
                if not state:
                    state.update(self._init_state(param._array, group))
                state["step"] += 1
                self._update(param._array, g, state, group)
                updated.append(param)
        mark_dirty(*updated)
        return loss

    def _init_state(self, p, group):
        raise NotImplementedError

    def _update(self, p, g, state, group):
        raise NotImplementedError


def decay_gradient(p, g, group):
    """Weight decay λ: coupled (``g + λθ``) or, where the group says ``decoupled_weight_decay``,
    ``θ ← θ(1 - ηλ)`` in place; returns the gradient to use."""
    decay = group["weight_decay"]
    if not decay:
        return g
    if group.get("decoupled_weight_decay", False):
        p *= 1 - lr_of(group) * decay
        return g
    return g + decay * p
