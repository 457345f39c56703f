"""``soma.explain.graph``: draw the computational graph that produced a tensor.

Every op recorded during the forward pass is a node (the ``Function`` instance in
``tensor.grad_fn``), whose ``inputs`` are the tensors and constants it was called
with. Walking those links back from a tensor gives the graph that ``backward()``
will traverse (notes 004, "computational graph"): boxes are ops, ellipses are
tensors (blue: a leaf that requires grad, i.e. a parameter backward fills; grey: a
constant leaf; white: an intermediate result), edges follow the data forward.

    >>> g = soma.explain.graph(loss, values=True, grads=True)
    >>> print(g.to_dot())       # Graphviz DOT text
    >>> g.to_svg()              # needs the ``dot`` program (apt install graphviz)
"""

import inspect
import shutil
import subprocess

import numpy as np

from soma.explain.report import format_value
from soma.tensor import Tensor

__all__ = ["Graph", "graph"]

_INSTALL = (
    "the Graphviz 'dot' program is not installed: install it with "
    "'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS) or "
    "'conda install graphviz'; Graph.to_dot() works without it"
)


def graph(tensor, values=False, grads=False, names=None, digits=4, legend=True, auto_names=True):
    """The graph behind ``tensor`` as a :class:`Graph`.

    Args:
        tensor: the result to trace back (usually the loss).
        values: show the numbers of small tensors (up to 6 entries) in their nodes.
        grads: show ``.grad`` where backward left one.
        names: ``{name: tensor}`` labels for tensors, e.g. ``dict(model.named_parameters())``.
        digits: significant digits of the numbers shown.
        legend: draw a key to the shapes and colours beside the graph.
        auto_names: name each tensor after the caller's variable that holds it (``net_h1``,
            ``out_h1``) and each parameter of the caller's modules after the module
            (``model.0.weight``); ``names`` wins where both name a tensor.

    Example::

        >>> net_h1 = w1 * x1 + w2 * x2 + b1
        >>> out_h1 = net_h1.sigmoid()
        >>> soma.explain.graph(out_h1)      # the nodes read net_h1 and out_h1
    """
    given = dict(names or {})  # first: a name given for a tensor wins over a variable's
    found = caller_names(inspect.currentframe().f_back) if auto_names else {}
    return Graph(tensor, values, grads, {**given, **{n: t for n, t in found.items() if n not in given}}, digits, legend)


def caller_names(frame):
    """``{name: tensor}`` for the Tensors and the Modules' parameters among a frame's variables."""
    from soma.nn.module import Module

    names = {}
    if frame is None:
        return names
    for name, value in list(frame.f_locals.items()):
        if name.startswith("_"):
            continue  # Jupyter's _, __, _1 ... hold earlier outputs, not the user's names
        if isinstance(value, Tensor):
            names.setdefault(name, value)
        elif isinstance(value, Module):
            for pname, parameter in value.named_parameters():
                names.setdefault(f"{name}.{pname}", parameter)
    return names


