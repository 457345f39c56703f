"""``gradient_flow``: does the gradient reach the first layers, or vanish or explode on the way?

Backpropagation multiplies one factor per layer (notes 004, "Exploding Gradient
Problem and Vanishing Gradient Problem"): the gradient at layer 1 of an L-layer
network is a product of about L factors ``w · f′(net)``. When the factors are
below 1 the product shrinks geometrically (0.03 × 0.05 = 0.0015): the first layers
stop learning (vanishing gradients, typical of deep sigmoid/tanh stacks, since
σ′ ≤ 0.25). When they are above 1 it grows (100 × 500 = 50000) and training
diverges (exploding gradients). A ReLU unit whose input is negative for every
sample passes no gradient at all: it is "dead".

``gradient_flow`` trains a copy of the model for a few steps and records, per layer
and per step, the gradient norm and the weight norm, the fraction of dead ReLU units,
and warnings with these explanations.
"""

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from soma.explain.report import format_number
from soma.explain.trace import as_tensor

__all__ = ["GradientFlow", "gradient_flow", "batches", "require_matplotlib"]

VANISHING_EXPLANATION = (
    "backpropagation multiplies one factor w·f′(net) per layer, and with factors below 1 the "
    "product shrinks geometrically (notes 004: 0.03 × 0.05 = 0.0015); σ′ ≤ 0.25 makes deep "
    "sigmoid stacks the classic case. Remedies: ReLU-family activations, He/Xavier "
    "initialization, batch normalization, residual connections, fewer layers."
)
EXPLODING_EXPLANATION = (
    "backpropagation multiplies one factor w·f′(net) per layer, and with factors above 1 the "
    "product grows geometrically (notes 004: 100 × 500 = 50000), so updates overshoot and "
    "training diverges. Remedies: a smaller learning rate, gradient clipping "
    "(nn.utils.clip_grad_norm_), smaller initial weights, batch normalization."
)
DEAD_RELU_EXPLANATION = (
    "a ReLU whose input is negative for every sample outputs 0 and passes no gradient, so its "
    "weights never change again. Remedies: a smaller learning rate, LeakyReLU/ELU, He initialization."
)


def require_matplotlib():
    """Import matplotlib (the optional extra ``plot``) with a clear message when it is missing."""
    try:
        from matplotlib.figure import Figure  # a bare Figure: no pyplot, no GUI backend needed
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError('plotting needs matplotlib: pip install "soma[plot]"') from error
    return Figure


def batches(data, dtype):
    """Cycle over ``data``: an ``(inputs, targets)`` pair or an iterable of such pairs (a DataLoader)."""
    if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], tuple):
        pair = (as_tensor(data[0], dtype), as_tensor(data[1], dtype, integers_too=False))
        while True:
            yield pair
    while True:
        empty = True
        for inputs, targets in data:
            empty = False
            yield as_tensor(inputs, dtype), as_tensor(targets, dtype, integers_too=False)
        if empty:
            raise ValueError("gradient_flow/lr_range_test: the data yielded no batch")


@dataclass
class GradientFlow:
    """Per-layer gradient and weight norms over training steps, dead-ReLU fractions, warnings."""

    layers: list  # names of the parameters followed ("0.weight", "2.weight", ...), input side first
    grad_norms: dict = field(default_factory=dict)  # name → [‖dE/dW‖ at each step]
    weight_norms: dict = field(default_factory=dict)  # name → [‖W‖ at each step]
    dead_relu: dict = field(default_factory=dict)  # ReLU module name → [dead fraction at each step]
    losses: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def ratio(self):
        """Mean gradient norm of the first layer over that of the last (≪ 1: vanishing, ≫ 1: exploding)."""
        first, last = (
            np.mean(self.grad_norms[self.layers[0]]),
            np.mean(self.grad_norms[self.layers[-1]]),
        )
        return float(first / last) if last > 0 else math.inf

    @property
    def vanishing(self):
        return any(w.startswith("vanishing") for w in self.warnings)

    @property
    def exploding(self):
        return any(w.startswith("exploding") for w in self.warnings)

    def __str__(self):
        lines = [
            f"Gradient flow over {len(self.losses)} steps (input side first)",
            f"{'parameter':<24}{'mean ‖dE/dW‖':>16}{'mean ‖W‖':>14}{'‖dE/dW‖/‖W‖':>14}",
        ]
        for name in self.layers:
            g, w = np.mean(self.grad_norms[name]), np.mean(self.weight_norms[name])
            lines.append(
                f"{name:<24}{format_number(g, 4):>16}{format_number(w, 4):>14}"
                f"{format_number(g / w if w else math.inf, 4):>14}"
            )
        for name, fractions in self.dead_relu.items():
            lines.append(f"dead ReLU units in {name}: {format_number(100 * fractions[-1], 3)}%")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, path):
        """Save a log-scale plot of each layer's gradient norm over the steps (needs matplotlib)."""
        Figure = require_matplotlib()
        figure = Figure(figsize=(7, 4))
        axes = figure.add_subplot()
        for name in self.layers:
            axes.plot(np.maximum(self.grad_norms[name], 1e-30), label=name)
        axes.set(yscale="log", xlabel="step", ylabel="‖dE/dW‖₂", title="Gradient flow per layer")
        axes.legend(fontsize=8)
        figure.tight_layout()
        figure.savefig(str(path))
        return str(path)


