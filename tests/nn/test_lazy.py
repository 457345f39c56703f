"""Lazy layers read their input size off the first input and become the plain layer, as PyTorch's."""

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
from soma.nn.parameter import Parameter, UninitializedBuffer, UninitializedParameter

LAYERS = [
    ("LazyLinear", (3,), {}, (4, 5), "Linear"),
    ("LazyConv1d", (4, 3), dict(padding=1), (2, 3, 8), "Conv1d"),
    ("LazyConv2d", (4, 3), dict(stride=2, groups=2), (2, 6, 7, 7), "Conv2d"),
    ("LazyConv2d", (4, 3), {}, (3, 6, 6), "Conv2d"),  # unbatched
    ("LazyConvTranspose1d", (2, 3), {}, (2, 3, 5), "ConvTranspose1d"),
    ("LazyConvTranspose2d", (4, 2), dict(groups=2), (2, 6, 3, 3), "ConvTranspose2d"),
    ("LazyBatchNorm1d", (), {}, (4, 3), "BatchNorm1d"),
    ("LazyBatchNorm2d", (), dict(affine=False), (4, 3, 2, 2), "BatchNorm2d"),
    ("LazyBatchNorm3d", (), dict(track_running_stats=False), (2, 3, 2, 2, 2), "BatchNorm3d"),
]


@pytest.mark.parametrize("name, args, kwargs, shape, becomes", LAYERS)
def test_lazy_layers_become_the_plain_layer_as_torch(name, args, kwargs, shape, becomes):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs) and ours.has_uninitialized_params()
    assert all(repr(p) == "<UninitializedParameter>" for p in ours.parameters())
    params = list(ours.parameters())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours(soma.tensor(x)), theirs(torch.tensor(x))
    assert type(ours) is getattr(nn, becomes) and type(theirs) is getattr(torch.nn, becomes)
    assert repr(ours) == repr(theirs) and not hasattr(ours, "has_uninitialized_params")
    assert [p is q for p, q in zip(params, ours.parameters())] == [True] * len(params)  # the same objects
    assert all(type(p) is Parameter for p in ours.parameters())
    for (key, mine), value in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert tuple(mine.shape) == tuple(value.shape), key
    ours.load_state_dict({k: soma.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(soma.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_an_optimizer_made_before_the_first_forward_trains_the_materialized_weights():
    layer = nn.LazyLinear(2)
    optimizer = soma.optim.SGD(layer.parameters(), lr=0.1)
    layer(soma.ones(3, 4)).sum().backward()
    before = layer.weight.detach().clone()
    optimizer.step()
    np.testing.assert_allclose((before - layer.weight).detach().numpy(), np.full((2, 4), 0.3), rtol=1e-6)


def test_a_checkpoint_gives_a_lazy_layer_its_shapes():
    trained = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2))
    lazy = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(2))
    lazy.load_state_dict(trained.state_dict())
    x = soma.randn(4, 5)
    np.testing.assert_array_equal(lazy(x).detach().numpy(), trained(x).detach().numpy())
    assert type(lazy[0]) is nn.Linear and lazy[0].in_features == 5


def test_uninitialized_tensors_say_so():
    layer = nn.LazyBatchNorm1d()
    assert isinstance(layer.weight, UninitializedParameter) and isinstance(layer.running_mean, UninitializedBuffer)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        layer.weight.shape  # noqa: B018  (the property raises)
    with pytest.raises(ValueError, match="in_channels \\(3\\) must be divisible by groups \\(2\\)"):
        nn.LazyConv2d(4, 3, groups=2)(soma.randn(1, 3, 5, 5))


def test_the_first_forward_initializes_as_the_plain_layer_would():
    soma.manual_seed(0)
    linear = nn.LazyLinear(300)
    linear(soma.ones(2, 400))
    w = linear.weight.detach().numpy()
    bound = 1 / np.sqrt(400)  # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(w).max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    norm = nn.LazyBatchNorm1d()
    norm.eval()(soma.ones(2, 3))
    assert norm.weight.tolist() == [1.0] * 3 and norm.bias.tolist() == [0.0] * 3
    assert norm.running_mean.tolist() == [0.0] * 3 and norm.running_var.tolist() == [1.0] * 3
