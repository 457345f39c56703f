"""Print soma's own numbers for the worked examples of the notes (the "soma's numbers"
column of docs/notes-examples.md).

Run:  .venv/bin/python docs/notes_examples_soma.py

Each value is read from the report ``soma explain NAME`` prints (soma.explain.examples),
i.e. computed by soma's forward/backward passes, not by this script.
"""

from soma.explain.examples import explain_example
from soma.explain.report import format_number

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
}


def _label(key):
    """'AND, x = (1, 1): out_o1' → 'AND (1, 1)'; 'sample 1, ...: w1\'' → "w1'"; others unchanged."""
    if key.endswith(": out_o1") and "x = " in key:
        return key[: -len(": out_o1")].replace("x = ", "").replace(", (", " (")
    return key.split(": ")[-1]


def main():
    for source, (name, keys) in HEADLINES.items():
        values = explain_example(name, digits=9).values
        shown = "; ".join(f"{_label(key)} {format_number(values[key], 9)}" for key in keys)
        print(f"{source:<24} soma explain {name:<18} {shown}")


if __name__ == "__main__":
    main()
