"""How a report writes the loss, its terms, and ``dE/dout`` of each output neuron.

The loss value and ``dE/dout`` are the numbers soma computed (the loss tensor and the
gradient retained on the model's output). The terms are soma's own loss evaluated
with ``reduction='none'``. This file only writes them out: for ``MSELoss`` over two
outputs, ``E = ((out_o1 − t_o1)² + (out_o2 − t_o2)²) / 2``, which is the notes'
``E = Σ ½(t − out)²`` (notes 004).
"""

import copy

from soma.tensor import Tensor

__all__ = ["loss_lines", "half_squared_error"]


def half_squared_error(output, target):
    """E = ½ Σₖ (tₖ − outₖ)², the loss the notes' worked examples use (notes 000, 002, 004).

    Its gradient is simply ``dE/doutₖ = outₖ − tₖ``; over n outputs it equals
    ``(n/2)·MSELoss()``, so for two outputs it is ``MSELoss()`` itself.
    """
    return ((output - target) ** 2).sum() * 0.5


_TERM = {  # the written term of one output k, and dE/dout_k, for reduction='sum'
    "half_squared_error": ("½(out_{k} − t_{k})²", "out_{k} − t_{k}", "{} − {}"),
    "MSELoss": ("(out_{k} − t_{k})²", "2·(out_{k} − t_{k})", "2 × ({} − {})"),
    "L1Loss": ("|out_{k} − t_{k}|", "sign(out_{k} − t_{k})", None),
    "BCEWithLogitsLoss": (
        "−(t_{k}·ln σ(out_{k}) + (1 − t_{k})·ln(1 − σ(out_{k})))",
        "σ(out_{k}) − t_{k}",
        "σ({}) − {}",
    ),
    "BCELoss": (
        "−(t_{k}·ln out_{k} + (1 − t_{k})·ln(1 − out_{k}))",
        "(out_{k} − t_{k}) / (out_{k}·(1 − out_{k}))",
        "({} − {}) / ({} × (1 − {}))",
    ),
}


def _kind(loss_fn):
    return "half_squared_error" if loss_fn is half_squared_error else type(loss_fn).__name__


def _reduction(loss_fn):
    return "sum" if loss_fn is half_squared_error else getattr(loss_fn, "reduction", None)


def _terms(loss_fn, output, targets):
    """Per-element losses from soma's own loss with ``reduction='none'`` (None if not possible)."""
    if loss_fn is half_squared_error:
        return 0.5 * ((output._array - targets._array) ** 2).reshape(-1)
    if type(loss_fn).__name__ not in _TERM or getattr(loss_fn, "reduction", None) not in (
        "mean",
        "sum",
    ):
        return None
    unreduced = copy.copy(loss_fn)
    unreduced.__dict__["reduction"] = "none"
    return unreduced(Tensor(output._array), targets)._array.reshape(-1)


def loss_lines(report, section, trace, neurons):
    """Write the loss; return ``formula(j)`` giving the written ``dE/dout`` of output j (or None).

    ``neurons`` names the model's outputs (``["o1", "o2"]``) when the last layer is shown
    neuron by neuron, else None.
    """
    loss_fn, loss = trace.loss_fn, float(trace.loss._array)
    kind = _kind(loss_fn)
    if kind == "CrossEntropyLoss" and neurons and getattr(loss_fn, "weight", None) is None:
        if trace.output._array.size == len(neurons):
            return cross_entropy_lines(report, section, trace, neurons)
    terms = _terms(loss_fn, trace.output, trace.targets) if neurons else None
    if terms is None or len(terms) != len(neurons):
        written = "½ Σₖ (out_k − t_k)²" if loss_fn is half_squared_error else f"{kind}(out, target)"
        report.equation(section, "E", loss, formula=written)
        return None
    term, derivative, numbers = _TERM[kind]
    out = trace.output._array.reshape(-1)
    target = trace.targets._array.reshape(-1)
    n = len(neurons)
    mean = _reduction(loss_fn) == "mean" and n > 1  # a mean over one output divides by 1: not written
    for k, name in enumerate(neurons):
        report.values[f"t_{name}"] = target[k]
    written = " + ".join(term.format(k=name) for name in neurons)
    template = term.format(k="").replace("out_", "{}").replace("t_", "{}")
    values = tuple(v for k in range(n) for v in _term_values(kind, out[k], target[k]))
    report.equation(
        section,
        "E",
        loss,
        formula=f"({written}) / {n}" if mean else written,
        numbers=(f"({' + '.join([template] * n)}) / {n}" if mean else " + ".join([template] * n)),
        numbers_values=values,
    )
    for k, name in enumerate(neurons):
        report.equation(
            section,
            f"E_{name}",
            terms[k] / n if mean else terms[k],
            formula=term.format(k=name) + (f" / {n}" if mean else ""),
        )

    def formula(j):
        name = neurons[j]
        scale = f" / {n}" if mean else ""
        written, template = derivative.format(k=name), numbers
        if mean and not written.endswith(")"):  # (σ(out) − t) / 2, not σ(out) − t / 2
            written, template = f"({written})", f"({numbers})" if numbers else None
        parts = {"formula": written + scale}
        if numbers:
            uses = (out[j], target[j]) if kind != "BCELoss" else (out[j], target[j], out[j], out[j])
            parts.update(numbers=template + scale, numbers_values=uses)
        return parts

    return formula


