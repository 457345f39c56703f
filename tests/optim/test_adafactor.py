"""optim.Adafactor against torch.optim.Adafactor: parameter trajectories of 0-d to 3-d parameters, options,
state_dict layout and round trip, errors."""

import numpy as np
import pytest
import torch

import soma
import soma.optim as optim
from helpers import random_array

SHAPES = [(), (7,), (4, 5), (3, 4, 6)]


def _params(dtype=np.float64):
    arrays = [random_array(shape, dtype, seed=i) for i, shape in enumerate(SHAPES)]
    ours = [soma.nn.Parameter(soma.tensor(a.copy())) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]
    return ours, theirs


def _run(ours, theirs, opt, ref_opt, steps, seed=10):
    """Both optimizers take ``steps`` steps on the gradient of E = Σ (θ² + sin(kθ)·c), c random each step."""
    for step in range(steps):
        for i, (p, q) in enumerate(zip(ours, theirs)):
            c = random_array(tuple(p.shape), p.detach().numpy().dtype, seed=seed + 31 * step + i)
            loss = (p * p + soma.sin((step + 1) * p) * soma.tensor(c)).sum()
            loss.backward()
            ref_loss = (q * q + torch.sin((step + 1) * q) * torch.tensor(c)).sum()
            ref_loss.backward()
        opt.step()
        ref_opt.step()
        opt.zero_grad()
        ref_opt.zero_grad()


def _assert_same(ours, theirs, rtol=1e-9):
    for p, q in zip(ours, theirs):
        assert p.detach().numpy().dtype == q.detach().numpy().dtype
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=1e-12)


CONFIGS = [
    dict(),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-4), d=1.5, maximize=True),
    dict(lr=0.02, eps=(1e-3, 0.0), foreach=False),
    dict(lr=0.9, d=50.0, weight_decay=0.01),  # ρ = 1/√t, and the update's scale is not clipped away
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_trajectories_match_torch(kwargs):
    ours, theirs = _params()
    opt = optim.Adafactor(ours, **kwargs)
    ref_opt = torch.optim.Adafactor(theirs, **kwargs)
    _run(ours, theirs, opt, ref_opt, 10)
    _assert_same(ours, theirs)


def test_float32_trajectory_and_state_dtypes():
    ours, theirs = _params(np.float32)
    opt, ref_opt = optim.Adafactor(ours, lr=0.05), torch.optim.Adafactor(theirs, lr=0.05)
    _run(ours, theirs, opt, ref_opt, 10)
    _assert_same(ours, theirs, rtol=2e-5)
    for i, values in ref_opt.state_dict()["state"].items():
        saved = opt.state_dict()["state"][i]
        for key, value in values.items():
            assert tuple(saved[key].shape) == tuple(value.shape), key
            assert str(saved[key].dtype).split(".")[-1] == str(value.dtype).split(".")[-1], key


def test_state_dict_keys_and_round_trip():
    ours, theirs = _params()
    opt, ref_opt = optim.Adafactor(ours, lr=0.03), torch.optim.Adafactor(theirs, lr=0.03)
    _run(ours, theirs, opt, ref_opt, 4)
    saved, torch_saved = opt.state_dict(), ref_opt.state_dict()
    assert sorted(saved["state"]) == sorted(torch_saved["state"])
    for index, values in torch_saved["state"].items():
        assert sorted(saved["state"][index]) == sorted(values)
        for key, value in values.items():
            np.testing.assert_allclose(saved["state"][index][key].numpy(), value.numpy(), rtol=1e-9, err_msg=key)
    assert sorted(saved["param_groups"][0]) == sorted(torch_saved["param_groups"][0])
    fresh = optim.Adafactor(ours, lr=123.0)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 0.03
    _run(ours, theirs, fresh, ref_opt, 4, seed=99)
    _assert_same(ours, theirs)


def test_parameter_without_gradient_is_skipped():
    w, frozen = soma.nn.Parameter(soma.ones(3)), soma.nn.Parameter(soma.ones(2, 2))
    opt = optim.Adafactor([w, frozen])
    (w * w).sum().backward()
    opt.step()
    assert frozen.tolist() == [[1.0, 1.0], [1.0, 1.0]] and frozen not in opt.state
    assert w.tolist() != [1.0, 1.0, 1.0]


@pytest.mark.parametrize("kwargs", [dict(lr=-1.0), dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)),
                                    dict(eps=(None, -1.0)), dict(d=0.5), dict(weight_decay=-0.1)], ids=str)
def test_bad_hyper_parameters_raise_like_torch(kwargs):
    with pytest.raises(ValueError) as theirs:
        torch.optim.Adafactor([torch.nn.Parameter(torch.ones(2))], **kwargs)
    with pytest.raises(ValueError) as ours:
        optim.Adafactor([soma.nn.Parameter(soma.ones(2))], **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_defaults_and_repr_like_torch():
    ours = optim.Adafactor([soma.nn.Parameter(soma.ones(2))])
    theirs = torch.optim.Adafactor([torch.nn.Parameter(torch.ones(2))])
    assert ours.defaults == theirs.defaults
    assert repr(ours) == repr(theirs)
