"""Every worked example of the lecture notes, as a named report soma computes itself.

``EXAMPLES`` maps a name (``soma explain NAME``) to an :class:`Example`: the notes it
comes from, a one-line description and a builder ``build(digits) -> Report``. Each
builder sets up the notes' network with the notes' numbers and lets
:func:`soma.explain.step` (or soma.classic, for the perceptron) compute everything;
where the notes name weights differently, a legend maps their names to the report's.
``docs/notes-examples.md`` lists the same examples with the notes' own (sometimes
wrong) arithmetic beside soma's numbers.

This module holds the backpropagation, logic-gate and softmax examples; the
convolution, pooling, shape and cost examples are in :mod:`soma.explain.examples_cnn`
and the activation, loss, optimizer, data and RNN ones in
:mod:`soma.explain.examples_basics`. ``EXAMPLES`` gathers all of them.
"""

import inspect

import numpy as np

import soma
from soma import classic, nn
from soma.explain.attention import EXAMPLES_ATTENTION
from soma.explain.examples_basics import EXAMPLES_BASICS
from soma.explain.examples_cnn import EXAMPLES_CNN
from soma.explain.examples_common import F64, Example, dense, legend, notes, verdict
from soma.explain.losses import half_squared_error
from soma.explain.report import Report
from soma.explain.step import forward, step

__all__ = ["EXAMPLES", "Example", "explain_example", "takes_cell"]


# ------------------------------------------------------------ backpropagation
MAZUR_NOTES = {
    0.5: "The full-precision numbers the notes quote (E = 0.298371109, out_h1 = 0.593269992, "
    "out_o2 = 0.772928465, w1' = 0.149780716, ...) are right. Their 4-5-digit hand chain is not: "
    "net_o1 = 1.1060 should be 1.1059 (0.23731 + 0.26860 + 0.60 = 1.10591); δ_o2 = −0.03807 should "
    "be −0.0380982 (as their own first pass says); w8' = 0.5613 should be 0.5614 and w3' = 0.2497 "
    "should be 0.2498 (see w3' and w8' above). The first pass truncates where it should round "
    "(net_h1 0.377 for 0.3775, E 0.2983 for 0.29837), and two lines name out_o1 where they mean out_o2.",
    0.6: "The results w5' = 0.350699776 and w1' = 0.1497368592 are right, but the gradient quoted "
    "beside them, 0.08216709, is a typo for 0.0821670 (see dE/dw5 above). The notes use η = 0.6 "
    "here and η = 0.5 for the same network later, without saying so: `soma explain backprop-222` "
    "is the η = 0.5 pass.",
}


