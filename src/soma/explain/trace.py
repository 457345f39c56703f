"""Run one training step on a copy of a model and keep every number it produced.

``trace_step`` deep-copies the model, puts a forward hook on every leaf module (one
without children), runs the forward pass, the loss, ``backward()`` and a plain SGD
update ``p ← p − lr·∂E/∂p``. Each hooked output calls ``retain_grad()``, so after
backward every layer's output carries ``∂E/∂output``. Nothing here computes a number
of its own: the reports read the tensors and gradients soma's autograd left behind,
so what they print is exactly what training computes.
"""

import copy
from dataclasses import dataclass, field

import numpy as np

from soma.autograd.function import mark_dirty, no_grad
from soma.tensor import Tensor

__all__ = ["Call", "Trace", "trace_step", "as_tensor"]


def as_tensor(value, dtype, integers_too=True):
    """A soma tensor from a tensor, array or nested list, in the model's float ``dtype``.

    Integer data becomes ``dtype`` too (an input written ``(1, 0, 1)``), unless
    ``integers_too`` is False (class-index targets stay integers).
    """
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    if array.dtype.kind == "f" or (integers_too and array.dtype.kind in "iub"):
        array = array.astype(dtype)
    return Tensor(array)


@dataclass
class Call:
    """One call of a leaf module during the forward pass."""

    name: str  # its name in model.named_modules() ("0", "features.3", ...)
    module: object
    inputs: tuple  # the tensors it received
    output: Tensor  # what it returned (``output.grad`` = ∂E/∂output after backward)


@dataclass
class Trace:
    """Everything one step computed; see :func:`trace_step`."""

    model: object  # the copy the step ran on (its parameters hold the updated values)
    inputs: Tensor
    targets: object
    output: Tensor
    loss: Tensor
    loss_fn: object
    lr: float
    calls: list = field(default_factory=list)
    before: dict = field(default_factory=dict)  # parameter name → array before the update
    grads: dict = field(default_factory=dict)  # parameter name → ∂E/∂p (None if frozen)
    after: dict = field(default_factory=dict)  # parameter name → array after the update

    def call_of(self, tensor):
        """The call whose output is ``tensor`` (identity, not equality), or None."""
        for call in self.calls:
            if call.output is tensor:
                return call
        return None

    def consumers(self, tensor):
        return [call for call in self.calls if any(t is tensor for t in call.inputs)]


def _model_dtype(model):
    for parameter in model.parameters():
        return parameter._array.dtype
    return np.dtype(np.float32)


def trace_step(model, inputs, targets, loss_fn, lr, update=True):
    """Forward, loss, backward and (if ``update``) one SGD step on a deep copy of ``model``."""
    work = copy.deepcopy(model)
    dtype = _model_dtype(work)
    inputs = as_tensor(inputs, dtype)
    if targets is not None:
        targets = as_tensor(targets, dtype, integers_too=False)
    trace = Trace(work, inputs, targets, None, None, loss_fn, lr)
    handles = []

    def record(name):
        def hook(module, args, output):
            if isinstance(output, Tensor):
                if output.requires_grad:
                    output.retain_grad()
                trace.calls.append(
                    Call(name, module, tuple(a for a in args if isinstance(a, Tensor)), output)
                )

        return hook

    for name, module in work.named_modules():
        if not list(
            module.children()
        ):  # a leaf: Linear, Sigmoid, Conv2d, ... (or the model itself)
            handles.append(module.register_forward_hook(record(name)))
    try:
        trace.before = {n: p._array.copy() for n, p in work.named_parameters()}
        work.zero_grad()
        trace.output = work(inputs)
        if loss_fn is not None and targets is not None:
            trace.loss = loss_fn(trace.output, targets)
            if trace.loss.requires_grad:
                trace.loss.backward()
        trace.grads = {
            n: (None if p.grad is None else p.grad._array.copy()) for n, p in work.named_parameters()
        }
        if update:
            with no_grad():
                for _n, p in work.named_parameters():
                    if p.grad is not None:
                        p._array = (
                            p._array - lr * p.grad._array
                        )  # plain SGD, as torch.optim.SGD(lr) computes it
        trace.after = {n: p._array.copy() for n, p in work.named_parameters()}
    finally:
        for handle in handles:
            handle.remove()
    return trace


def copy_parameters_into(model, trace):
    """Write the updated parameters of ``trace.model`` into ``model`` in place (``apply=True``)."""
    with no_grad():
        for name, parameter in model.named_parameters():
            new = trace.after[name]
            parameter._array[...] = new
            mark_dirty(parameter)
