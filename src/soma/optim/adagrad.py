"""Adagrad: each parameter's step shrinks with the sum of its squared gradients (notes 002)."""

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, check_nonnegative, reject_flags
from soma.optim._moments import descend_ratio_, root_plus_eps
from soma.optim.optimizer import hyper
from soma.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(ElementwiseOptimizer):
    r"""Adagrad (Duchi et al.; notes 002), PyTorch's algorithm:

    .. code-block:: text

        t ← t + 1
        g ← ∇E(θ)  (+ λθ if weight_decay)
        η_t ← η / (1 + (t - 1)·lr_decay)
        G ← G + g²                          (G starts at initial_accumulator_value)
        θ ← θ - η_t · g / (√G + ε)

    The notes' example (η = 0.1, g = (0.2, -0.4, 0.1) on the first step) gives
    θ - (0.1, -0.1, 0.1): each parameter moves by about η. The notes put ε inside
    the root, √(G + ε); PyTorch (and soma) add it outside, with ε = 1e-10.

    Args:
        lr: η (1e-2). lr_decay: (0). weight_decay: λ (0).
        initial_accumulator_value: starting G (0). eps: ε (1e-10). maximize: (False).
        foreach, fused, differentiable: PyTorch's implementation switches; only the defaults.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        reject_flags("Adagrad", foreach=foreach, differentiable=differentiable, fused=fused)
        check_nonnegative("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch creates Adagrad's state eagerly
            for param in group["params"]:
                self.state[param] = {
                    "step": 0,
                    "sum": np.full_like(param._array, hyper(group, "initial_accumulator_value")),
                }

    def _hypers(self, group):
        return dict(lr=hyper(group, "lr"), decay=hyper(group, "weight_decay"), eps=hyper(group, "eps"),
                    lr_decay=hyper(group, "lr_decay"), initial=hyper(group, "initial_accumulator_value"))

    def _init_state(self, p, hypers):  # for a group added after construction
        return {"step": 0, "sum": np.full_like(p, hypers["initial"])}

    def _update(self, p, g, state, hypers):
        if hypers["decay"]:
            g = g + hypers["decay"] * p
        clr = hypers["lr"] / (1 + (state["step"] - 1) * hypers["lr_decay"])
        total = state["sum"]
        total += g * g
        descend_ratio_(p, g, root_plus_eps(total, hypers["eps"]), clr)
