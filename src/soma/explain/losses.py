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
    terms = _terms(loss_fn, trace.output, trace.targets) if neurons else None
    if terms is None or len(terms) != len(neurons):
        written = "½ Σₖ (out_k − t_k)²" if loss_fn is half_squared_error else f"{kind}(out, target)"
        report.equation(section, "E", loss, formula=written)
        return None
    term, derivative, numbers = _TERM[kind]
    out = trace.output._array.reshape(-1)
    target = trace.targets._array.reshape(-1)
    mean = _reduction(loss_fn) == "mean"
    n = len(neurons)
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
        parts = {"formula": derivative.format(k=name) + scale}
        if numbers:
            uses = (out[j], target[j]) if kind != "BCELoss" else (out[j], target[j], out[j], out[j])
            parts.update(numbers=numbers + scale, numbers_values=uses)
        return parts

    return formula


def _term_values(kind, out, target):
    if kind == "BCELoss":
        return target, out, target, out
    return out, target
