"""Layer-level explanation for layers whose neurons are too many to write one by one.

A convolution, a pooling layer, a recurrent layer or a normalization layer is shown as
the notes show it: its shapes, the formula it computes, and summary statistics of its
output, of ``dE/doutput`` and of each parameter, its gradient and its update. The
arrays themselves go into ``report.values`` (``"features.0.output"``,
``"dE/dfeatures.0.weight"``, ...), exactly as soma's autograd computed them.
"""

import numpy as np

from soma.explain.report import format_number

__all__ = ["FORMULAS", "forward_lines", "backward_lines", "update_lines", "statistics"]

# What each layer computes, in the notes' notation (notes 003/004 for conv/pool, 004 for RNN/LSTM).
FORMULAS = {
    "Linear": "out = x·Wᵀ + b",
    "Conv1d": "out[n, c, i] = b[c] + Σ_{k, p} W[c, k, p] · x[n, k, s·i + p]",
    "Conv2d": "out[n, c, i, j] = b[c] + Σ_{k, p, q} W[c, k, p, q] · x[n, k, s·i + p, s·j + q]",
    "ConvTranspose2d": (
        "the gradient of Conv2d with respect to its input: each x[n, k, i, j] spreads W[k, c] over the output"
    ),
    "MaxPool1d": "out[n, c, i] = max of the window x[n, c, s·i : s·i + k]",
    "MaxPool2d": "out[n, c, i, j] = max over the k×k window at (s·i, s·j); dE/dx is routed to the argmax",
    "AvgPool1d": "out[n, c, i] = mean of the window x[n, c, s·i : s·i + k]",
    "AvgPool2d": "out[n, c, i, j] = mean over the k×k window at (s·i, s·j)",
    "AdaptiveAvgPool2d": "out[n, c] = mean over regions that tile the input into the output size",
    "Flatten": "out = x reshaped to (N, C·H·W); dE/dx is dE/dout reshaped back",
    "Unflatten": "out = x reshaped; dE/dx is dE/dout reshaped back",
    "Dropout": "out = x · mask / (1 − p) in training (mask ~ Bernoulli(1 − p)), out = x in eval",
    "BatchNorm1d": "out = γ · (x − μ_batch) / √(σ²_batch + ε) + β",
    "BatchNorm2d": "out = γ · (x − μ_batch) / √(σ²_batch + ε) + β, statistics per channel",
    "LayerNorm": "out = γ · (x − μ) / √(σ² + ε) + β over the last dimensions",
    "RNN": "h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh)",
    "LSTM": (
        "i, f, g, o = σ, σ, tanh, σ(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh); c_t = f·c_{t−1} + i·g; h_t = o·tanh(c_t)"
    ),
    "GRU": "r, z = σ(...); n = tanh(W_in·x_t + b_in + r·(W_hn·h_{t−1} + b_hn)); h_t = (1 − z)·n + z·h_{t−1}",
    "Softmax": "out_k = e^{x_k} / Σ_j e^{x_j}",
    "LogSoftmax": "out_k = x_k − ln Σ_j e^{x_j}",
    "Embedding": "out[n] = W[index[n]]",
}


def statistics(array, digits):
    """``mean, std, min, max, ‖·‖₂`` of an array, as one line of text."""
    array = np.asarray(array, dtype=np.float64)
    if array.size == 0:
        return "empty"
    parts = [
        ("mean", array.mean()),
        ("std", array.std()),
        ("min", array.min()),
        ("max", array.max()),
        ("‖·‖₂", np.sqrt((array * array).sum())),
    ]
    return ", ".join(f"{label} {format_number(value, digits)}" for label, value in parts)


def _output_arrays(call):
    return call.output._array, (None if call.output.grad is None else call.output.grad._array)


def forward_lines(report, section, call, digits, cell=None):
    """The layer's shapes, formula and output statistics; ``cell=(i, j)`` also writes that output
    cell of a convolution or pooling layer as its sum of products (:mod:`soma.explain.cells`)."""
    module = call.module
    kind = type(module).__name__
    shapes = " and ".join(str(tuple(t.shape)) for t in call.inputs) or "()"
    report.subheading(
        section,
        f"Layer {call.name or '(model)'}: {module!r}; input {shapes} → output {tuple(call.output.shape)}",
    )
    if kind in FORMULAS:
        report.text(section, f"  {FORMULAS[kind]}")
    if cell is not None:
        from soma.explain.cells import cell_lines

        cell_lines(report, section, call, cell)
    output, _ = _output_arrays(call)
    report.equation(section, f"{call.name}.output", output, note=statistics(output, digits))


def backward_lines(report, section, call, trace, digits):
    _, grad = _output_arrays(call)
    report.subheading(section, f"Layer {call.name or '(model)'} ({type(call.module).__name__})")
    if grad is not None:
        report.equation(section, f"dE/d{call.name}.output", grad, note=statistics(grad, digits))
    for pname, _ in call.module.named_parameters():
        key = f"{call.name}.{pname}" if call.name else pname
        grad = trace.grads.get(key)
        if grad is not None:
            report.equation(
                section, f"dE/d{key}", grad, note=f"shape {grad.shape}; {statistics(grad, digits)}"
            )


def update_lines(report, section, call, trace, digits):
    for pname, _ in call.module.named_parameters():
        key = f"{call.name}.{pname}" if call.name else pname
        before, after, grad = trace.before[key], trace.after[key], trace.grads[key]
        report.values[key] = before
        if grad is None:
            report.equation(section, f"{key}'", after, note="requires_grad=False: not updated")
            continue
        change = after.astype(np.float64) - before
        report.equation(
            section,
            f"{key}'",
            after,
            formula=f"{key} − η · dE/d{key}",
            note=f"‖Δ‖₂ = η·‖dE/d{key}‖₂ = {format_number(np.sqrt((change * change).sum()), digits)}",
        )
