"""Adam and AdamW: momentum on the gradient and per-parameter step sizes from its squares."""

import math
from typing import Any

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, check_betas, reject_flags
from soma.optim._moments import average_, average_square_, descend_ratio_, root_plus_eps
from soma.optim.optimizer import hyper
from soma.tensor import Tensor

__all__ = ["Adam", "AdamW"]


class Adam(ElementwiseOptimizer):
    r"""Adam (Kingma & Ba; notes 002), PyTorch's algorithm:

    .. code-block:: text

        t ← t + 1
        g ← ∇E(θ)  (+ λθ if weight_decay λ; AdamW instead decays θ ← θ(1 - ηλ))
        m ← β₁m + (1 - β₁)g                  (first moment)
        v ← β₂v + (1 - β₂)g²                 (second moment)
        v̂ ← max(v̂, v) if amsgrad else v
        θ ← θ - (η / (1 - β₁ᵗ)) · m / (√v̂ / √(1 - β₂ᵗ) + ε)

    The notes write ε inside the square root, √(v̂ + ε); PyTorch (and soma) add it
    outside. With the defaults the first step moves each parameter by about η·sign(g).

    Args:
        params: parameters or parameter groups.
        lr: η (1e-3).
        betas: (β₁, β₂) = (0.9, 0.999), each in [0, 1).
        eps: ε (1e-8).
        weight_decay: λ (0).
        amsgrad: use the running maximum of v (False).
        maximize: ascend instead of descend.
        foreach, fused, capturable, differentiable: PyTorch's implementation switches; only the defaults.
    """

    _decoupled = False

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        name = type(self).__name__
        reject_flags(name, foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused)
        check_betas(name, lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _hypers(self, group):
        beta1, beta2 = (b._array.item() if isinstance(b, Tensor) else b for b in group["betas"])
        return dict(lr=hyper(group, "lr"), eps=hyper(group, "eps"), decay=hyper(group, "weight_decay"),
                    amsgrad=hyper(group, "amsgrad"), beta1=beta1, beta2=beta2)

    def _init_state(self, p, hypers):
        state = {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        if hypers["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        return state

    def _update(self, p, g, state, hypers):
        lr, decay, beta1, beta2, t = hypers["lr"], hypers["decay"], hypers["beta1"], hypers["beta2"], state["step"]
        if decay:
            if self._decoupled:
                p *= 1 - lr * decay
            else:
                g = g + decay * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        average_(m, g, beta1)
        average_square_(v, g, beta2)
        if hypers["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denominator = root_plus_eps(v, hypers["eps"], correction=math.sqrt(1 - beta2**t))
        descend_ratio_(p, m, denominator, lr / (1 - beta1**t))


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ(1 - ηλ) before the Adam step,
    instead of adding λθ to the gradient. Default ``weight_decay`` is 1e-2.
    """

    _decoupled = True

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, **kwargs)
