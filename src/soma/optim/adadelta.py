"""Adadelta: step sizes from the ratio of running RMS of updates to running RMS of gradients."""

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, decay_gradient, lr_of, reject_flags
from soma.optim._moments import average_square_
from soma.optim.optimizer import check_range
from soma.tensor import Tensor

__all__ = ["Adadelta"]


class Adadelta(ElementwiseOptimizer):
    r"""Adadelta (Zeiler), PyTorch's algorithm:

    .. code-block:: text

        g ← ∇E(θ)  (+ λθ if weight_decay λ)
        v ← ρv + (1 - ρ)g²                       (running mean of squared gradients)
        Δ ← √(u + ε) / √(v + ε) · g              (the unit-correcting ratio)
        u ← ρu + (1 - ρ)Δ²                       (running mean of squared updates)
        θ ← θ - ηΔ

    Args:
        params: parameters or parameter groups.
        lr: η, a factor on Δ (1.0).
        rho: ρ, in [0, 1] (0.9).
        eps: ε (1e-6).
        weight_decay: λ (0).
        maximize: ascend instead of descend.
        foreach, capturable, differentiable: PyTorch's implementation switches; only the defaults.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_range("learning rate", lr, owner="Adadelta")
        check_range("rho value", rho, 0.0, 1.0, high_open=False, owner="Adadelta")
        check_range("epsilon value", eps, owner="Adadelta")
        check_range("weight_decay value", weight_decay, owner="Adadelta")
        reject_flags("Adadelta", foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": 0, "square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)}

    def _update(self, p, g, state, group):
        rho, eps = group["rho"], group["eps"]
        g = decay_gradient(p, g, group)
        v, u = state["square_avg"], state["acc_delta"]
        average_square_(v, g, rho)
        delta = np.sqrt(u + eps)
        delta /= np.sqrt(v + eps)
        delta *= g
        average_square_(u, delta, rho)
        p -= lr_of(group) * delta
