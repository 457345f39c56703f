"""Adafactor: Adam-like per-weight step sizes from a second moment stored as row and column factors."""

import numpy as np

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, reject_flags
from soma.optim._moments import lerp_
from soma.optim.optimizer import hyper
from soma.tensor import Tensor

__all__ = ["Adafactor"]


class Adafactor(ElementwiseOptimizer):
    r"""Adafactor (Shazeer & Stern, 2018), PyTorch's algorithm (no first moment):

    .. code-block:: text

        t ← t + 1
        g ← ∇E(θ)                                     (-∇E(θ) under maximize)
        β̂₂ ← 1 - t^τ                                  (τ = beta2_decay ≤ 0, so 1 - β̂₂ = t^τ)
        ρ ← min(η, 1/√t)
        α ← max(ε₂, ‖θ‖₂ / √numel(θ)) · ρ             (a step relative to the parameter's own scale)
        θ ← θ(1 - ηλ)                                 (weight decay λ)
        for a matrix (or a stack of them, factored over the last two dims):
            R ← lerp(R, mean_cols(g²), t^τ)           (one number per row)
            C ← lerp(C, mean_rows(g²), t^τ)           (one number per column)
            V̂ ← R·C / max(mean(R), ε₁)                (the rank-1 estimate of E[g²])
        for a vector (or a scalar):
            V̂ ← lerp(V̂, g², t^τ)
        u ← g / √max(V̂, ε₁²)
        θ ← θ - α / max(1, ‖u‖₂ / (√numel(u)·d)) · u  (the update's RMS clipped at d)

    A ``m × n`` weight keeps ``m + n`` numbers of state instead of Adam's ``2mn``.

    Args:
        params: parameters or parameter groups.
        lr: η, which caps the relative step ρ (1e-2).
        beta2_decay: τ ≤ 0 (-0.8).
        eps: (ε₁, ε₂) = (None, 1e-3); ε₁ ``None`` is the machine epsilon of the parameter's dtype.
        d: the clipping threshold on the update's RMS, ≥ 1 (1.0).
        weight_decay: λ, decoupled (0.0).
        foreach: PyTorch's implementation switch; only the default (or False).
        maximize: ascend instead of descend.

    State (PyTorch's keys): ``step``; ``row_var`` (shape ``[..., m, 1]``) and ``col_var``
    (``[..., 1, n]``) for a parameter of 2 or more dims, ``variance`` for one of fewer.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        checks = [(0.0 <= hyper({"lr": lr}, "lr"), f"Learning rate should be >= 0 but is: {lr}"),
                  (0.0 >= beta2_decay, f"beta2_decay should be <= 0 but is: {beta2_decay}"),
                  (eps[0] is None or 0.0 <= eps[0], f"epsilon1 should be >= 0 but is: {eps[0]}"),
                  (0.0 <= eps[1], f"epsilon2 should be >= 0 but is: {eps[1]}"),
                  (1.0 <= d, f"Clipping threshold d should be >= 1 but is: {d}"),
                  (0.0 <= weight_decay, f"weight_decay should be >= 0 but is: {weight_decay}")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        reject_flags("Adafactor", foreach=foreach)
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        if p.dtype.kind == "c":
            raise RuntimeError("Adafactor does not support complex parameters")
        if p.ndim > 1:
            row_shape, col_shape = list(p.shape), list(p.shape)
            row_shape[-1], col_shape[-2] = 1, 1
            return {"step": 0, "row_var": np.zeros(row_shape, p.dtype), "col_var": np.zeros(col_shape, p.dtype)}
        return {"step": 0, "variance": np.zeros_like(p)}

    def _update(self, p, g, state, group):
        lr, decay, tau, d = hyper(group, "lr"), group["weight_decay"], group["beta2_decay"], group["d"]
        eps1, eps2 = group["eps"]
        eps1 = float(np.finfo(p.dtype).eps) if eps1 is None else eps1
        t = float(state["step"])
        weight = t**tau
        alpha = max(eps2, float(np.linalg.norm(p.ravel())) / p.size**0.5) * min(lr, 1 / t**0.5)
        if decay != 0:
            p *= 1 - lr * decay
        square = g * g
        if p.ndim > 1:
            row, col = state["row_var"], state["col_var"]
            lerp_(row, square.mean(axis=-1, keepdims=True), weight)
            lerp_(col, square.mean(axis=-2, keepdims=True), weight)
            estimate = row @ col
            estimate /= np.maximum(row.mean(axis=-2, keepdims=True), eps1)
        else:
            estimate = lerp_(state["variance"], square, weight).copy()
        update = g / np.sqrt(np.maximum(estimate, eps1 * eps1))
        clip = max(1.0, float(np.linalg.norm(update.ravel())) / (update.size**0.5 * d))
        p -= (alpha / clip) * update
