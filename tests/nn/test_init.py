"""nn.init: gains and fans as PyTorch computes them, distributions with the right bounds/std, seeding."""

import math

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
from soma.nn import init


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                                ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                                ("selu", None), ("conv2d", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


@pytest.mark.parametrize("shape", [(3, 5), (8, 4, 3, 3), (6, 2, 7), (4, 4, 2, 2, 2)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(soma.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_of_1d_is_an_error():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(soma.empty(5))
    with pytest.raises(ValueError, match="Mode"):
        init.kaiming_normal_(soma.empty(3, 3), mode="fan_avg")


SHAPE = (300, 200)
FAN_IN, FAN_OUT = 200, 300


@pytest.mark.parametrize("fn,bound", [
    (lambda t: init.uniform_(t, -0.3, 0.7), None),
    (lambda t: init.xavier_uniform_(t, gain=2.0), 2.0 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2) * math.sqrt(3 / FAN_IN)),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(FAN_IN)),
    (lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="tanh"), 5 / 3 * math.sqrt(3 / FAN_OUT)),
])
def test_uniform_initializers_bounds(fn, bound):
    t = fn(soma.empty(*SHAPE))
    values = t.numpy()
    if bound is None:
        assert values.min() >= -0.3 and values.max() <= 0.7 and abs(values.mean() - 0.2) < 0.01
        return
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound


@pytest.mark.parametrize("fn,std", [
    (lambda t: init.normal_(t, 1.0, 0.5), 0.5),
    (lambda t: init.xavier_normal_(t), math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / FAN_IN)),
    (lambda t: init.kaiming_normal_(t, mode="fan_out"), math.sqrt(2 / (1 + 0.01**2)) / math.sqrt(FAN_OUT)),
    (lambda t: init.trunc_normal_(t, std=1.0, a=-10, b=10), 1.0),
])
def test_normal_initializers_std(fn, std):
    values = fn(soma.empty(*SHAPE)).numpy()
    assert abs(values.std() - std) < 0.02 * std


def test_trunc_normal_respects_bounds():
    values = init.trunc_normal_(soma.empty(100, 100), std=1.0, a=-0.5, b=0.8).numpy()
    assert values.min() >= -0.5 and values.max() <= 0.8


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (4, 2, 3)])
def test_orthogonal(shape):
    t = init.orthogonal_(soma.empty(*shape, dtype=soma.float64), gain=1.5).numpy().reshape(shape[0], -1)
    rows, cols = t.shape
    gram = t @ t.T if rows <= cols else t.T @ t
    np.testing.assert_allclose(gram, 1.5**2 * np.eye(min(rows, cols)), atol=1e-12)


def test_constant_zeros_ones_eye_dirac_sparse():
    assert np.all(init.constant_(soma.empty(2, 3), 0.25).numpy() == 0.25)
    assert np.all(init.zeros_(soma.empty(2, 3)).numpy() == 0)
    assert np.all(init.ones_(soma.empty(2, 3)).numpy() == 1)
    np.testing.assert_array_equal(init.eye_(soma.empty(2, 3)).numpy(), np.eye(2, 3))
    w = init.dirac_(soma.empty(4, 2, 3, 3))
    ref = torch.nn.init.dirac_(torch.empty(4, 2, 3, 3))
    np.testing.assert_array_equal(w.numpy(), ref.numpy())
    s = init.sparse_(soma.empty(10, 6), sparsity=0.3).numpy()
    assert np.all((s == 0).sum(axis=0) >= 3)


def test_init_in_place_under_no_grad_on_parameters_and_seeded():
    layer = nn.Linear(4, 3)
    weight = layer.weight._array
    soma.manual_seed(11)
    init.kaiming_normal_(layer.weight)
    first = layer.weight.detach().numpy().copy()
    assert layer.weight._array is weight and layer.weight.requires_grad and layer.weight.grad is None
    soma.manual_seed(11)
    init.kaiming_normal_(layer.weight)
    np.testing.assert_array_equal(first, layer.weight.detach().numpy())
    assert layer.weight.dtype == np.float32


@pytest.mark.parametrize("make_soma,make_torch", [
    (lambda: nn.Linear(500, 40), lambda: torch.nn.Linear(500, 40)),
    (lambda: nn.Bilinear(300, 20, 40), lambda: torch.nn.Bilinear(300, 20, 40)),
    (lambda: nn.Embedding(300, 40), lambda: torch.nn.Embedding(300, 40)),
])
def test_default_layer_init_distribution_matches_torch(make_soma, make_torch):
    ours = dict(make_soma().named_parameters())
    theirs = dict(make_torch().named_parameters())
    assert list(ours) == list(theirs)
    for name, value in theirs.items():
        a, b = ours[name].detach().numpy(), value.detach().numpy()
        assert a.shape == b.shape and a.dtype == np.float32
        if a.size >= 100:  # the largest of 100+ uniform draws is within 10% of the bound
            assert abs(np.abs(a).max() - np.abs(b).max()) < 0.1 * np.abs(b).max() + 1e-3
        if a.size >= 1000:  # enough samples for the spread to be compared
            assert abs(a.std() - b.std()) < 0.05 * b.std()