def _term_values(kind, out, target):
    if kind in ("BCELoss", "BCEWithLogitsLoss"):
        return target, out, target, out
    return out, target


# ------------------------------------------------------- softmax + cross-entropy
CROSS_ENTROPY_DERIVATION = (
    "Why dE/dout_k = p_k − y_k: with E = −Σ_k y_k·ln p_k and p = softmax(out), "
    "dp_k/dout_j = p_k·(δ_kj − p_j), so dE/dout_j = −Σ_k (y_k / p_k)·p_k·(δ_kj − p_j) "
    "= p_j·Σ_k y_k − y_j = p_j − y_j, because the y_k sum to 1."
)


def _target_distribution(loss_fn, targets, classes, dtype):
    """y: the one-hot row of a class index (or the given probabilities), label-smoothed as the loss does."""
    import numpy as np

    array = targets._array
    if array.dtype.kind in "iu":
        y = np.zeros(classes, dtype)
        y[int(array.reshape(-1)[0])] = 1.0
    else:
        y = array.reshape(-1).astype(dtype)
    smoothing = float(getattr(loss_fn, "label_smoothing", 0.0) or 0.0)
    return (1.0 - smoothing) * y + smoothing / classes, smoothing


def cross_entropy_lines(report, section, trace, neurons):
    """``CrossEntropyLoss`` of one sample, derived: the softmax p, the target y, E = −Σ y·ln p,
    and ``dE/dout_k = p_k − y_k`` (checked against autograd's gradient on the output)."""
    import numpy as np

    from soma.explain.dense import check_product
    from soma.ops.softmax import softmax

    out = trace.output._array.reshape(-1)
    p = softmax(Tensor(out.astype(np.float64)), dim=0)._array
    y, smoothing = _target_distribution(trace.loss_fn, trace.targets, len(neurons), np.float64)
    exps = np.exp(out.astype(np.float64))
    names = [f"out_{n}" for n in neurons]
    report.text(section, "CrossEntropyLoss = softmax of the outputs, then E = −Σ_k y_k·ln p_k.")
    report.equation(
        section,
        "Σ e^out",
        exps.sum(),
        formula=" + ".join(f"e^{name}" for name in names),
        numbers=" + ".join(["e^{}"] * len(names)),
        numbers_values=tuple(out),
    )
    for k, neuron in enumerate(neurons):
        report.equation(
            section,
            f"p_{neuron}",
            p[k],
            formula=f"e^out_{neuron} / Σ e^out",
            numbers="{} / {}",
            numbers_values=(exps[k], exps.sum()),
        )
    note = f"label smoothing ε = {smoothing:g}: (1 − ε)·one-hot + ε/{len(neurons)}" if smoothing else None
    for k, neuron in enumerate(neurons):
        report.equation(section, f"y_{neuron}", y[k], note=note if k == 0 else None)
    hot = [k for k in range(len(neurons)) if y[k] != 0]
    loss = float(trace.loss._array)
    if len(hot) == 1 and y[hot[0]] == 1.0:
        k = hot[0]
        report.equation(section, "E", loss, formula=f"−Σ_k y_k·ln p_k = −ln p_{neurons[k]}", numbers="−ln {}",
                        numbers_values=(p[k],))
    else:
        terms = [f"y_{neurons[k]}·ln p_{neurons[k]}" for k in hot]
        report.equation(section, "E", loss, formula="−(" + " + ".join(terms) + ")")
    report.text(section, CROSS_ENTROPY_DERIVATION)
    gradient = trace.output.grad._array.reshape(-1) if trace.output.grad is not None else None
    if gradient is not None:
        scale = float(np.abs(gradient).max(initial=0.0))
        for k, neuron in enumerate(neurons):
            check_product(f"dE/dout_{neuron}", (p[k] - y[k],), gradient[k], scale)

    def formula(j):
        return {"formula": f"p_{neurons[j]} − y_{neurons[j]}", "numbers": "{} − {}", "numbers_values": (p[j], y[j])}

    return formula