def mazur(lr):
    def build(digits):
        model = dense(
            ([[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35], nn.Sigmoid),
            ([[0.40, 0.45], [0.50, 0.55]], [0.60, 0.60], nn.Sigmoid),
            frozen_bias=True,
        )
        report = step(
            model,
            [0.05, 0.10],
            [0.01, 0.99],
            nn.MSELoss(),
            lr=lr,
            digits=digits,
            title=f"Notes 004: the 2-2-2 sigmoid network, one backpropagation step (η = {lr})",
        )
        legend(
            report,
            "The notes' shared biases b1 = 0.35 (hidden) and b2 = 0.60 (output) are "
            "b_h1 = b_h2 and b_o1 = b_o2 here, frozen as in the notes (only w1..w8 "
            "learn). E = Σ ½(t − out)², which over two outputs is MSELoss().",
        )
        return verdict(report, MAZUR_NOTES[lr])

    return build


def chain(digits):
    model = dense(([[0.15]], [0.40], nn.Sigmoid), ([[0.45]], [0.65], nn.Sigmoid))
    report = step(
        model,
        [0.1],
        [0.25],
        half_squared_error,
        lr=0.4,
        digits=digits,
        title="Notes 000: a one-input chain of two sigmoid neurons, one backpropagation step",
    )
    legend(
        report,
        "Notes 000 call the hidden output a1 (= out_h1), the output a2 (= out_o1), "
        "the weights w1 = w1 and w2 = w2, the biases b1 = b_h1 and b2 = b_o1; E = ½(T − a2)².",
    )
    return verdict(
        report,
        "Every number of the notes is right to the digits shown, but three lines are misprinted: the "
        "b1 update reads 0.40 − 0.4·(−0.01021), which would give 0.4041; the gradient is +0.01021 "
        "(dE/db_h1 above) and the notes' own result 0.3959 uses it. The loss is printed "
        "E = 1/2(T − a^2)^2 where (T − a2)² is meant, and the b1 step sits under a second "
        "'Updating w2' heading.",
    )


def relu_exam(digits):
    model = dense(
        ([[1.0, 0.5], [-0.5, -1.0]], [0.5, -0.5], nn.ReLU),
        ([[0.5, -0.5], [-1.0, 1.0]], [-1.0, 0.5], None),
    )
    report = step(
        model,
        [2.0, -1.0],
        [1.0, 0.5],
        nn.MSELoss(),
        lr=0.1,
        digits=digits,
        title="Notes 002, exam Part III: a 2-2-2 ReLU network, update of w21",
    )
    legend(
        report,
        "Notes' names → report: w11 = w1, w21 = w2, w12 = w3, w22 = w4 (w_ab joins input a "
        "to hidden b); w31 = w5, w41 = w6, w32 = w7, w42 = w8; b1..b4 = b_h1, b_h2, b_o1, "
        "b_o2; h1, h2 = net_h1, net_h2; h3, h4 = out_h1, out_h2. So dE/dw21 is dE/dw2 and "
        "w21' is w2'. E = ½Σ(t − o)² = MSELoss() over the two outputs.",
    )
    return verdict(report, "The notes' o = (0, −1.5), E = 2.5, ∂E/∂w21 = −1.5 and w21' = 0.65 are right.")


def tuple_101(digits):
    model = dense(
        ([[0.2, 0.4, -0.5], [-0.3, 0.1, 0.2]], [-0.4, 0.2], nn.Sigmoid),
        ([[-0.3, -0.2]], [0.1], nn.Sigmoid),
    )
    report = step(
        model,
        [1.0, 0.0, 1.0],
        [1.0],
        half_squared_error,
        lr=0.9,
        digits=digits,
        title="Notes 002: the 3-2-1 sigmoid network on X = (1, 0, 1), class 1, l = 0.9",
    )
    legend(
        report,
        "Notes' units 4, 5, 6 are h1, h2, o1 (O4 = out_h1, I4 = net_h1, ...). Weights: "
        "w14 = w1, w24 = w2, w34 = w3, w15 = w4, w25 = w5, w35 = w6, w46 = w7, w56 = w8; "
        "θ4 = b_h1, θ5 = b_h2, θ6 = b_o1. The notes' Err_j is −δ_j here (they add "
        "l·Err·O where gradient descent subtracts η·δ·O: the same update).",
    )
    return verdict(
        report,
        "Every value of the notes (O6 = 0.474, Err6 = 0.1311, w46 = −0.261, ...) is right, "
        "rounded to the 3-4 digits they show.",
    )


def adaline(digits):
    model = dense(([[0.2, -0.3]], [0.1], None))
    report = Report(
        "Notes 004: ADALINE, the LMS rule w ← w + η(d − y)x on the bipolar AND, one epoch", digits
    )
    section = report.section("The rule as gradient descent")
    report.text(
        section,
        "y = w·x + b (linear), E = ½(d − y)², dE/dw = −(d − y)·x: SGD with η = 0.1 on E "
        "is exactly the LMS rule. Samples are taken one at a time, in the notes' order.",
    )
    samples = [([1.0, 1.0], 1.0), ([1.0, -1.0], -1.0), ([-1.0, 1.0], -1.0), ([-1.0, -1.0], -1.0)]
    for number, (x, d) in enumerate(samples, start=1):
        one = step(model, x, [d], half_squared_error, lr=0.1, apply=True, digits=digits)
        report.extend(one, prefix=f"sample {number}, x = ({x[0]:g}, {x[1]:g}), d = {d:g}: ")
    return verdict(
        report,
        "The notes work the first sample only: w = (0.3, −0.2), b = 0.2 is right. The other three "
        "samples of the epoch are not in the notes.",
    )


def _perceptron_sample(report, section, model, x, d, tag):
    """One sample of the perceptron rule: z, the error e and the updated w1, w2, b; returns e."""
    w, b = model.weights.copy(), model.bias
    z = float(model.net_input(x[None])[0])
    e = model.update(x, d)
    report.equation(section, f"z [{tag}]", z, formula="w1·x1 + w2·x2 + b", numbers="{} × {} + {} × {} + {}",
                    numbers_values=(w[0], x[0], w[1], x[1], b))
    report.equation(section, f"e [{tag}]", e, formula="d − step(z)", numbers="{} − {}",
                    numbers_values=(float(d), float(d) - e))
    for i in range(2):
        report.equation(section, f"w{i + 1}' [{tag}]", model.weights[i], formula=f"w{i + 1} + η·e·x{i + 1}",
                        numbers="{} + {} × {} × {}", numbers_values=(w[i], model.lr, e, x[i]))
    report.equation(section, f"b' [{tag}]", model.bias, formula="b + η·e", numbers="{} + {} × {}",
                    numbers_values=(b, model.lr, e))
    return e


def perceptron(digits):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=F64)
    y = np.array([0, 0, 0, 1])
    model = classic.Perceptron(2, lr=1.0)
    report = Report("Notes 004: the perceptron learning rule on AND (w ← w + η(d − y)x, η = 1)", digits)
    for epoch in range(1, 21):  # until an epoch without mistakes, at most 20
        section = report.section(f"Epoch {epoch}")
        mistakes = 0
        for x, d in zip(X, y, strict=False):
            mistakes += _perceptron_sample(report, section, model, x, d, f"e{epoch} x=({x[0]:g},{x[1]:g})") != 0
        report.text(section, f"{mistakes} mistake(s) in epoch {epoch}")
        if mistakes == 0:
            break
    report.values["weights"], report.values["bias"] = model.weights.copy(), model.bias
    return verdict(
        report,
        "The notes give the rule w ← w + η(d − y)x but train nothing with it; the epochs above are "
        "soma.classic.Perceptron learning AND from zero weights.",
    )


