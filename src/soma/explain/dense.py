"""Neuron-level derivation for ``Linear`` layers (each with its elementwise activation).

For one sample, every neuron n of a dense layer computes (notes 000, 004)::

    net_n = Σᵢ wₙᵢ·xᵢ + b_n          out_n = f(net_n)

and backpropagation writes each gradient as a product of chain-rule factors::

    δ_n    = dE/dnet_n = dE/dout_n · dout_n/dnet_n
    dE/dw  = dE/dout_n · dout_n/dnet_n · dnet_n/dw      (dnet_n/dwₙᵢ = xᵢ)
    dE/dout_h = Σ_k δ_k · w_kh                          (h feeds the neurons k of the next layer)

Every value printed is a number soma's autograd produced (a retained ``.grad`` or the
parameter's ``.grad``); the written products are recomputed only to check that they
agree with it (:func:`check_product`), so a wrong derivation cannot go unnoticed.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from soma.explain.activations import describe, local_derivative

__all__ = ["DenseBlock", "forward_lines", "backward_lines", "update_lines", "check_product"]

MAX_WRITTEN_TERMS = 10  # longer sums are written with Σ instead of term by term


@dataclass
class DenseBlock:
    """A ``Linear`` call, the elementwise activation applied to its output (or None) and the names."""

    linear: object  # trace.Call
    activation: object  # trace.Call or None
    letter: str  # neuron names are letter + index: h1, h2, o1, ...
    input_names: list  # x1, x2 or out_h1, out_h2 (the previous dense layer's outputs)
    weight_names: list  # weight_names[j][i] names weight[j, i]: w1, w2, ...

    @property
    def name(self):
        return self.linear.name

    @property
    def module(self):
        return self.linear.module

    @property
    def neurons(self):
        return [f"{self.letter}{j + 1}" for j in range(self.module.weight.shape[0])]

    @property
    def net(self):
        return self.linear.output

    @property
    def out(self):
        return self.activation.output if self.activation else self.linear.output

    @property
    def bias_names(self):
        return None if self.module.bias is None else [f"b_{n}" for n in self.neurons]

    def legend(self):
        """``0.weight = [[w1, w2], [w3, w4]]``: which symbol is which entry of the parameter."""
        rows = ", ".join("[" + ", ".join(row) + "]" for row in self.weight_names)
        text = f"{self.name}.weight = [{rows}]"
        if self.bias_names:
            text += f", {self.name}.bias = [{', '.join(self.bias_names)}]"
        return text


def _row(tensor):
    return None if tensor is None else tensor._array.reshape(-1)


def _grad_row(tensor):
    return (
        np.zeros(tensor._array.size, tensor._array.dtype)
        if tensor.grad is None
        else tensor.grad._array.reshape(-1)
    )


def _tolerance(dtype):
    return 1e-4 if np.dtype(dtype).itemsize <= 4 else 1e-9


def check_product(name, factors, value, scale):
    """Raise if the written factors of ``name`` do not multiply to autograd's ``value``."""
    product = float(np.prod(np.asarray(factors, dtype=np.float64)))
    tol = _tolerance(np.asarray(value).dtype)
    if not np.isclose(product, float(value), rtol=tol, atol=tol * (scale + 1e-30)):
        raise RuntimeError(
            f"soma.explain: the chain-rule factors of {name} multiply to {product!r}, but autograd "
            f"computed {float(value)!r}; the layer is probably not elementwise as assumed"
        )


