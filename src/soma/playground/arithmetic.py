"""The numbers behind a neuron, and the notes' worked networks, from ``soma.explain.step``.

Nothing here computes a number: ``soma.explain.step`` runs one forward pass, the loss
E = ½(out − t)², the backward pass and the SGD update ``w' = w − η·dE/dw`` on a copy of
the live network, and this module picks out the lines that concern one neuron (its net
input, activation, dE/dout, dout/dnet, δ, the gradient and update of each incoming
weight and of its bias) and turns them into JSON for the page.
"""

import numpy as np

import soma
from soma import classic, explain, nn
from soma.explain.dense import DenseBlock
from soma.explain.losses import half_squared_error
from soma.explain.step import plan
from soma.explain.trace import trace_step

__all__ = ["neuron", "NotesBench", "report_json", "line_json"]

DIGITS = 6


def line_json(item):
    """One report line: ``lhs``, the written ``text`` and the exact ``value`` autograd gave."""
    if isinstance(item, str):
        return {"lhs": None, "text": item, "value": None}
    value = item.value
    exact = float(value) if value is not None and np.ndim(value) == 0 else None
    return {"lhs": item.lhs, "text": item.text(DIGITS), "value": exact}


def report_json(report, keep=None):
    """The report's sections as ``[{heading, lines}]``; ``keep(lhs)`` filters the equations."""
    sections = []
    for section in report.sections:
        lines = [
            line_json(item) for item in section.items if keep is None or (not isinstance(item, str) and keep(item.lhs))
        ]
        if lines:
            sections.append({"heading": section.heading, "lines": lines})
    return sections


def _dense_blocks(model, x, t, lr):
    """The explain plan's dense blocks (their neuron, input and weight names) for this step."""
    return [b for b in plan(trace_step(model, x, t, half_squared_error, lr)) if isinstance(b, DenseBlock)]


def neuron(model, x, t, lr, layer, index, input_labels=None):
    """The arithmetic of neuron ``index`` of dense layer ``layer`` for the sample ``(x, t)``.

    Returns ``{"name", "inputs", "sections", "weights"}``: the lines of ``soma.explain.step``
    whose left-hand side is this neuron's net input, output, dE/dout, dout/dnet, δ, an
    incoming weight's or its bias's gradient or update, plus the loss.
    """
    x, t = np.asarray(x, dtype=np.float64).reshape(1, -1), np.asarray(t, dtype=np.float64).reshape(1, -1)
    report = explain.step(model, x, t, half_squared_error, lr)
    block = _dense_blocks(model, x, t, lr)[layer]
    name = block.neurons[index]
    weights = list(block.weight_names[index])
    bias = [block.bias_names[index]] if block.bias_names else []
    own = {f"net_{name}", f"out_{name}", f"dE/dout_{name}", f"dout_{name}/dnet_{name}", f"δ_{name}", "E"}
    own |= {f"dE/d{w}" for w in weights + bias} | {f"{w}'" for w in weights + bias}
    labels = input_labels if layer == 0 and input_labels else block.input_names
    return {
        "name": name,
        "input_names": block.input_names,
        "inputs": [
            {"name": n, "label": label, "value": float(v)}
            for n, label, v in zip(
                block.input_names, labels, block.linear.inputs[0].detach().numpy().reshape(-1), strict=False
            )
        ],
        "weights": weights,
        "bias": bias[0] if bias else None,
        "sections": report_json(report, keep=lambda lhs: lhs in own),
    }


def backprop_222():
    """Notes 004's 2-2-2 sigmoid network: its weights, x = (0.05, 0.10), t = (0.01, 0.99), η = 0.5."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid()).double()
    for layer, weight, bias in (
        (model[0], [[0.15, 0.20], [0.25, 0.30]], 0.35),
        (model[2], [[0.40, 0.45], [0.50, 0.55]], 0.60),
    ):
        layer.load_state_dict({"weight": np.array(weight), "bias": np.full(2, bias)})
        layer.bias.requires_grad_(False)  # the notes update only the eight weights
    return model, [[0.05, 0.10]], [[0.01, 0.99]], 0.5


def xor():
    """Notes 004's hand-set sigmoid XOR network and its truth table (η = 0.5 for the step shown)."""
    inputs, targets = classic.xor_data(np.float64)
    return classic.xor_network(soma.float64), inputs, targets.reshape(-1, 1), 0.5


NOTES = {"backprop-222": backprop_222, "xor": xor}


class NotesBench:
    """A worked network of the notes, stepped through one SGD step (and one number) at a time."""

    def __init__(self):
        self.network = None

    def load(self, network):
        self.network = network
        self.model, self.inputs, self.targets, self.lr = NOTES[network]()
        self.steps = 0

    def step(self, network, sample=0, apply=False, reset=False):
        """The report of the next step on ``sample``; ``apply`` first makes the step shown last."""
        if reset or network != self.network:
            self.load(network)
        sample = min(sample, len(self.inputs) - 1)
        x, t = np.asarray(self.inputs[sample]).reshape(1, -1), np.asarray(self.targets[sample]).reshape(1, -1)
        if apply:
            explain.step(self.model, x, t, half_squared_error, self.lr, apply=True)
            self.steps += 1
        report = explain.step(self.model, x, t, half_squared_error, self.lr, title=f"Step {self.steps + 1}")
        linears = [m for m in self.model if isinstance(m, nn.Linear)]
        blocks = _dense_blocks(self.model, x, t, self.lr)
        return {
            "type": "notes",
            "network": network,
            "sample": sample,
            "samples": [
                {"x": np.asarray(x).reshape(-1).tolist(), "t": np.asarray(t).reshape(-1).tolist()}
                for x, t in zip(self.inputs, self.targets, strict=True)
            ],
            "steps": self.steps,
            "layers": [linears[0].in_features, *[m.out_features for m in linears]],
            "weights": [m.weight.detach().numpy().tolist() for m in linears],
            "biases": [m.bias.detach().numpy().tolist() for m in linears],
            "neurons": [block.input_names for block in blocks[:1]] + [block.neurons for block in blocks],
            "weight_names": [block.weight_names for block in blocks],
            "sections": report_json(report),
        }
