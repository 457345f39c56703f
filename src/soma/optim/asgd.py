"""ASGD: SGD with a decaying step and a running (Polyak-Ruppert) average of the iterates."""

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, decay_gradient, lr_of, reject_flags
from soma.optim._moments import as_float32
from soma.optim.optimizer import check_range
from soma.tensor import Tensor

__all__ = ["ASGD"]


class ASGD(ElementwiseOptimizer):
    r"""Averaged SGD (Polyak & Juditsky; Bottou's schedule), PyTorch's algorithm:

    .. code-block:: text

        t ← t + 1
        g ← ∇E(θ)  (+ λ_w θ if weight_decay λ_w)
        θ ← θ(1 - λη) - ηg                         (η: the current step size)
        θ̄ ← θ̄ + μ(θ - θ̄)   (θ̄ ← θ while μ = 1)      (the averaged iterate, state "ax")
        η ← η₀ / (1 + λη₀t)^α                      μ ← 1 / max(1, t - t₀)

    η and μ are kept as float32 scalars, as PyTorch keeps them. The average θ̄ is in
    ``optimizer.state[p]["ax"]``; it starts moving once t passes t₀.

    Args:
        params: parameters or parameter groups.
        lr: η₀ (1e-2).
        lambd: λ, the decay term (1e-4).
        alpha: α, the power of the step decay (0.75).
        t0: t₀, the step at which averaging starts (1e6).
        weight_decay: λ_w (0).
        maximize: ascend instead of descend.
        foreach, capturable, differentiable: PyTorch's implementation switches; only the defaults.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_range("learning rate", lr, owner="ASGD")
        check_range("weight_decay value", weight_decay, owner="ASGD")
        reject_flags("ASGD", foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": 0, "eta": as_float32(lr_of(group)), "mu": 1.0, "ax": np.zeros_like(p)}

    def _update(self, p, g, state, group):
        lr, lambd, t = lr_of(group), group["lambd"], state["step"]
        g = decay_gradient(p, g, group)
        eta, mu = float(state["eta"]), float(state["mu"])
        p *= 1 - lambd * eta
        p -= eta * g
        ax = state["ax"]
        if mu != 1:
            ax += (p - ax) * mu
        else:
            ax[...] = p
        state["eta"] = as_float32(lr / ((1 + lambd * lr * t) ** group["alpha"]))
        state["mu"] = as_float32(1 / max(1, t - group["t0"]))
