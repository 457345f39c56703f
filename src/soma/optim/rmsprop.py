"""RMSprop: divide the gradient by a running root-mean-square of recent gradients (notes 002)."""

from typing import Any

import numpy as np

from soma.autograd.function import mark_dirty
from soma.nn.common_types import LossClosure, ParamsT
from soma.optim._functional import reject_flags
from soma.optim.optimizer import Optimizer, check_range, grads_of, hyper
from soma.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), PyTorch's algorithm:

    .. code-block:: text

        g ← ∇E(θ)  (+ λθ if weight_decay)
        v ← αv + (1 - α)g²
        if centered:  ḡ ← αḡ + (1 - α)g;   s ← √(v - ḡ²) + ε
        else:         s ← √v + ε
        if momentum μ > 0:  b ← μb + g/s;  θ ← θ - ηb
        else:               θ ← θ - ηg/s

    Args:
        lr: η (1e-2). alpha: α (0.99). eps: ε (1e-8). weight_decay: λ (0).
        momentum: μ (0). centered: subtract the squared mean gradient (False). maximize: (False).
        foreach, capturable, differentiable: PyTorch's implementation switches; only the defaults.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        reject_flags("RMSprop", foreach=foreach, capturable=capturable, differentiable=differentiable)
        check_range("learning rate", lr, owner="RMSprop")
        check_range("epsilon value", eps, owner="RMSprop")
        check_range("momentum value", momentum, owner="RMSprop")
        check_range("weight_decay value", weight_decay, owner="RMSprop")
        check_range("alpha value", alpha, owner="RMSprop")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: LossClosure | None = None) -> Any:
        loss = self._closure_loss(closure)
        updated = []
        for group in self.param_groups:
            lr, alpha, eps = hyper(group, "lr"), hyper(group, "alpha"), hyper(group, "eps")
            decay, momentum, centered = hyper(group, "weight_decay"), hyper(group, "momentum"), group["centered"]
            for param, g in grads_of(group):
                p = param._array
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(p)
                    if centered:
                        state["grad_avg"] = np.zeros_like(p)
                state["step"] += 1
                if decay:
                    g = g + decay * p
                v = state["square_avg"]
                v *= alpha
                v += (1 - alpha) * (g * g)
                if centered:
                    mean = state["grad_avg"]
                    mean *= alpha
                    mean += (1 - alpha) * g
                    avg = np.sqrt(v - mean * mean)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += g / avg
                    p -= lr * buf
                else:
                    np.divide(g, avg, out=avg)
                    avg *= lr
                    p -= avg
                updated.append(param)
        mark_dirty(*updated)
        return loss
