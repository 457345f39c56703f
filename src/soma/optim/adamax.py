"""Adamax: Adam with the infinity norm in place of the second moment."""

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, check_betas, decay_gradient, lr_of, reject_flags
from soma.optim._moments import lerp_
from soma.tensor import Tensor

__all__ = ["Adamax"]


class Adamax(ElementwiseOptimizer):
    r"""Adamax (Kingma & Ba, section 7), PyTorch's algorithm:

    .. code-block:: text

        t ← t + 1
        g ← ∇E(θ)  (+ λθ if weight_decay λ)
        m ← β₁m + (1 - β₁)g                      (first moment)
        u ← max(β₂u, |g| + ε)                    (exponentially weighted infinity norm)
        θ ← θ - (η / (1 - β₁ᵗ)) · m / u

    Args:
        params, betas, eps, weight_decay, maximize: as for :class:`~soma.optim.Adam`.
        lr: η (2e-3).
        foreach, capturable, differentiable: PyTorch's implementation switches; only the defaults.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_betas("Adamax", lr, betas, eps, weight_decay)
        reject_flags("Adamax", foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": 0, "exp_avg": np.zeros_like(p), "exp_inf": np.zeros_like(p)}

    def _update(self, p, g, state, group):
        (beta1, beta2), eps = group["betas"], group["eps"]
        g = decay_gradient(p, g, group)
        m, u = state["exp_avg"], state["exp_inf"]
        lerp_(m, g, 1 - beta1)
        u *= beta2
        np.maximum(u, np.abs(g) + eps, out=u)
        step_size = lr_of(group) / (1 - beta1 ** state["step"])
        p -= step_size * (m / u)