class Graph:
    """Nodes and edges of a computational graph; render with ``to_dot`` / ``to_svg``."""

    def __init__(self, tensor, values=False, grads=False, names=None, digits=4, legend=True):
        self.tensor, self.values, self.grads, self.digits, self.legend = tensor, values, grads, digits, legend
        self._labels = {}
        for name, t in (names or {}).items():  # the first name given for a tensor is kept
            self._labels.setdefault(id(t), name)
        self.nodes = {}  # id → (label, attributes)
        self.edges = []  # (from id, to id)
        self._build()

    # --------------------------------------------------------------- walking
    def _tensor_node(self, tensor):
        key = f"t{id(tensor)}"
        if key in self.nodes:
            return key
        lines = [self._labels.get(id(tensor), "tensor"), f"{tuple(tensor.shape)} {tensor.dtype}"]
        if self.values and tensor._array.size <= 6:
            lines.append(
                f"= {format_value(np.asarray(tensor._array, dtype=np.float64), self.digits)}"
            )
        if self.grads and tensor.grad is not None and tensor.grad._array.size <= 6:
            lines.append(
                f"grad {format_value(np.asarray(tensor.grad._array, dtype=np.float64), self.digits)}"
            )
        if tensor.is_leaf and tensor.requires_grad:
            style = {"shape": "ellipse", "style": "filled", "fillcolor": "lightblue"}
        elif tensor.is_leaf:
            style = {"shape": "ellipse", "style": "filled", "fillcolor": "lightgrey"}
        else:
            style = {"shape": "ellipse"}
        self.nodes[key] = ("\n".join(lines), style)
        return key

    def _op_node(self, node):
        key = f"f{id(node)}"
        if key not in self.nodes:
            self.nodes[key] = (
                type(node).__name__,
                {"shape": "box", "style": "filled", "fillcolor": "#ffe4b5"},
            )
        return key

    def _build(self):
        root = self._tensor_node(self.tensor)
        if self.tensor.grad_fn is None:
            return
        self.edges.append((self._op_node(self.tensor.grad_fn), root))
        stack, seen = [self.tensor.grad_fn], set()
        while stack:  # iterative: a long recurrent unroll would overflow recursion
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            op = self._op_node(node)
            for value in getattr(node, "inputs", ()):
                if isinstance(value, Tensor):
                    source = self._tensor_node(value)
                    self.edges.append((source, op))
                    if value.grad_fn is not None:
                        self.edges.append((self._op_node(value.grad_fn), source))
                        stack.append(value.grad_fn)
                elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                    key = f"c{id(node)}_{len(self.nodes)}"
                    self.nodes[key] = (
                        format_value(float(value), self.digits),
                        {"shape": "plaintext"},
                    )
                    self.edges.append((key, op))
        self.edges = list(dict.fromkeys(self.edges))

    # ------------------------------------------------------------- rendering
    def to_dot(self):
        """Graphviz DOT text (data flows top to bottom, from the leaves to the result)."""
        lines = ["digraph soma {", '  node [fontname="Helvetica", fontsize=10];']
        for key, (label, attributes) in self.nodes.items():
            extra = "".join(f', {k}="{v}"' for k, v in attributes.items())
            lines.append(f'  {key} [label="{_escape(label)}"{extra}];')
        for source, target in self.edges:
            lines.append(f"  {source} -> {target};")
        if self.legend:
            lines.append(_LEGEND)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_svg(self):
        """SVG text, drawn by the Graphviz ``dot`` program (a clear error if it is missing)."""
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(_INSTALL)
        result = subprocess.run(
            [dot, "-Tsvg"],
            input=self.to_dot(),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dot failed: {result.stderr.strip()}")
        return result.stdout

    def save(self, path):
        """Write ``.dot`` text, or ``.svg`` (via ``dot``), chosen by the file's extension."""
        path = str(path)
        text = self.to_svg() if path.endswith(".svg") else self.to_dot()
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return path

    def _repr_svg_(self):
        return self.to_svg() if shutil.which("dot") else None  # Jupyter then shows the Markdown

    def _repr_markdown_(self):
        return "```dot\n" + self.to_dot() + "```\n"

    def __repr__(self):
        return f"<soma.explain.Graph: {len(self.nodes)} nodes, {len(self.edges)} edges>"


_LEGEND = (
    '  legend [shape=plaintext, fontsize=9, label=<<table border="0" cellborder="1" cellspacing="0" '
    'cellpadding="3"><tr><td colspan="2">legend</td></tr>'
    '<tr><td bgcolor="lightblue">name</td><td align="left">a leaf that requires grad (a parameter)</td></tr>'
    '<tr><td bgcolor="lightgrey">name</td><td align="left">a constant leaf (an input)</td></tr>'
    '<tr><td>name</td><td align="left">an intermediate result</td></tr>'
    '<tr><td bgcolor="#ffe4b5">Op</td><td align="left">the op that made the tensor below it</td></tr>'
    '<tr><td colspan="2" align="left">tensors are named after your variables; '
    "&quot;tensor&quot; where none holds it</td></tr></table>>];"
)


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
