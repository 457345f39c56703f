"""How a report writes an elementwise activation and its derivative.

The numbers never come from here: a neuron's output is the tensor the module returned,
and its slope ``dout/dnet`` is what soma's autograd gives for ``f`` at ``net``
(:func:`local_derivative`). This table only supplies the words: ``σ(net)`` and
``out·(1 − out)`` for the sigmoid, as notes 004 writes them.
"""

from dataclasses import dataclass

import numpy as np

from soma.tensor import Tensor

__all__ = ["Activation", "describe", "is_elementwise", "local_derivative"]


@dataclass(frozen=True)
class Activation:
    """The written form of ``out = f(net)`` and of ``dout/dnet``.

    ``derivative_numbers`` says which quantities fill the template's ``{}``
    (``"out"`` or ``"net"``), e.g. ``"{} × (1 − {})"`` with ``("out", "out")``.
    """

    function: str  # "σ({net})"
    derivative: str  # "{out} · (1 − {out})"
    derivative_numbers: str | None = None
    derivative_uses: tuple = ()


IDENTITY = Activation("{net}", "1")

_TABLE = {
    "Sigmoid": Activation("σ({net})", "{out} · (1 − {out})", "{} × (1 − {})", ("out", "out")),
    "Tanh": Activation("tanh({net})", "1 − {out}²", "1 − {}²", ("out",)),
    "ReLU": Activation("max(0, {net})", "1 if {net} > 0 else 0"),
    "ReLU6": Activation("min(max(0, {net}), 6)", "1 if 0 < {net} < 6 else 0"),
    "LeakyReLU": Activation("LeakyReLU({net})", "1 if {net} > 0 else negative_slope"),
    "Step": Activation("step({net})", "0 (the step is flat on both sides of 0)"),
    "Identity": IDENTITY,
    "Softplus": Activation("ln(1 + e^{net})", "σ({net})"),
    "ELU": Activation("ELU({net})", "1 if {net} > 0 else {out} + α"),
    "SiLU": Activation("{net} · σ({net})", "σ({net}) · (1 + {net} · (1 − σ({net})))"),
    "Swish": Activation("{net} · σ(β{net})", "f′({net})"),
}

# Parameter-free modules that act on each number alone; anything else is explained at the
# layer level (Softmax mixes a row, Dropout is random, PReLU has a weight of its own).
ELEMENTWISE = frozenset(_TABLE) | {
    "CELU",
    "SELU",
    "GELU",
    "Mish",
    "Hardtanh",
    "Hardsigmoid",
    "Hardswish",
    "LogSigmoid",
    "Softsign",
    "Tanhshrink",
    "Threshold",
}


def is_elementwise(module):
    return type(module).__name__ in ELEMENTWISE and not list(module.parameters())


def describe(module):
    """The :class:`Activation` wording for ``module`` (``None`` means the identity)."""
    if module is None:
        return IDENTITY
    name = type(module).__name__
    return _TABLE.get(name, Activation(f"{name}({{net}})", f"{name}′({{net}})"))


def local_derivative(module, net):
    """``f′(net)`` for every entry of ``net``, from soma's autograd (``None`` → ones)."""
    if module is None:
        return np.ones_like(net._array)
    leaf = Tensor(net._array.copy(), requires_grad=True)
    module(leaf).sum().backward()
    return leaf.grad._array if leaf.grad is not None else np.zeros_like(net._array)
