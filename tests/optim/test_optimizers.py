"""Every optimizer against torch.optim: several steps on a small network with copied weights (float64, 1e-7)."""

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.optim as optim
from helpers import copy_weights_to_torch, random_array

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-8)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
]


def _models():
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    ref = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()
    copy_weights_to_torch(model, ref)
    return model, ref


def _train(model, ref, opt, ref_opt, steps, x, y):
    for step in range(steps):
        opt.zero_grad()
        ref_opt.zero_grad()
        nn.functional.mse_loss(model(soma.tensor(x[step])), soma.tensor(y[step])).backward()
        torch.nn.functional.mse_loss(ref(torch.tensor(x[step])), torch.tensor(y[step])).backward()
        opt.step()
        ref_opt.step()


def _assert_same(model, ref, rtol=1e-7):
    for (name, p), (_, q) in zip(model.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_optimizer_matches_torch(name, kwargs):
    model, ref = _models()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    ref_opt = getattr(torch.optim, name)(ref.parameters(), **kwargs)
    x = random_array((6, 8, 5))
    y = random_array((6, 8, 3), seed=1)
    _train(model, ref, opt, ref_opt, 6, x, y)
    _assert_same(model, ref)


@pytest.mark.parametrize("name,kwargs", CONFIGS[1::3], ids=lambda v: str(v))
def test_state_dict_round_trip_resumes_exactly(name, kwargs):
    x = random_array((8, 8, 5))
    y = random_array((8, 8, 3), seed=1)
    model, ref = _models()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    ref_opt = getattr(torch.optim, name)(ref.parameters(), **kwargs)
    _train(model, ref, opt, ref_opt, 3, x, y)
    saved = opt.state_dict()
    torch_saved = ref_opt.state_dict()
    assert sorted(saved["state"]) == sorted(torch_saved["state"])
    for index, values in torch_saved["state"].items():
        assert sorted(saved["state"][index]) == sorted(values)
    assert [g["params"] for g in saved["param_groups"]] == [g["params"] for g in torch_saved["param_groups"]]
    # a fresh optimizer loaded from the state continues as the original would have
    fresh = getattr(optim, name)(model.parameters(), lr=123.0)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    _train(model, ref, fresh, ref_opt, 3, x[3:], y[3:])
    _assert_same(model, ref)


def test_param_groups_with_different_learning_rates():
    model, ref = _models()
    groups = lambda m: [{"params": m[0].parameters()}, {"params": m[2].parameters(), "lr": 0.01}]  # noqa: E731
    opt = optim.SGD(groups(model), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(groups(ref), lr=0.1, momentum=0.9)
    _train(model, ref, opt, ref_opt, 4, random_array((4, 3, 5)), random_array((4, 3, 3), seed=2))
    _assert_same(model, ref)
    assert [g["lr"] for g in opt.state_dict()["param_groups"]] == [0.1, 0.01]
    assert opt.state_dict()["param_groups"][1]["params"] == [2, 3]


def test_zero_grad_and_skipped_parameters():
    w = nn.Parameter(soma.tensor([1.0, 2.0]))
    frozen = nn.Parameter(soma.tensor([5.0]))
    opt = optim.SGD([w, frozen], lr=0.5)
    (w * w).sum().backward()
    opt.step()  # frozen has no grad: untouched
    assert w.tolist() == [0.0, 0.0] and frozen.tolist() == [5.0]
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_closure_is_called():
    w = nn.Parameter(soma.tensor([3.0]))
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert w.item() == pytest.approx(2.4)


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.SGD(p, lr=-0.1), "learning rate"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "momentum"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "beta parameter at index 0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "beta parameter at index 1"),
    (lambda p: optim.Adam(p, eps=-1), "epsilon"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "alpha"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "lr_decay"),
    (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
])
def test_invalid_hyper_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make(nn.Linear(2, 2).parameters())


def test_duplicate_parameters_and_bad_state_dict():
    layer = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [layer.weight]}, {"params": [layer.weight]}], lr=0.1)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    other = optim.SGD([layer.weight], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(other.state_dict())


def test_supplementary_first_steps():
    """docs/notes-examples.md S-optim-first-step: p = (0.5, -0.3, 0.1), g = (0.2, -0.4, 0.1), lr 0.1."""
    start, grad = [0.5, -0.3, 0.1], np.array([0.2, -0.4, 0.1])

    def run(make, steps):
        p = nn.Parameter(soma.tensor(start, dtype=soma.float64))
        opt = make([p])
        for _ in range(steps):
            p.grad = soma.tensor(grad)
            opt.step()
        return p.detach().numpy()

    np.testing.assert_allclose(run(lambda p: optim.SGD(p, lr=0.1), 1), [0.48, -0.26, 0.09], rtol=1e-12)
    sgd_m = lambda p: optim.SGD(p, lr=0.1, momentum=0.9)  # noqa: E731
    np.testing.assert_allclose(run(sgd_m, 2), [0.442, -0.184, 0.071], rtol=1e-12)
    np.testing.assert_allclose(run(lambda p: optim.RMSprop(p, lr=0.1), 1),
                               [-0.4999995, 0.69999975, -0.899999000001], rtol=1e-10)
    np.testing.assert_allclose(run(lambda p: optim.Adam(p, lr=0.1), 1),
                               [0.400000005, -0.2000000025, 9.99999898166e-09], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(run(lambda p: optim.Adam(p, lr=0.1), 2),
                               [0.30000001, -0.100000005, -0.09999998], rtol=1e-9, atol=1e-15)


def test_optimizer_keeps_float32_and_updates_in_place():
    layer = nn.Linear(3, 2)
    before = layer.weight._array
    opt = optim.Adam(layer.parameters(), lr=0.1)
    layer(soma.randn(4, 3)).sum().backward()
    opt.step()
    assert layer.weight._array is before and layer.weight.dtype == np.float32
    assert opt.state[layer.weight]["exp_avg"].dtype == np.float32


ZERO_D = [(name, dict(lr=0.05)) for name in ("SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax",
                                             "NAdam", "RAdam", "ASGD", "Rprop")]
ZERO_D += [("SGD", dict(lr=0.05, momentum=0.9)), ("RMSprop", dict(lr=0.05, momentum=0.9, centered=True))]


@pytest.mark.parametrize("name,kwargs", ZERO_D, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ZERO_D)])
def test_zero_dimensional_parameters_step_as_torchs(name, kwargs):
    """A 0-d parameter (a learnable temperature or scale) beside a vector: Adam, Adagrad and RMSprop used to
    fail on it (√v of a 0-d array is a NumPy scalar, not an output buffer)."""
    values = [np.array(1.5), random_array((3,))]
    ours = [soma.tensor(v.copy(), requires_grad=True) for v in values]
    theirs = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    opt, ref_opt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(4):
        for params, o, lib in ((ours, opt, soma), (theirs, ref_opt, torch)):
            o.zero_grad()
            (lib.tanh(params[0] * params[1]).sum() + params[0] ** 2).backward()
            o.step()
    for p, q in zip(ours, theirs, strict=True):
        assert p.shape == tuple(q.shape)
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-9, atol=1e-12)
