"""Adam and AdamW: momentum on the gradient and per-parameter step sizes from its squares."""

import math
from typing import Any

import numpy as np

from soma.autograd.function import mark_dirty
from soma.nn.common_types import LossClosure, ParamsT
from soma.optim._functional import reject_flags
from soma.optim.optimizer import Optimizer, check_range, grads_of, hyper
from soma.tensor import Tensor

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
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
        check_range("learning rate", lr, owner=name)
        check_range("epsilon value", eps, owner=name)
        check_range("beta parameter at index 0", betas[0], 0.0, 1.0, owner=name)
        check_range("beta parameter at index 1", betas[1], 0.0, 1.0, owner=name)
        check_range("weight_decay value", weight_decay, owner=name)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def step(self, closure: LossClosure | None = None) -> Any:
        loss = self._closure_loss(closure)
        updated = []
        for group in self.param_groups:
            lr, eps, decay, amsgrad = (hyper(group, k) for k in ("lr", "eps", "weight_decay", "amsgrad"))
            beta1, beta2 = (b._array.item() if isinstance(b, Tensor) else b for b in group["betas"])
            for param, g in grads_of(group):
                p = param._array
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(p)
                    state["exp_avg_sq"] = np.zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = np.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                if decay:
                    if self._decoupled:
                        p *= 1 - lr * decay
                    else:
                        g = g + decay * p
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * (g * g)
                if amsgrad:
                    np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                    v = state["max_exp_avg_sq"]
                step_size = lr / (1 - beta1**t)
                denom = np.sqrt(v)
                denom /= math.sqrt(1 - beta2**t)
                denom += eps
                np.divide(m, denom, out=denom)
                denom *= step_size
                p -= denom
                updated.append(param)
        mark_dirty(*updated)
        return loss


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ(1 - ηλ) before the Adam step,
    instead of adding λθ to the gradient. Default ``weight_decay`` is 1e-2.
    """

    _decoupled = True

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, **kwargs)
