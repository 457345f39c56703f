"""What the worked-example modules share: the :class:`Example` record and small builders.

``soma.explain.examples`` (backpropagation, logic gates, softmax),
``soma.explain.examples_cnn`` (convolution, pooling, conv shapes and costs) and
``soma.explain.examples_basics`` (activations, losses, regularization, optimizers,
data, the RNN) each build reports; ``soma.explain.examples.EXAMPLES`` gathers them.
"""

from dataclasses import dataclass

import numpy as np

import soma
from soma import nn
from soma.explain.report import grid

__all__ = ["Example", "notes", "F64", "dense", "legend", "loose_section", "grid", "sum_of_products", "count", "verdict"]

F64 = np.float64


@dataclass(frozen=True)
class Example:
    name: str
    source: str  # the catalogue id in docs/notes-examples.md
    description: str
    build: object  # build(digits) -> Report


def notes(number, name, description, build):
    """The :class:`Example` ``name`` of notes ``number``: catalogue id ``N00<number>-<name>``, the notes named last."""
    return Example(name, f"N{number:03d}-{name}", f"{description} (notes {number:03d})", build)


def dense(*layers, frozen_bias=False):
    """A float64 Sequential from ``(weight, bias, activation)`` triples (activation may be None)."""
    modules = []
    for weight, bias, activation in layers:
        weight = np.asarray(weight, dtype=F64)
        linear = nn.Linear(weight.shape[1], weight.shape[0], dtype=F64)
        with soma.no_grad():
            linear.weight._array[...] = weight
            linear.bias._array[...] = np.asarray(bias, dtype=F64)
        linear.bias.requires_grad_(not frozen_bias)
        modules.append(linear)
        if activation is not None:
            modules.append(activation())
    return nn.Sequential(*modules)


def loose_section(report, heading, text):
    """A section holding ``text`` that is not (yet) appended to ``report.sections``."""
    section = report.section(heading)
    report.sections.pop()
    report.text(section, text)
    return section


def legend(report, text):
    """Put a "Names used in the notes" section right after the report's first section."""
    report.sections.insert(1, loose_section(report, "Names used in the notes", text))
    return report


def sum_of_products(weights, inputs):
    """``("{} × {} + {} × {} + ...", (w1, x1, w2, x2, ...))``: an equation's numbers template
    for Σ wᵢ·xᵢ, written out term by term (a window of a convolution, a dot product)."""
    weights, inputs = np.ravel(weights), np.ravel(inputs)
    template = " + ".join(["{} × {}"] * weights.size)
    numbers = tuple(v for pair in zip(weights, inputs, strict=True) for v in pair)
    return template, numbers


def count(report, section, lhs, n, formula=None):
    """``lhs = formula = n`` for an integer count, written in full with thousands separators
    (1,769,472 rather than 1.76947e+06); ``report.values[lhs]`` is the int itself."""
    report.values[lhs] = int(n)
    return report.equation(section, lhs, f"{int(n):,}", record=False, formula=formula)


def verdict(report, text):
    """The last section, "The notes": what the notes printed and whether it is right."""
    report.text(report.section("The notes"), text)
    return report
