"""nn.utils.parametrizations.weight_norm / spectral_norm, nn.utils.parametrize and nn.init.trunc_normal_
against PyTorch: state_dict keys, values, input and parameter gradients over training steps."""

import math
import warnings

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.optim as optim
from helpers import random_array, randomize_module
from soma.autograd import gradcheck
from soma.nn.utils import parametrizations, parametrize

LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(4, 3), (5, 4)),
    "conv": (lambda lib: lib.nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    "conv_transpose": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 2), (2, 2, 3, 3)),
}
CASES = [
    ("weight_norm", {}), ("weight_norm", {"dim": None}), ("weight_norm", {"dim": 1}),
    ("spectral_norm", {}), ("spectral_norm", {"n_power_iterations": 3, "eps": 1e-6}),
]


def _pair(layer, how, kwargs):
    make, shape = LAYERS[layer]
    ref, ours = make(torch).double(), make(soma).double()
    randomize_module(ref)
    getattr(torch.nn.utils.parametrizations, how)(ref, **kwargs)
    getattr(parametrizations, how)(ours, **kwargs)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    ours.load_state_dict({k: soma.tensor(v.detach().numpy().copy()) for k, v in ref.state_dict().items()})
    return ours, ref, shape


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("how,kwargs", CASES, ids=[f"{h}-{i}" for i, (h, _) in enumerate(CASES)])
def test_parametrized_layer_trains_as_pytorch(layer, how, kwargs):
    ours, ref, shape = _pair(layer, how, kwargs)
    opt, ref_opt = optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    for step in range(3):
        x = random_array(shape, seed=step)
        xs, xt = soma.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ys, yt = ours(xs), ref(xt)
        g = random_array(tuple(yt.shape), seed=10 + step)
        opt.zero_grad()
        ref_opt.zero_grad()
        (ys * soma.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
        opt.step()
        ref_opt.step()
    for (name, b), (_, c) in zip(ours.named_buffers(), ref.named_buffers()):  # spectral norm's u, v
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    ours.eval()
    ref.eval()
    x = random_array(shape, seed=9)
    np.testing.assert_allclose(ours(soma.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_spectral_norm_divides_by_the_largest_singular_value():
    layer = parametrizations.spectral_norm(nn.Linear(6, 4).double(), n_power_iterations=50)
    layer.eval()
    original = layer.parametrizations.weight.original.detach().numpy()
    sigma = np.linalg.svd(original, compute_uv=False)[0]
    np.testing.assert_allclose(layer.weight.detach().numpy(), original / sigma, rtol=1e-8)
    assert np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)[0] == pytest.approx(1.0, rel=1e-8)


def test_weight_norm_gradcheck_and_split():
    layer = parametrizations.weight_norm(nn.Linear(3, 2).double())
    g, v = layer.parametrizations.weight.original0, layer.parametrizations.weight.original1
    assert tuple(g.shape) == (2, 1) and tuple(v.shape) == (2, 3)
    np.testing.assert_allclose(g.detach().numpy()[:, 0], np.linalg.norm(v.detach().numpy(), axis=1))
    entry = layer.parametrizations.weight
    assert gradcheck(lambda a, b: entry[0](a, b), (soma.tensor(random_array((2, 1)), requires_grad=True),
                                                   soma.tensor(random_array((2, 3), seed=1), requires_grad=True)))


def test_assigning_and_removing_a_parametrization():
    layer = parametrizations.weight_norm(nn.Linear(3, 2).double())
    assert isinstance(layer, nn.Linear) and parametrize.is_parametrized(layer, "weight")
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    target = random_array((2, 3))
    layer.weight = soma.tensor(target)  # stored through right_inverse as (g, v)
    np.testing.assert_allclose(layer.weight.detach().numpy(), target, rtol=1e-12)
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and not parametrize.is_parametrized(layer)
    assert isinstance(layer.weight, nn.Parameter) and sorted(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(layer.weight.detach().numpy(), target, rtol=1e-12)
    with pytest.raises(ValueError, match="no parametrization"):
        parametrize.remove_parametrizations(layer, "weight")


def test_custom_parametrization_stacks_and_checks_shapes():
    class Symmetric(nn.Module):
        def forward(self, x):
            return (x + x.transpose(0, 1)) / 2

    class Double(nn.Module):
        def forward(self, x):
            return x * 2

    class Flatten(nn.Module):
        def forward(self, x):
            return x.reshape(-1)

    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    parametrize.register_parametrization(layer, "weight", Double())
    w = layer.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    assert len(layer.parametrizations.weight) == 2
    with pytest.raises(ValueError, match="shape"):
        parametrize.register_parametrization(layer, "weight", Flatten())
    with pytest.raises(ValueError, match="no parameter or buffer"):
        parametrize.register_parametrization(layer, "kernel", Double())
    with pytest.raises(IndexError, match="out of range"):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="n_power_iterations"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def _truncated_moments(mean, std, a, b):
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    mu = mean + std * (pdf(alpha) - pdf(beta)) / z
    var = std**2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2)
    return mu, math.sqrt(var)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 0.2, 0.0, 0.6), (0.0, 0.02, -0.04, 0.01)])
def test_trunc_normal_has_the_truncated_normal_distribution(mean, std, a, b):
    ours = nn.init.trunc_normal_(soma.empty(200, 250), mean, std, a, b).numpy()
    theirs = torch.nn.init.trunc_normal_(torch.empty(200, 250), mean, std, a, b).numpy()
    mu, sigma = _truncated_moments(mean, std, a, b)
    for sample in (ours, theirs):
        assert sample.min() >= a and sample.max() <= b
        assert sample.mean() == pytest.approx(mu, abs=4 * sigma / math.sqrt(sample.size))
        assert sample.std() == pytest.approx(sigma, rel=0.02)


def test_trunc_normal_warns_as_pytorch():
    with pytest.warns(UserWarning, match="more than 2 std"):
        nn.init.trunc_normal_(soma.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.init.trunc_normal_(soma.empty(10), mean=2.5, std=1.0, a=-1.0, b=1.0)