def gradient_flow(
    model, loss_fn, data, steps=10, lr=0.01, optimizer=None, vanishing=1e-3, exploding=1e3
):
    """Train a copy of ``model`` for ``steps`` steps and report how the gradient flows through it.

    Args:
        model: the model (untouched: a deep copy is trained).
        loss_fn: ``loss_fn(output, targets)``.
        data: an ``(inputs, targets)`` pair or an iterable of pairs (e.g. a DataLoader).
        steps: number of training steps.
        lr: learning rate of the default optimizer, ``soma.optim.SGD``.
        optimizer: ``optimizer(parameters)`` making another optimizer.
        vanishing: warn when the first layer's gradient norm is below this fraction of the last's.
        exploding: warn when it is above this multiple, or when a norm is not finite.
    """
    from soma.optim import SGD

    work = copy.deepcopy(model)
    named = [(n, p) for n, p in work.named_parameters() if p.requires_grad and p._array.ndim >= 2]
    named = named or [(n, p) for n, p in work.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("gradient_flow: the model has no trainable parameter")
    flow = GradientFlow([n for n, _ in named], {n: [] for n, _ in named}, {n: [] for n, _ in named})
    relus = [(n, m) for n, m in work.named_modules() if type(m).__name__ == "ReLU"]
    outputs = {}
    hooks = [m.register_forward_hook(_keep(outputs, n)) for n, m in relus]
    opt = optimizer(work.parameters()) if optimizer else SGD(work.parameters(), lr=lr)
    stream = batches(data, named[0][1]._array.dtype)
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is a symptom reported below
            _train(work, loss_fn, opt, stream, steps, named, relus, outputs, flow)
    finally:
        for hook in hooks:
            hook.remove()
    _warn(flow, vanishing, exploding)
    return flow


def _train(work, loss_fn, opt, stream, steps, named, relus, outputs, flow):
    """``steps`` optimizer steps, recording the norms and dead fractions into ``flow``."""
    for _ in range(steps):
        inputs, targets = next(stream)
        opt.zero_grad()
        loss = loss_fn(work(inputs), targets)
        loss.backward()
        flow.losses.append(float(loss._array))
        for name, parameter in named:
            grad = (
                0.0
                if parameter.grad is None
                else np.linalg.norm(parameter.grad._array.astype(np.float64))
            )
            flow.grad_norms[name].append(float(grad))
            flow.weight_norms[name].append(float(np.linalg.norm(parameter._array.astype(np.float64))))
        for name, _ in relus:
            out = (
                outputs[name].reshape(outputs[name].shape[0], -1)
                if outputs[name].ndim > 1
                else outputs[name][None]
            )
            flow.dead_relu.setdefault(name, []).append(float(np.mean(np.all(out <= 0, axis=0))))
        opt.step()


def _keep(outputs, name):
    def hook(module, args, output):
        outputs[name] = output._array

    return hook


def _warn(flow, vanishing, exploding):
    norms = np.array([flow.grad_norms[n] for n in flow.layers])
    if not np.isfinite(norms).all() or not np.isfinite(flow.losses).all():
        flow.warnings.append(
            f"exploding gradients: a gradient or the loss became NaN/Inf; {EXPLODING_EXPLANATION}"
        )
        return
    if len(flow.layers) > 1:
        ratio = flow.ratio
        if ratio < vanishing:
            flow.warnings.append(
                f"vanishing gradients: ‖dE/dW‖ of {flow.layers[0]} is {format_number(ratio, 3)} × that of "
                f"{flow.layers[-1]}; {VANISHING_EXPLANATION}"
            )
        elif ratio > exploding:
            flow.warnings.append(
                f"exploding gradients: ‖dE/dW‖ of {flow.layers[0]} is {format_number(ratio, 3)} × that of "
                f"{flow.layers[-1]}; {EXPLODING_EXPLANATION}"
            )
    if len(flow.losses) > 1 and flow.losses[-1] > 10 * flow.losses[0]:
        flow.warnings.append(
            f"exploding gradients: the loss grew from {format_number(flow.losses[0], 3)} "
            f"to {format_number(flow.losses[-1], 3)}; {EXPLODING_EXPLANATION}"
        )
    for name, fractions in flow.dead_relu.items():
        if fractions[-1] >= 0.5:
            flow.warnings.append(
                f"dead ReLUs: {format_number(100 * fractions[-1], 3)}% of the units of "
                f"{name} output 0 for every sample; {DEAD_RELU_EXPLANATION}"
            )
