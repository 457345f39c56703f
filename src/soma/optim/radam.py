"""RAdam: Adam whose adaptive step is switched on only once the variance of its estimate is bounded."""

import math

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, check_betas, decay_gradient, lr_of, reject_flags
from soma.optim._moments import average_square_, lerp_
from soma.tensor import Tensor

__all__ = ["RAdam"]


class RAdam(ElementwiseOptimizer):
    r"""RAdam (Liu et al.), PyTorch's algorithm:

    .. code-block:: text

        t ← t + 1
        g ← ∇E(θ)  (+ λθ, or θ ← θ(1 - ηλ) if decoupled_weight_decay)
        m ← β₁m + (1 - β₁)g              v ← β₂v + (1 - β₂)g²
        m̂ ← m / (1 - β₁ᵗ)
        ρ∞ ← 2/(1 - β₂) - 1              ρₜ ← ρ∞ - 2tβ₂ᵗ/(1 - β₂ᵗ)
        if ρₜ > 5:  r ← √((ρₜ - 4)(ρₜ - 2)ρ∞ / ((ρ∞ - 4)(ρ∞ - 2)ρₜ))
                    θ ← θ - η m̂ · √(1 - β₂ᵗ)/(√v + ε) · r
        else:       θ ← θ - η m̂                       (plain momentum SGD while warming up)

    Args:
        params, betas, eps, weight_decay, maximize: as for :class:`~soma.optim.Adam`.
        lr: η (1e-3).
        decoupled_weight_decay: decay θ directly, as AdamW does (False).
        foreach, capturable, differentiable: PyTorch's implementation switches; only the defaults.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_betas("RAdam", lr, betas, eps, weight_decay)
        reject_flags("RAdam", foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def _update(self, p, g, state, group):
        lr, (beta1, beta2), eps = lr_of(group), group["betas"], group["eps"]
        t = state["step"]
        g = decay_gradient(p, g, group)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        lerp_(m, g, 1 - beta1)
        average_square_(v, g, beta2)
        correction2 = 1 - beta2**t
        step = (m / (1 - beta1**t)) * lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            step *= correction2**0.5 / (np.sqrt(v) + eps)
            step *= rect
        p -= step
