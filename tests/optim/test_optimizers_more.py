"""Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and LBFGS against torch.optim: 20 steps, float64, copied weights."""

import inspect

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.optim as optim
from helpers import copy_weights_to_torch, random_array

STEPS = 20

CONFIGS = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.7, 0.9), eps=1e-6, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),  # ρₜ crosses 5 at step 6: both branches
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.8), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=3, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1))),
    ("Rprop", dict(lr=0.01, maximize=True)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CONFIGS)]


def _models(seed=0):
    soma.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    ref = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()
    copy_weights_to_torch(model, ref)
    return model, ref


def _data(steps=STEPS):
    return random_array((steps, 8, 5)), random_array((steps, 8, 3), seed=1)


def _loss(model, x, y, lib):
    return lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(y))


def _train(model, ref, opt, ref_opt, x, y):
    for xs, ys in zip(x, y):
        opt.zero_grad()
        ref_opt.zero_grad()
        _loss(model, xs, ys, soma).backward()
        _loss(ref, xs, ys, torch).backward()
        opt.step()
        ref_opt.step()


def _assert_same(model, ref, rtol=1e-9):
    for (name, p), (_, q) in zip(model.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=1e-12, err_msg=name)


def _assert_state_like_torch(saved, torch_saved):
    assert sorted(saved["state"]) == sorted(torch_saved["state"])
    for index, values in torch_saved["state"].items():
        ours = saved["state"][index]
        assert sorted(ours) == sorted(values)
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                assert ours[key].dtype == np.dtype(str(value.dtype).replace("torch.", "")), key
                np.testing.assert_allclose(ours[key].numpy(), value.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)
    for group, torch_group in zip(saved["param_groups"], torch_saved["param_groups"]):
        assert sorted(group) == sorted(torch_group)


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_optimizer_matches_torch_over_20_steps(name, kwargs):
    model, ref = _models()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    ref_opt = getattr(torch.optim, name)(ref.parameters(), **kwargs)
    x, y = _data()
    _train(model, ref, opt, ref_opt, x, y)
    _assert_same(model, ref)
    _assert_state_like_torch(opt.state_dict(), ref_opt.state_dict())


@pytest.mark.parametrize("name,kwargs", CONFIGS[::3], ids=IDS[::3])
def test_state_dict_resumes_exactly_and_loads_torch_state(name, kwargs):
    x, y = _data(8)
    model, ref = _models()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    ref_opt = getattr(torch.optim, name)(ref.parameters(), **kwargs)
    _train(model, ref, opt, ref_opt, x[:4], y[:4])
    # a fresh soma optimizer resumes from soma's state, another from PyTorch's own state_dict
    fresh = getattr(optim, name)(model.parameters(), lr=123.0)
    fresh.load_state_dict(opt.state_dict())
    twin, twin_ref = _models()
    with torch.no_grad():
        for p, q in zip(twin.parameters(), model.parameters()):
            p._array[...] = q._array
    from_torch = getattr(optim, name)(twin.parameters(), lr=123.0)
    from_torch.load_state_dict(_as_soma(ref_opt.state_dict()))
    assert fresh.param_groups[0]["lr"] == from_torch.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]
    copy = torch.optim.Adam(twin_ref.parameters())  # only to step twin_ref alongside; its updates are ignored
    _train(model, ref, fresh, ref_opt, x[4:], y[4:])
    _train(twin, twin_ref, from_torch, copy, x[4:], y[4:])
    _assert_same(model, ref)
    _assert_same(twin, ref)


def _as_soma(value):
    """PyTorch's state_dict with its tensors as soma tensors (as soma.load gives a torch.save file)."""
    if isinstance(value, torch.Tensor):
        return soma.tensor(value.numpy())
    if isinstance(value, dict):
        return {k: _as_soma(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_soma(v) for v in value]
    return value


def _closure(model, opt, lib, x, y, calls=None):
    """L-BFGS's closure: clear the gradients, compute the loss, backpropagate (noting each call in ``calls``)."""
    def closure():
        if calls is not None:
            calls.append(lib.__name__)
        opt.zero_grad()
        loss = _loss(model, x, y, lib)
        loss.backward()
        return loss
    return closure


def _lbfgs_problem(seed=0):
    model, ref = _models(seed)
    x, y = random_array((32, 5), seed=3), random_array((32, 3), seed=4)
    return model, ref, x, y


@pytest.mark.parametrize("kwargs", [
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.5, history_size=3, max_iter=7, line_search_fn="strong_wolfe"),
    dict(lr=0.1),
    dict(lr=1, history_size=4, max_iter=10, max_eval=12, tolerance_change=1e-12),
], ids=["wolfe", "wolfe-short-history", "fixed-step", "fixed-step-max-eval"])
def test_lbfgs_matches_torch(kwargs):
    model, ref, x, y = _lbfgs_problem()
    opt, ref_opt = optim.LBFGS(model.parameters(), **kwargs), torch.optim.LBFGS(ref.parameters(), **kwargs)
    calls = []
    closure, ref_closure = _closure(model, opt, soma, x, y, calls), _closure(ref, ref_opt, torch, x, y, calls)
    for _ in range(4):
        loss, ref_loss = opt.step(closure), ref_opt.step(ref_closure)
        assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-9)
    assert calls.count("soma") == calls.count("torch") > 4
    _assert_same(model, ref, rtol=1e-8)
    ours, theirs = opt.state_dict()["state"][0], ref_opt.state_dict()["state"][0]
    assert sorted(ours) == sorted(theirs)
    assert ours["func_evals"] == theirs["func_evals"] and ours["n_iter"] == theirs["n_iter"]
    assert len(ours["old_dirs"]) == len(theirs["old_dirs"])
    np.testing.assert_allclose(ours["d"].numpy(), theirs["d"].numpy(), rtol=1e-6, atol=1e-10)
    # the loss went down a lot: L-BFGS really minimises
    assert loss.item() < 0.5 * _loss(_models()[0], x, y, soma).item()