# ------------------------------------------------------------------- forward
def forward_lines(report, section, block, trace):
    weight = trace.before[f"{block.name}.weight"]
    bias = trace.before.get(f"{block.name}.bias")
    inputs = _row(block.linear.inputs[0])
    net, out = _row(block.net), _row(block.out)
    function = describe(block.activation.module if block.activation else None).function
    report.subheading(section, f"Layer {block.name}: {block.module!r}; {block.legend()}")
    for j, neuron in enumerate(block.neurons):
        symbols = [f"{block.weight_names[j][i]}·{block.input_names[i]}" for i in range(len(inputs))]
        values = [v for i in range(len(inputs)) for v in (weight[j, i], inputs[i])]
        numbers = ["{} × {}"] * len(inputs)
        if bias is not None:
            symbols.append(block.bias_names[j])
            numbers.append("{}")
            values.append(bias[j])
        if len(symbols) <= MAX_WRITTEN_TERMS:
            report.equation(
                section,
                f"net_{neuron}",
                net[j],
                formula=" + ".join(symbols),
                numbers=" + ".join(numbers),
                numbers_values=tuple(values),
            )
        else:
            bias_symbol = f" + {block.bias_names[j]}" if bias is not None else ""
            report.equation(
                section,
                f"net_{neuron}",
                net[j],
                formula=f"Σᵢ w[{j}, i]·{block.input_names[0].rstrip('0123456789')}ᵢ{bias_symbol}",
                note=f"a sum over {len(inputs)} inputs",
            )
        if function == "{net}":  # no activation: the neuron's output is its net input
            report.equation(section, f"out_{neuron}", out[j], formula=f"net_{neuron}")
            continue
        report.equation(
            section,
            f"out_{neuron}",
            out[j],
            formula=function.format(net=f"net_{neuron}"),
            numbers=function.format(net="{}"),
            numbers_values=(net[j],) * function.count("{net}"),
        )


# ------------------------------------------------------------------ backward
def backward_lines(report, section, block, trace, next_block, loss_formula):
    """The deltas and weight gradients of ``block``, written from the output side.

    ``next_block`` is the dense block that consumes this block's outputs (None if another
    kind of layer, or the loss, does); ``loss_formula(j)`` writes ``dE/dout`` of output
    neuron j when this block's output is the model's output.
    """
    rows = _backward_rows(block, trace)
    report.subheading(section, f"Layer {block.name} ({block.module!r})")
    for j, neuron in enumerate(block.neurons):
        _d_out_line(report, section, block, j, rows.d_out[j], trace, next_block, loss_formula)
        _slope_line(report, section, neuron, rows.wording, rows.slope[j], rows.out[j], rows.net[j])
        _delta_line(report, section, neuron, rows, j)
        _gradient_lines(report, section, block, neuron, rows, j)


def _backward_rows(block, trace):
    """The block's numbers for one sample: out, net, dE/dout, δ, the activation's slope, inputs, gradients."""
    activation = block.activation.module if block.activation else None
    delta = _grad_row(block.net)
    return SimpleNamespace(
        out=_row(block.out), net=_row(block.net), d_out=_grad_row(block.out), delta=delta,
        inputs=_row(block.linear.inputs[0]), slope=local_derivative(activation, block.net).reshape(-1),
        wording=describe(activation), weight_grad=trace.grads.get(f"{block.name}.weight"),
        bias_grad=trace.grads.get(f"{block.name}.bias"), scale=float(np.abs(delta).max(initial=0.0)),
    )


def _d_out_line(report, section, block, j, d_out, trace, next_block, loss_formula):
    """dE/dout of neuron j: from the loss, as a sum over the next dense block, or through another layer."""
    lhs = f"dE/dout_{block.neurons[j]}"
    if block.out is trace.output:
        parts = loss_formula(j) if loss_formula else {"note": "from the loss's backward"}
        report.equation(section, lhs, d_out, **parts)
    elif next_block is not None:
        report.equation(section, lhs, d_out, **_sum_over_next(block, j, next_block, trace))
    else:
        consumers = trace.consumers(block.out)
        source = type(consumers[0].module).__name__ if consumers else "the layers after it"
        report.equation(section, lhs, d_out, note=f"back-propagated through {source}")


