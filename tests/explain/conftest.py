"""Shared builders for the soma.explain tests: the notes' networks with their weights set."""

import numpy as np
import pytest

import soma
from soma import nn


def set_linear(layer, weight, bias):
    with soma.no_grad():
        layer.weight._array[...] = np.asarray(weight, dtype=layer.weight.dtype)
        layer.bias._array[...] = np.asarray(bias, dtype=layer.bias.dtype)
    return layer


@pytest.fixture
def mazur():
    """The 2-2-2 sigmoid network of notes 004 (float64; biases shared and frozen, as in the notes)."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid()).double()
    set_linear(model[0], [[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35])
    set_linear(model[2], [[0.40, 0.45], [0.50, 0.55]], [0.60, 0.60])
    model[0].bias.requires_grad_(False)
    model[2].bias.requires_grad_(False)
    return model
