"""NAdam: Adam with Nesterov momentum and a warming momentum schedule."""

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, check_betas, decay_gradient, lr_of, reject_flags
from soma.optim._moments import as_float32, average_square_, lerp_
from soma.optim.optimizer import check_range
from soma.tensor import Tensor

__all__ = ["NAdam"]


class NAdam(ElementwiseOptimizer):
    r"""NAdam (Dozat), PyTorch's algorithm:

    .. code-block:: text

        t ← t + 1
        g ← ∇E(θ)  (+ λθ, or θ ← θ(1 - ηλ) if decoupled_weight_decay)
        μₜ ← β₁(1 - ½·0.96^(tψ))       μₜ₊₁ ← β₁(1 - ½·0.96^((t+1)ψ))      (ψ = momentum_decay)
        m ← β₁m + (1 - β₁)g              v ← β₂v + (1 - β₂)g²
        d ← √(v / (1 - β₂ᵗ)) + ε
        θ ← θ - η(1 - μₜ)/(1 - Πᵢ≤ₜ μᵢ) · g/d - ημₜ₊₁/(1 - Πᵢ≤ₜ₊₁ μᵢ) · m/d

    The running product Π μᵢ is kept in float32, as PyTorch keeps it.

    Args:
        params, betas, eps, weight_decay, maximize: as for :class:`~soma.optim.Adam`.
        lr: η (2e-3).
        momentum_decay: ψ (4e-3).
        decoupled_weight_decay: decay θ directly, as AdamW does (False).
        foreach, capturable, differentiable: PyTorch's implementation switches; only the defaults.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_betas("NAdam", lr, betas, eps, weight_decay)
        check_range("momentum_decay value", momentum_decay, owner="NAdam")
        reject_flags("NAdam", foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": 0, "mu_product": 1.0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def _update(self, p, g, state, group):
        lr, (beta1, beta2), eps, psi = lr_of(group), group["betas"], group["eps"], group["momentum_decay"]
        t = state["step"]
        g = decay_gradient(p, g, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        product = state["mu_product"] = as_float32(np.float32(state["mu_product"]) * np.float32(mu))
        m, v = state["exp_avg"], state["exp_avg_sq"]
        lerp_(m, g, 1 - beta1)
        average_square_(v, g, beta2)
        denom = np.sqrt(v / (1 - beta2**t))
        denom += eps
        p += (-lr * (1.0 - mu) / (1.0 - product)) * (g / denom)
        p += (-lr * mu_next / (1.0 - product * mu_next)) * (m / denom)