# ----------------------------------------------------------------- forward only
def truth_table(network, rows, title, digits):
    report = Report(title, digits)
    for number, row in enumerate(rows):
        one = forward(network, np.asarray(row, dtype=F64), digits=digits)
        if number:  # the model is the same for every row: show it once
            one.sections = [s for s in one.sections if s.heading != "Given"]
        report.extend(one, prefix=f"x = ({', '.join(f'{v:g}' for v in row)}): ")
    return report


BOOLEAN = [[0, 0], [0, 1], [1, 0], [1, 1]]


def gates(digits):
    report = Report("Notes 000: AND, OR and NOT as single step neurons", digits)
    report.extend(truth_table(classic.and_gate(F64), BOOLEAN, "", digits), prefix="AND, ")
    report.extend(truth_table(classic.or_gate(F64), BOOLEAN, "", digits), prefix="OR, ")
    report.extend(truth_table(classic.not_gate(F64), [[0], [1]], "", digits), prefix="NOT, ")
    return verdict(report, "Every net input and output of the notes' AND, OR and NOT tables is right.")


def xnor_net(digits):
    report = truth_table(classic.xnor_network(F64), BOOLEAN, "Notes 000: XNOR from three step neurons", digits)
    return verdict(report, "The notes' a3 = 1, 0, 0, 1 is right; their XOR formula '(A+B)*(AB)′' is (A + B)·(AB)′ "
                           "misprinted.")


def xor_sigmoid_net(digits):
    report = truth_table(classic.xor_network(F64), BOOLEAN, "Notes 004: the hand-set sigmoid network computing XOR",
                         digits)
    return verdict(report, "The notes' y ≈ 0, 1, 1, 0 is right (the output nets are −10, 10, 10, −10 with h rounded "
                           "to 0/1).")


