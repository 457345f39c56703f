"""RMSprop: divide the gradient by a running root-mean-square of recent gradients (notes 002)."""

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, check_nonnegative, reject_flags
from soma.optim._moments import average_, average_square_, descend_ratio_, root_plus_eps
from soma.optim.optimizer import hyper
from soma.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(ElementwiseOptimizer):
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
        check_nonnegative("RMSprop", lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _hypers(self, group):
        return dict(lr=hyper(group, "lr"), alpha=hyper(group, "alpha"), eps=hyper(group, "eps"),
                    decay=hyper(group, "weight_decay"), momentum=hyper(group, "momentum"), centered=group["centered"])

    def _init_state(self, p, hypers):
        state = {"step": 0, "square_avg": np.zeros_like(p)}
        if hypers["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p)
        if hypers["centered"]:
            state["grad_avg"] = np.zeros_like(p)
        return state

    def _update(self, p, g, state, hypers):
        lr, alpha = hypers["lr"], hypers["alpha"]
        if hypers["decay"]:
            g = g + hypers["decay"] * p
        v = state["square_avg"]
        average_square_(v, g, alpha)
        if hypers["centered"]:
            mean = state["grad_avg"]
            average_(mean, g, alpha)
            v = v - mean * mean
        avg = root_plus_eps(v, hypers["eps"])
        if hypers["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= hypers["momentum"]
            buf += g / avg
            p -= lr * buf
        else:
            descend_ratio_(p, g, avg, lr)
