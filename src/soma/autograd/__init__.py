"""Reverse-mode automatic differentiation (define-by-run).

``Function`` defines an op (forward and backward on arrays); ``backward`` walks the
recorded graph (``create_graph=True`` records the walk itself, for higher-order
gradients); ``gradcheck``/``gradgradcheck`` verify first and second derivatives against
finite differences; ``functional`` has jacobian, hessian, vjp, jvp, hvp;
``no_grad`` / ``enable_grad`` switch recording; ``detect_anomaly`` names the first op
that makes NaN or Inf.
"""

from soma.autograd import functional, graph
from soma.autograd.engine import backward, grad
from soma.autograd.function import (
    Function,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from soma.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from soma.autograd.variable import Variable

__all__ = [
    "Function", "backward", "grad", "gradcheck", "gradgradcheck", "GradcheckError", "functional", "graph",
    "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled", "Variable",
]
