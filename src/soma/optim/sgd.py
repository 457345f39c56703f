"""SGD: gradient descent with optional momentum, dampening, Nesterov momentum and weight decay."""

from soma.nn.common_types import ParamsT
from soma.optim._functional import ElementwiseOptimizer, check_nonnegative, reject_flags
from soma.optim.optimizer import hyper, required
from soma.tensor import Tensor

__all__ = ["SGD"]


class SGD(ElementwiseOptimizer):
    r"""Stochastic gradient descent (notes 002, 004), PyTorch's algorithm:

    .. code-block:: text

        g ← ∇E(θ)                      (-∇E if maximize)
        if weight_decay ≠ 0:  g ← g + λθ
        if momentum μ ≠ 0:
            b ← g                       on the first step
            b ← μb + (1 - τ)g           afterwards (τ = dampening)
            g ← g + μb if nesterov else b
        θ ← θ - ηg

    With momentum this is the notes' v = γv + η∇E, θ ← θ - v (the same iterates, with
    η factored out of v). Batch, mini-batch and stochastic gradient descent differ
    only in how many samples the gradient was averaged over.

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (1e-3).
        momentum: μ (0).
        dampening: τ (0).
        weight_decay: λ, an L2 penalty ½λ‖θ‖² added to the loss (0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.
        foreach, fused, differentiable: PyTorch's implementation switches; only the defaults.

    Example::

        >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        reject_flags("SGD", foreach=foreach, differentiable=differentiable, fused=fused)
        if lr is not required:
            check_nonnegative("SGD", lr=lr)
        check_nonnegative("SGD", momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _hypers(self, group):
        return dict(lr=hyper(group, "lr"), momentum=hyper(group, "momentum"), decay=hyper(group, "weight_decay"),
                    dampening=hyper(group, "dampening"), nesterov=group["nesterov"])

    def _state_of(self, param, hypers):
        """PyTorch's SGD keeps state (the momentum buffer) only with momentum, and counts no steps."""
        return self.state[param] if hypers["momentum"] else None

    def _update(self, p, g, state, hypers):
        if hypers["decay"]:
            g = g + hypers["decay"] * p
        if state is not None:
            momentum, dampening = hypers["momentum"], hypers["dampening"]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.astype(p.dtype, copy=True)
            else:
                buf *= momentum
                buf += g if dampening == 0 else (1 - dampening) * g
            g = g + momentum * buf if hypers["nesterov"] else buf
        p -= hypers["lr"] * g