def softmax_animals(digits):
    logits = soma.tensor(np.array([-1.0, 0.0, 3.0, 5.0]), dtype=F64)
    exps, probabilities = soma.exp(logits), soma.softmax(logits, dim=0)
    total = exps.sum()
    names = ["cat", "dog", "monkey", "horse"]
    report = Report("Notes 001: softmax of the scores cat −1, dog 0, monkey 3, horse 5", digits)
    section = report.section("Softmax p_k = e^z_k / Σ_j e^z_j")
    for name, z, e in zip(names, logits._array, exps._array, strict=False):
        report.equation(section, f"e^z_{name}", e, formula=f"e^{z:g}")
    report.equation(section, "Σ e^z", float(total._array), formula=" + ".join(f"e^z_{n}" for n in names),
                    numbers=" + ".join(["{}"] * 4), numbers_values=tuple(exps._array))
    for k, name in enumerate(names):
        report.equation(section, f"p_{name}", probabilities._array[k], formula=f"e^z_{name} / Σ e^z",
                        numbers="{} / {}", numbers_values=(exps._array[k], float(total._array)))
    return verdict(
        report,
        "The notes' 0.00033, 0.0024, 0.0183, 0.1853 are wrong: their denominators leave "
        "out e^5; the probabilities above sum to 1 and P(horse) = 0.873704. Their "
        "re-normalized 0.1853 / (0.00033 + 0.0024 + 0.0183 + 0.1853) is 0.898, not '≥ 0.86'.",
    )


EXAMPLES_NETWORKS = [
    Example("backprop-222", "N004-backprop-222", "the 2-2-2 sigmoid network of notes 004, lr 0.5", mazur(0.5)),
    Example("backprop-222-lr06", "N004-backprop-222-lr06", "the same network, first pass with lr 0.6", mazur(0.6)),
    notes(0, "chain-1-1-1", "one input through two sigmoid neurons", chain),
    notes(2, "relu-exam", "exam question: 2-2-2 ReLU network, update w21", relu_exam),
    notes(2, "tuple-101", "3-2-1 sigmoid network on X = (1, 0, 1), lr 0.9", tuple_101),
    notes(4, "adaline-lms", "ADALINE / LMS rule, one epoch of bipolar AND", adaline),
    Example("perceptron-and", "N004-mp-neuron", "the perceptron rule learning AND (notes 004's formula)", perceptron),
    notes(0, "logic-gates", "AND, OR, NOT as single step neurons", gates),
    notes(0, "xnor-net", "XNOR from three step neurons", xnor_net),
    notes(4, "xor-sigmoid-net", "the hand-set sigmoid XOR network", xor_sigmoid_net),
    notes(1, "softmax-animals", "softmax of four class scores", softmax_animals),
]
EXAMPLES = {e.name: e for e in EXAMPLES_NETWORKS + EXAMPLES_CNN + EXAMPLES_BASICS + EXAMPLES_ATTENTION}


def takes_cell(example):
    """Whether ``example`` can write any output cell (the convolution and pooling examples)."""
    return "cell" in inspect.signature(example.build).parameters


def explain_example(name, digits=6, cell=None):
    """The report of the worked example ``name`` (see ``EXAMPLES``).

    ``cell=(i, j)`` also writes that output of a convolution or pooling example as its sum
    of products (or its window's maximum), beside the ones the notes work.
    """
    try:
        example = EXAMPLES[name]
    except KeyError:
        raise KeyError(
            f"no worked example named {name!r}; choose one of: {', '.join(EXAMPLES)}"
        ) from None
    if cell is None:
        return example.build(digits)
    if not takes_cell(example):
        choices = ", ".join(n for n, e in EXAMPLES.items() if takes_cell(e))
        raise ValueError(f"the example {name!r} has no output cells to choose; cell= works for: {choices}")
    return example.build(digits, cell=cell)