def _delta_line(report, section, neuron, rows, j):
    d_out, slope, delta = rows.d_out[j], rows.slope[j], rows.delta[j]
    check_product(f"δ_{neuron}", (d_out, slope), delta, rows.scale)
    report.values[f"dE/dnet_{neuron}"] = delta
    report.equation(
        section,
        f"δ_{neuron}",
        delta,
        formula=f"dE/dnet_{neuron} = dE/dout_{neuron} · dout_{neuron}/dnet_{neuron}",
        numbers="{} × {}",
        numbers_values=(d_out, slope),
    )


def _gradient_lines(report, section, block, neuron, rows, j):
    """dE/dw of neuron j's weights (dE/dout · dout/dnet · input) and of its bias (δ · 1)."""
    d_out, slope, inputs = rows.d_out[j], rows.slope[j], rows.inputs
    if rows.weight_grad is not None:
        for i, name in enumerate(block.weight_names[j]):
            value = rows.weight_grad[j, i]
            check_product(f"dE/d{name}", (d_out, slope, inputs[i]), value, rows.scale * abs(inputs[i]))
            report.equation(
                section,
                f"dE/d{name}",
                value,
                formula=f"dE/dout_{neuron} · dout_{neuron}/dnet_{neuron} · dnet_{neuron}/d{name}",
                numbers="{} × {} × {}",
                numbers_values=(d_out, slope, inputs[i]),
            )
    if rows.bias_grad is not None and block.bias_names:
        name = block.bias_names[j]
        check_product(f"dE/d{name}", (rows.delta[j],), rows.bias_grad[j], rows.scale)
        report.equation(
            section,
            f"dE/d{name}",
            rows.bias_grad[j],
            formula=f"δ_{neuron} · dnet_{neuron}/d{name}",
            numbers="{} × 1",
            numbers_values=(rows.delta[j],),
        )


def _slope_line(report, section, neuron, wording, slope, out, net):
    formula = wording.derivative.format(out=f"out_{neuron}", net=f"net_{neuron}")
    parts = {"formula": formula} if formula != "1" else {"note": "no activation: out = net"}
    if wording.derivative_numbers:
        values = {"out": out, "net": net}
        parts.update(
            numbers=wording.derivative_numbers,
            numbers_values=tuple(values[u] for u in wording.derivative_uses),
        )
    report.equation(section, f"dout_{neuron}/dnet_{neuron}", slope, **parts)


def _sum_over_next(block, j, next_block, trace):
    """``dE/dout_h = Σ_k δ_k · w_kh`` over the neurons k of the next dense layer."""
    weight = trace.before[f"{next_block.name}.weight"]
    delta = _grad_row(next_block.net)
    ks = range(weight.shape[0])
    symbols = [f"δ_{next_block.neurons[k]} · {next_block.weight_names[k][j]}" for k in ks]
    values = tuple(v for k in ks for v in (delta[k], weight[k, j]))
    if len(symbols) > MAX_WRITTEN_TERMS:
        return {"formula": f"Σ_k δ_k · w_k{j + 1}", "note": f"a sum over {len(symbols)} neurons"}
    return {
        "formula": " + ".join(symbols),
        "numbers": " + ".join(["{} × {}"] * len(symbols)),
        "numbers_values": values,
    }


# -------------------------------------------------------------------- update
def update_lines(report, section, block, trace):
    """``w' = w − η · dE/dw`` for every weight and bias of the block (frozen ones stay)."""
    for kind, names in (("weight", block.weight_names), ("bias", block.bias_names)):
        if names is None:
            continue
        key = f"{block.name}.{kind}"
        before, after, grad = trace.before[key], trace.after[key], trace.grads[key]
        flat = [n for row in names for n in row] if kind == "weight" else names
        for index, name in enumerate(flat):
            position = np.unravel_index(index, before.shape)
            if grad is None:
                report.equation(
                    section,
                    f"{name}'",
                    after[position],
                    formula=name,
                    note=f"{key} has requires_grad=False: not updated",
                )
                continue
            report.equation(
                section,
                f"{name}'",
                after[position],
                formula=f"{name} − η · dE/d{name}",
                numbers="{} − {} × {}",
                numbers_values=(before[position], trace.lr, grad[position]),
            )
