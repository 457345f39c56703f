"""soma.explain.graph: the DOT text of a small graph is well formed and an SVG is drawn."""

import re
import shutil

import numpy as np
import pytest

import soma
from soma import explain


def small_graph():
    w = soma.tensor([0.15, 0.20], requires_grad=True)
    x = soma.tensor([0.05, 0.10])
    b = soma.tensor(0.35, requires_grad=True)
    loss = ((w * x).sum() + b).sigmoid() * 2.0
    loss.backward()
    return loss, w, b


def parse(dot):
    nodes = dict(re.findall(r'^\s+(\w+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M))
    edges = re.findall(r"^\s+(\w+) -> (\w+);", dot, re.M)
    return nodes, edges


def test_dot_is_structurally_valid_and_names_every_op():
    loss, w, b = small_graph()
    dot = explain.graph(loss, values=True, grads=True, names={"w": w, "b": b}).to_dot()
    assert dot.startswith("digraph soma {") and dot.rstrip().endswith("}")
    nodes, edges = parse(dot)
    assert edges and all(a in nodes and c in nodes for a, c in edges)
    ops = sorted(label for key, label in nodes.items() if key.startswith("f"))
    assert ops == sorted(["Mul", "Sum", "Add", "Sigmoid", "Mul"])
    # the leaves that require grad are blue and show their gradient, computed by autograd
    assert re.search(
        r'label="w\\n\(2,\) float32\\n= \[0.15, 0.2\]\\ngrad \[[^"]*\]", shape="ellipse", '
        r'style="filled", fillcolor="lightblue"',
        dot,
    )
    assert f"grad {explain.format_number(b.grad.item(), 4)}" in dot
    # acyclic, and the loss is the only sink
    sinks = set(nodes) - {a for a, _ in edges}
    assert sinks == {f"t{id(loss)}"}


def test_dot_parses_with_graphviz_and_renders_svg():
    loss, _, _ = small_graph()
    graph = explain.graph(loss)
    graphviz = pytest.importorskip("graphviz")
    source = graphviz.Source(graph.to_dot())
    assert source.source == graph.to_dot()
    if shutil.which("dot") is None:
        pytest.skip(
            "the Graphviz 'dot' program is not installed (apt-get install graphviz); CI installs it"
        )
    svg = graph.to_svg()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "Sigmoid" in svg
    assert graph._repr_svg_() == svg


def test_missing_dot_gives_a_clear_error(monkeypatch, tmp_path):
    loss, _, _ = small_graph()
    graph = explain.graph(loss)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz.*brew install graphviz"):
        graph.to_svg()
    assert graph._repr_svg_() is None and "```dot" in graph._repr_markdown_()
    assert graph.save(tmp_path / "g.dot").endswith("g.dot")
    assert (tmp_path / "g.dot").read_text() == graph.to_dot()


def test_a_leaf_alone_and_a_shared_input():
    leaf = soma.tensor([1.0, 2.0], requires_grad=True)
    assert len(explain.graph(leaf).nodes) == 1 and not explain.graph(leaf).edges
    y = leaf * leaf  # the same tensor feeds both inputs of one op: one node, one edge
    nodes, edges = parse(explain.graph(y).to_dot())
    assert len(nodes) == 3 and len(edges) == 2
    np.testing.assert_array_equal(y._array, [1.0, 4.0])


def test_nodes_are_named_after_the_callers_variables_with_a_legend():
    x1, x2 = soma.tensor(0.05), soma.tensor(0.1)
    w1, w2 = soma.tensor(0.15, requires_grad=True), soma.tensor(0.2, requires_grad=True)
    net_h1 = w1 * x1 + w2 * x2
    out_h1 = net_h1.sigmoid()
    model = soma.nn.Linear(1, 1)
    loss = (model(out_h1.reshape(1, 1)) ** 2).sum()
    nodes, _ = parse(explain.graph(loss).to_dot())
    names = {label.split("\\n")[0] for label in nodes.values()}
    assert {"x1", "x2", "w1", "w2", "net_h1", "out_h1", "loss", "model.weight", "model.bias"} <= names
    dot = explain.graph(loss, names={"h": out_h1}).to_dot()
    assert 'label="h\\n' in dot  # given names win over found ones
    assert "legend [shape=plaintext" in dot and "a leaf that requires grad" in dot
    plain = explain.graph(loss, auto_names=False, legend=False).to_dot()
    assert "net_h1" not in plain and "legend" not in plain


def test_the_progress_bar_uses_no_widget_without_ipywidgets(monkeypatch):
    import importlib.util
    import io
    import warnings

    from soma.train import progress

    monkeypatch.setattr(progress, "_in_notebook", lambda: True)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    bar = progress.ProgressBar(file=io.StringIO())
    bar.trainer = type("T", (), {"params": {"epochs": 1, "steps": 2}})()
    bar.on_train_begin()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bar.on_epoch_begin(0)
    assert type(bar._bar).__module__ == "tqdm.std"
