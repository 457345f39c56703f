"""Every public nn layer documents its shapes, in PyTorch's style: a ``Shape:`` section (the inputs and the
outputs, or the layer whose shapes it shares). The abstract bases are the only exceptions."""

import inspect

import pytest

import soma.nn as nn

ABSTRACT = {"Module", "RNNBase", "RNNCellBase"}  # base classes: their subclasses document the shapes
LAYERS = [name for name in nn.__all__ if inspect.isclass(getattr(nn, name)) and issubclass(getattr(nn, name), nn.Module)]


def test_the_walk_sees_every_layer_family():
    assert {"Linear", "Conv2d", "CrossEntropyLoss", "LSTM", "Transformer", "SyncBatchNorm"} <= set(LAYERS)
    assert len(LAYERS) > 90


@pytest.mark.parametrize("name", sorted(set(LAYERS) - ABSTRACT))
def test_docstring_has_a_shape_section(name):
    doc = inspect.getdoc(getattr(nn, name)) or ""
    assert "Shape:" in doc, f"nn.{name}'s docstring has no Shape: section"
    section = doc[doc.index("Shape:") + len("Shape:"):].split("\n\n")[0].strip()
    assert len(section) > 10, f"nn.{name}'s Shape: section is empty"
