"""What the optimizers share: the per-parameter step loop, range checks, unsupported flags, weight decay.

The arithmetic of the updates themselves (running averages, √v + ε, PyTorch's lerp) is in ``_moments``."""

from typing import Any

from soma.autograd.function import mark_dirty
from soma.nn.common_types import LossClosure
from soma.optim.optimizer import Optimizer, check_range, grads_of

__all__ = ["reject_flags", "lr_of", "ElementwiseOptimizer", "decay_gradient", "check_nonnegative", "check_betas"]


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


_RANGE_NAMES = {"lr": "learning rate", "eps": "epsilon value"}


def check_nonnegative(owner, **values):
    """``check_range`` of each hyper-parameter against [0, ∞), in the order given, under PyTorch's names
    ("learning rate", "epsilon value", "<name> value")."""
    for key, value in values.items():
        check_range(_RANGE_NAMES.get(key, f"{key} value"), value, owner=owner)


def check_betas(owner, lr, betas, eps, weight_decay):
    """The range checks Adam's family shares: η ≥ 0, ε ≥ 0, β₁ and β₂ in [0, 1), λ ≥ 0."""
    check_nonnegative(owner, lr=lr, eps=eps)
    check_range("beta parameter at index 0", betas[0], 0.0, 1.0, owner=owner)
    check_range("beta parameter at index 1", betas[1], 0.0, 1.0, owner=owner)
    check_nonnegative(owner, weight_decay=weight_decay)


def lr_of(group):
    """The group's learning rate as a Python float (it may be a 0-d tensor)."""
    return float(group["lr"])


class ElementwiseOptimizer(Optimizer):
    """An optimizer whose update of each parameter depends only on that parameter's gradient and state.

    Subclasses give ``_init_state(p, hypers)`` (the state dict of a fresh parameter, ``step`` included)
    and ``_update(p, g, state, hypers)`` (changes the array ``p`` in place; ``g`` is already negated
    under ``maximize``). ``hypers`` is what ``_hypers(group)`` makes of a parameter group once per step
    (the group itself unless a subclass reads its numbers out first). ``step`` counts the updates;
    PyTorch saves it as a float32 0-d tensor. ``_state_of`` is where a subclass whose state is not
    per-step (SGD's) changes that.
    """

    def step(self, closure: LossClosure | None = None) -> Any:
        loss = self._closure_loss(closure)
        updated = []
        for group in self.param_groups:
            hypers = self._hypers(group)
            for param, g in grads_of(group):
                self._update(param._array, g, self._state_of(param, hypers), hypers)
                updated.append(param)
        mark_dirty(*updated)
        return loss

    def _hypers(self, group):
        return group

    def _state_of(self, param, hypers):
        """The parameter's state, made by ``_init_state`` on its first update, its ``step`` counted."""
        state = self.state[param]
        if not state:
            state.update(self._init_state(param._array, hypers))
        state["step"] += 1
        return state

    def _init_state(self, p, hypers):
        raise NotImplementedError

    def _update(self, p, g, state, hypers):
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
