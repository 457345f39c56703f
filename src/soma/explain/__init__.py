"""``soma.explain``: every number of a forward and backward pass, written out step by step.

- :func:`step` runs one training step on a copy of a model and returns a :class:`Report`
  that writes the forward pass, the loss, every chain-rule factor of backpropagation
  and every weight update, as the lecture notes work them by hand (notes 000, 002, 004).
- :func:`graph` draws the computational graph behind a tensor (Graphviz DOT/SVG).
- :func:`gradient_flow` and :func:`lr_range_test` are training diagnostics.
- :mod:`soma.explain.examples` holds every worked example of the notes as a report;
  ``soma explain --list`` prints their names.

A report prints as text wrapped to the terminal, displays in Jupyter as HTML (MathML
math, arrays as tables), and saves as HTML, Markdown or LaTeX (``report.save(path)``).
``step(..., cell=(i, j))`` writes any output cell of a convolution or pooling layer.
``soma.explain`` is there after a plain ``import soma`` (it loads on first use).
"""

from soma.explain import diagnostics
from soma.explain.diagnostics import GradientFlow, gradient_flow
from soma.explain.graph import Graph, graph
from soma.explain.losses import half_squared_error
from soma.explain.lr_finder import LRRangeTest, lr_range_test
from soma.explain.report import Equation, Report, Section, format_number
from soma.explain.step import forward, step

__all__ = [
    "diagnostics",
    "Report",
    "Section",
    "Equation",
    "format_number",
    "step",
    "forward",
    "half_squared_error",
    "graph",
    "Graph",
    "gradient_flow",
    "GradientFlow",
    "lr_range_test",
    "LRRangeTest",
]