def test_lbfgs_state_dict_resumes():
    model, _, x, y = _lbfgs_problem()
    twin, _, _, _ = _lbfgs_problem()
    kwargs = dict(history_size=5, max_iter=5, line_search_fn="strong_wolfe")
    opt, other = optim.LBFGS(model.parameters(), **kwargs), optim.LBFGS(twin.parameters(), **kwargs)
    opt.step(_closure(model, opt, soma, x, y))
    other.step(_closure(twin, other, soma, x, y))
    resumed = optim.LBFGS(twin.parameters(), **kwargs)
    resumed.load_state_dict(other.state_dict())
    opt.step(_closure(model, opt, soma, x, y))
    resumed.step(_closure(twin, resumed, soma, x, y))
    _assert_same_params(model, twin)


def _assert_same_params(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_lbfgs_errors():
    layer = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [layer.weight]}, {"params": [layer.bias]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS(layer.parameters(), line_search_fn="backtracking")
    with pytest.raises(ValueError, match="learning rate"):
        optim.LBFGS(layer.parameters(), lr=-1)


def test_lbfgs_stops_at_a_minimum_without_moving():
    w = nn.Parameter(soma.tensor([0.0, 0.0], dtype=soma.float64))
    opt = optim.LBFGS([w])
    evaluations = []

    def closure():
        evaluations.append(1)
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert len(evaluations) == 1 and w.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.Adadelta(p, rho=1.5), "rho"),
    (lambda p: optim.Adadelta(p, lr=-1), "learning rate"),
    (lambda p: optim.Adamax(p, betas=(1.0, 0.9)), "beta parameter at index 0"),
    (lambda p: optim.NAdam(p, momentum_decay=-1), "momentum_decay"),
    (lambda p: optim.RAdam(p, eps=-1), "epsilon"),
    (lambda p: optim.ASGD(p, weight_decay=-1), "weight_decay"),
    (lambda p: optim.Rprop(p, etas=(1.5, 1.2)), "eta values"),
])
def test_invalid_hyper_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make(nn.Linear(2, 2).parameters())


SWITCHES = {"foreach": True, "fused": True, "capturable": True, "differentiable": True}


@pytest.mark.parametrize("name", [n for n in optim.__all__ if n not in ("Optimizer", "LBFGS", "lr_scheduler", "swa_utils")])
def test_implementation_switches_only_at_defaults(name):
    """Every switch torch's optimizer takes, soma's takes: its default runs, any other value is
    NotImplementedError naming it (none of them may be silently ignored)."""
    ours, theirs = inspect.signature(getattr(optim, name)), inspect.signature(getattr(torch.optim, name))
    if name == "AdamW":  # AdamW passes **kwargs on to Adam
        ours = inspect.signature(optim.Adam)
    flags = [flag for flag in SWITCHES if flag in theirs.parameters]
    assert flags and flags == [flag for flag in SWITCHES if flag in ours.parameters]
    params = list(nn.Linear(2, 2).parameters())
    for flag in flags:
        getattr(optim, name)(params, **{flag: theirs.parameters[flag].default})  # the default is accepted
        with pytest.raises(NotImplementedError, match=f"{name}: {flag}=True"):
            getattr(optim, name)(params, **{flag: SWITCHES[flag]})


def test_float32_parameters_stay_float32_and_in_place():
    layer = nn.Linear(3, 2)
    for name in ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]:
        before = layer.weight._array
        opt = getattr(optim, name)(layer.parameters())
        layer.zero_grad()
        layer(soma.randn(4, 3)).sum().backward()
        opt.step()
        opt.step()
        assert layer.weight._array is before and layer.weight.dtype == np.float32, name
        assert all(v.dtype == np.float32 for v in opt.state[layer.weight].values() if hasattr(v, "dtype")), name


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_a_tensor_learning_rate_gives_the_same_steps(name):
    x, y = _data(5)
    runs = []
    for lr in (0.01, soma.tensor(0.01, dtype=soma.float64)):
        model, ref = _models()
        opt = getattr(optim, name)(model.parameters(), lr=lr)
        _train(model, ref, opt, torch.optim.SGD(ref.parameters()), x, y)
        runs.append([p.detach().numpy() for p in model.parameters()])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
