"""Print soma's own numbers for the worked examples of the notes (the "soma's numbers"
column of docs/notes-examples.md).

Run:  .venv/bin/python docs/notes_examples_soma.py            (print the column)
      .venv/bin/python docs/notes_examples_soma.py --write    (rewrite it in docs/notes-examples.md)

Each value is read from the report ``soma explain NAME`` prints (soma.explain.examples),
i.e. computed by soma's layers, losses, optimizers and autograd, not by this script.
``--write`` replaces only the "soma's numbers" cell of each row of the Summary table;
a row with no entry in ``HEADLINES`` gets "—".
"""

import sys
from pathlib import Path

from soma.explain.examples import explain_example
from soma.explain.report import format_value

CATALOGUE = Path(__file__).with_name("notes-examples.md")
COLUMNS = 6  # example | topic | the notes say | the right value | soma's numbers | the notes right?
SOMA_COLUMN = 4

HEADLINES = {  # catalogue id → (example name, value names shown in the table)
    "N000-logic-gates": (
        "logic-gates",
        ["AND, x = (1, 1): out_o1", "OR, x = (0, 0): out_o1", "NOT, x = (0): out_o1"],
    ),
    "N000-xnor-net": (
        "xnor-net",
        [f"x = ({a}, {b}): out_o1" for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]],
    ),
    "N000-chain-1-1-1": ("chain-1-1-1", ["E", "w1'", "b_h1'", "w2'", "b_o1'"]),
    "N001-softmax-animals": ("softmax-animals", ["p_cat", "p_dog", "p_monkey", "p_horse"]),
    "N002-relu-exam": ("relu-exam", ["out_o1", "out_o2", "E", "dE/dw2", "w2'"]),
    "N002-tuple-101": ("tuple-101", ["out_o1", "δ_o1", "w7'", "w8'", "b_o1'"]),
    "N004-adaline-lms": (
        "adaline-lms",
        [
            "sample 1, x = (1, 1), d = 1: w1'",
            "sample 1, x = (1, 1), d = 1: w2'",
            "sample 1, x = (1, 1), d = 1: b_o1'",
        ],
    ),
    "N004-xor-sigmoid-net": (
        "xor-sigmoid-net",
        [f"x = ({a}, {b}): out_o1" for a, b in [(0, 0), (0, 1)]],
    ),
    "N004-backprop-222": ("backprop-222", ["out_o1", "E", "dE/dw5", "w5'", "w1'"]),
    "N004-backprop-222-lr06": ("backprop-222-lr06", ["w5'", "w1'"]),
    "N000-conv-figure": ("conv-figure", ["out"]),
    "N001-step-function": ("step-function", ["f(5)", "f(-2)"]),
    "N001-two-layer-forward": ("two-layer-forward", ["net_h1", "out_h1", "out_o1", "y − ŷ"]),
    "N001-sigmoid-derivative-max": ("sigmoid-derivative-max", ["max σ′", "argmax z"]),
    "N002-logreg": ("logreg", ["net_o1", "out_o1"]),
    "N002-bce": ("bce", ["L1", "L2"]),
    "N002-mse": ("mse", ["MSE"]),
    "N002-l1-l2": ("l1-l2", ["L1 total", "L2 total"]),
    "N002-adagrad": ("adagrad", ["θ' (ε = 1e-10)", "θ' (notes)"]),
    "N002-conv-output-size": ("conv-output-size", ["W_out", "H_out", "channels"]),
    "N003-conv-shapes": (
        "conv-shapes",
        ["outputs, one 5×5 filter", "outputs, two 5×5 filters", "W_out, one 7×7 filter", "response"],
    ),
    "N003-classifier-vectors": ("classifier-vectors", ["Σ output", "argmax", "E"]),
    "N003-iterations": ("iterations", ["iterations per epoch"]),
    "N004-mp-neuron": ("mp-neuron", ["θ rule", "y(θ = 2, x = (1, 1))"]),
    "N004-gradient-products": ("gradient-products", ["gradient, vanishing", "gradient, exploding"]),
    "N004-conv-vertical-edge": ("conv-vertical-edge", ["out"]),
    "N004-conv-binary": ("conv-binary", ["out"]),
    "N004-conv-3ch-bias": ("conv-3ch-bias", ["out_R[0, 0]", "out_G[0, 0]", "out_B[0, 0]", "out[0, 0]"]),
    "N004-maxpool": ("maxpool", ["out"]),
    "N004-relu-featuremap": ("relu-featuremap", ["out"]),
    "N004-lenet-shapes": (
        "lenet-shapes",
        ["Conv2D 6 filters 5×5 (features.0)", "MaxPool 2×2 (features.5)", "Flatten (classifier.0)", "parameters"],
    ),
    "N004-separable-counts": ("separable-counts", ["3×3 kernel", "3×1 then 1×3", "standard", "depthwise separable"]),
    "N004-conv-mult-counts": ("conv-mult-counts", ["standard", "depthwise"]),
    "N004-rnn-tanh": ("rnn-tanh", ["h_1", "h_2", "h_3"]),
    "N004-dropout": ("dropout", ["kept value, p = 0.5", "kept value, p = 0.2"]),
}


def _label(key):
    """'AND, x = (1, 1): out_o1' → 'AND (1, 1)'; 'sample 1, ...: w1\'' → "w1'"; others unchanged."""
    if key.endswith(": out_o1") and "x = " in key:
        return key[: -len(": out_o1")].replace("x = ", "").replace(", (", " (")
    return key.split(": ")[-1]


def soma_numbers(source):
    """The "soma's numbers" cell of one catalogue row: the example's name and its headline values."""
    if source not in HEADLINES:
        return "—"
    name, keys = HEADLINES[source]
    values = explain_example(name, digits=9).values
    shown = "; ".join(f"{_label(key)} {format_value(values[key], 9)}" for key in keys)
    return f"`soma explain {name}`: {shown}"


def rewrite_summary(text):
    """``text`` (the catalogue) with the soma cell of every Summary row filled in from ``HEADLINES``.

    A row that lacks the soma cell altogether (one cell short) gets one inserted before
    its last cell, "notes correct?"; every other cell is kept as it was.
    """
    lines = text.split("\n")
    for number, line in enumerate(lines):
        cells = line.split(" | ")
        source = cells[0].removeprefix("| ")
        if not (line.startswith("| N") or line.startswith("| S-")) or len(cells) not in (COLUMNS - 1, COLUMNS):
            continue
        if len(cells) == COLUMNS - 1:
            cells.insert(SOMA_COLUMN, "")
        cells[SOMA_COLUMN] = soma_numbers(source)
        lines[number] = " | ".join(cells)
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--write" in argv:
        CATALOGUE.write_text(rewrite_summary(CATALOGUE.read_text(encoding="utf-8")), encoding="utf-8")
        return
    for source in HEADLINES:
        print(f"{source:<28} {soma_numbers(source)}")


if __name__ == "__main__":
    main()
