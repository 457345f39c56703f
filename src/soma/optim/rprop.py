"""Rprop: per-weight step sizes that grow while the gradient keeps its sign and shrink when it flips."""

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, lr_of, reject_flags
from soma.optim.optimizer import check_range
from soma.tensor import Tensor

__all__ = ["Rprop"]


class Rprop(ElementwiseOptimizer):
    r"""Resilient backpropagation (Riedmiller & Braun), PyTorch's variant (Rprop⁻ without weight-backtracking):

    .. code-block:: text

        s ← sign(gₜ · gₜ₋₁)
        Δ ← clamp(Δ · (η₊ if s > 0, η₋ if s < 0, 1 if s = 0), Δ_min, Δ_max)
        gₜ ← 0 where s < 0                       (a flipped sign skips this step and the next comparison)
        θ ← θ - sign(gₜ) · Δ

    Only the sign of the gradient is used; every Δ starts at ``lr``.

    Args:
        params: parameters or parameter groups.
        lr: the initial step size Δ₀ (1e-2).
        etas: (η₋, η₊) = (0.5, 1.2), with 0 < η₋ < 1 < η₊.
        step_sizes: (Δ_min, Δ_max) = (1e-6, 50).
        maximize: ascend instead of descend.
        foreach, capturable, differentiable: PyTorch's implementation switches; only the defaults.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_range("learning rate", lr, owner="Rprop")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Rprop: invalid eta values {etas[0]}, {etas[1]}: expected 0 < etaminus < 1 < etaplus")
        reject_flags("Rprop", foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": 0, "prev": np.zeros_like(p), "step_size": np.full_like(p, lr_of(group))}

    def _update(self, p, g, state, group):
        (eta_minus, eta_plus), (low, high) = group["etas"], group["step_sizes"]
        prev, size = state["prev"], state["step_size"]
        sign = np.sign(g * prev)
        flipped = sign < 0
        factor = np.where(sign > 0, eta_plus, np.where(flipped, eta_minus, 1.0)).astype(p.dtype, copy=False)
        size *= factor
        np.clip(size, low, high, out=size)
        g = np.where(flipped, 0, g).astype(p.dtype, copy=False)
        p -= np.sign(g) * size
        prev[...] = g
