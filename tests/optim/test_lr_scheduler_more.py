"""CosineAnnealingWarmRestarts, CyclicLR, PolynomialLR, ConstantLR, MultiplicativeLR, SequentialLR and
ChainedScheduler against torch.optim.lr_scheduler: the lr (and momentum) sequence and the state_dict."""

import math
import warnings

import numpy as np
import pytest
import torch

import soma.nn as nn
import soma.optim as optim
from soma.optim import lr_scheduler

STEPS = 30


def _pair(optimizer="SGD", **kwargs):
    """The same two-group optimizer (the second group at lr 0.05) in soma and in PyTorch."""
    kwargs = kwargs or dict(lr=0.1, momentum=0.9)
    made = []
    for lib_nn, lib_optim in ((nn, optim), (torch.nn, torch.optim)):
        groups = [{"params": lib_nn.Linear(2, 2).parameters()}, {"params": lib_nn.Linear(2, 1).parameters(), "lr": 0.05}]
        made.append(getattr(lib_optim, optimizer)(groups, **kwargs))
    return made


def _make(lib, opt, name, kwargs):
    """``kwargs`` may hold ``("sched", name, kwargs)`` tuples standing for child schedulers."""
    module = lr_scheduler if lib == "soma" else torch.optim.lr_scheduler
    if name == "ChainedScheduler":
        return module.ChainedScheduler([_make(lib, opt, n, k) for n, k in kwargs["schedulers"]])
    if name == "SequentialLR":
        children = [_make(lib, opt, n, k) for n, k in kwargs["schedulers"]]
        return module.SequentialLR(opt, children, milestones=kwargs["milestones"])
    return getattr(module, name)(opt, **kwargs)


class Halving:
    """A callable object: its attributes travel in the state_dict (a function's code never does)."""

    def __init__(self):
        self.factor = 0.9

    def __call__(self, epoch):
        return self.factor if epoch % 3 == 0 else 1.0


SCHEDULES = [
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.5, total_iters=7)),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.95)),
    ("MultiplicativeLR", dict(lr_lambda=[lambda epoch: 0.9 if epoch % 2 else 1.0, lambda epoch: 0.97])),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=12, power=2.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.001)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3, step_size_down=5,
                      mode="triangular2", base_momentum=0.7, max_momentum=0.95)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
                      cycle_momentum=False)),
    ("SequentialLR", dict(schedulers=[("LinearLR", dict(start_factor=0.1, total_iters=4)),
                                      ("ExponentialLR", dict(gamma=0.9))], milestones=[5])),
    ("SequentialLR", dict(schedulers=[("ConstantLR", dict(factor=0.2, total_iters=3)),
                                      ("CosineAnnealingLR", dict(T_max=6)),
                                      ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.8)),
                                      ("StepLR", dict(step_size=4, gamma=0.5))], milestones=[4, 12, 16])),
    ("ChainedScheduler", dict(schedulers=[("ConstantLR", dict(factor=0.1, total_iters=2)),
                                          ("ExponentialLR", dict(gamma=0.9))])),
    ("ChainedScheduler", dict(schedulers=[("LinearLR", dict(start_factor=0.5, total_iters=5)),
                                          ("CosineAnnealingWarmRestarts", dict(T_0=5)),
                                          ("PolynomialLR", dict(total_iters=20, power=0.5))])),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(SCHEDULES)]


def _assert_state_like(ours, theirs, path="state"):
    """Same keys, and the same values wherever PyTorch's are plain numbers, strings or lists of them."""
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), path
        for key in theirs:
            _assert_state_like(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_state_like(a, b, f"{path}[{i}]")
    elif isinstance(theirs, (int, float, str, bool)) or theirs is None:
        if isinstance(theirs, float):
            assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15), path
        else:
            assert ours == theirs, path


def _step_both(ours, theirs, ours_s, theirs_s):
    ours.step()
    theirs.step()
    ours_s.step()
    theirs_s.step()


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=IDS)
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_schedule_matches_torch(name, kwargs, optimizer):
    ours, theirs = _pair(optimizer, **({} if optimizer == "SGD" else dict(lr=0.1)))
    ours_s, theirs_s = _make("soma", ours, name, kwargs), _make("torch", theirs, name, kwargs)
    for step in range(STEPS):
        np.testing.assert_allclose(ours_s.get_last_lr(), theirs_s.get_last_lr(), rtol=1e-12, atol=1e-15,
                                   err_msg=f"step {step}")
        np.testing.assert_allclose([g["lr"] for g in ours.param_groups], [g["lr"] for g in theirs.param_groups],
                                   rtol=1e-12, atol=1e-15)
        key = "momentum" if optimizer == "SGD" else "betas"
        for g, h in zip(ours.param_groups, theirs.param_groups):
            np.testing.assert_allclose(g[key], h[key], rtol=1e-12)
        _step_both(ours, theirs, ours_s, theirs_s)
    _assert_state_like(ours_s.state_dict(), theirs_s.state_dict())


@pytest.mark.parametrize("name,kwargs", SCHEDULES[1::2], ids=IDS[1::2])
def test_state_dict_resumes_from_soma_and_from_torch_state(name, kwargs):
    ours, theirs = _pair()
    ours_s, theirs_s = _make("soma", ours, name, kwargs), _make("torch", theirs, name, kwargs)
    for _ in range(7):
        _step_both(ours, theirs, ours_s, theirs_s)
    resumed = []
    for source in (ours_s.state_dict(), theirs_s.state_dict()):
        again, _ = _pair()
        scheduler = _make("soma", again, name, kwargs)
        scheduler.load_state_dict(source)
        for group, saved in zip(again.param_groups, ours.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        resumed.append((again, scheduler))
    for _ in range(10):
        _step_both(ours, theirs, ours_s, theirs_s)
        for opt, scheduler in resumed:
            opt.step()
            scheduler.step()
            np.testing.assert_allclose(scheduler.get_last_lr(), theirs_s.get_last_lr(), rtol=1e-12, atol=1e-15)


def test_callable_object_lambdas_travel_in_the_state_dict():
    ours, theirs = _pair()
    fn, ref_fn = Halving(), Halving()
    ours_s = lr_scheduler.MultiplicativeLR(ours, lr_lambda=fn)
    theirs_s = torch.optim.lr_scheduler.MultiplicativeLR(theirs, lr_lambda=ref_fn)
    fn.factor = ref_fn.factor = 0.5
    assert ours_s.state_dict()["lr_lambdas"] == theirs_s.state_dict()["lr_lambdas"] == [{"factor": 0.5}] * 2
    other = Halving()
    lr_scheduler.MultiplicativeLR(_pair()[0], lr_lambda=other).load_state_dict(theirs_s.state_dict())
    assert other.factor == 0.5
    plain = lr_scheduler.MultiplicativeLR(ours, lr_lambda=lambda e: 1.0)
    assert plain.state_dict()["lr_lambdas"] == [None, None]
    cyclic = lr_scheduler.CyclicLR(ours, 0.01, 0.1, scale_fn=fn)
    ref_cyclic = torch.optim.lr_scheduler.CyclicLR(theirs, 0.01, 0.1, scale_fn=ref_fn)
    assert cyclic.state_dict()["_scale_fn_custom"] == ref_cyclic.state_dict()["_scale_fn_custom"] == {"factor": 0.5}
    assert lr_scheduler.CyclicLR(ours, 0.01, 0.1, scale_fn=lambda x: 1.0).state_dict()["_scale_fn_custom"] is None


def test_warm_restarts_with_fractional_and_explicit_epochs():
    ours, theirs = _pair()
    kwargs = dict(T_0=3, T_mult=2, eta_min=0.01)
    ours_s = lr_scheduler.CosineAnnealingWarmRestarts(ours, **kwargs)
    theirs_s = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns that passing an epoch is deprecated
        for epoch in [0.25, 0.5, 1.75, 2.9, 3.0, 3.5, 8.2, 9.0, 20.5, 2.0, 45.0]:
            ours_s.step(epoch)
            theirs_s.step(epoch)
            np.testing.assert_allclose(ours_s.get_last_lr(), theirs_s.get_last_lr(), rtol=1e-12)
            assert ours_s.T_i == theirs_s.T_i and ours_s.T_cur == pytest.approx(theirs_s.T_cur)
    assert ours_s.get_last_lr()[0] == pytest.approx(0.01 + 0.09 * (1 + math.cos(math.pi * 0 / 48)) / 2)


def test_closed_form_epochs_match_torch():
    """``step(epoch)`` uses each schedule's closed form, as PyTorch does."""
    for name, kwargs in [("ConstantLR", dict(factor=0.5, total_iters=4)), ("PolynomialLR", dict(total_iters=8)),
                         ("StepLR", dict(step_size=3)), ("MultiStepLR", dict(milestones=[2, 5])),
                         ("ExponentialLR", dict(gamma=0.8)), ("LinearLR", dict(total_iters=6)),
                         ("CosineAnnealingLR", dict(T_max=5))]:
        ours, theirs = _pair()
        ours_s, theirs_s = _make("soma", ours, name, kwargs), _make("torch", theirs, name, kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in [3, 1, 7, 4, 10, 0]:
                ours_s.step(epoch)
                theirs_s.step(epoch)
                np.testing.assert_allclose(ours_s.get_last_lr(), theirs_s.get_last_lr(), rtol=1e-12, err_msg=name)


def test_errors():
    ours, _ = _pair()
    with pytest.raises(ValueError, match="factor"):
        lr_scheduler.ConstantLR(ours, factor=1.5)
    with pytest.raises(ValueError, match="T_0"):
        lr_scheduler.CosineAnnealingWarmRestarts(ours, T_0=0)
    with pytest.raises(ValueError, match="T_mult"):
        lr_scheduler.CosineAnnealingWarmRestarts(ours, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="mode"):
        lr_scheduler.CyclicLR(ours, 0.01, 0.1, mode="sawtooth")
    with pytest.raises(ValueError, match="momentum"):
        lr_scheduler.CyclicLR(optim.Adagrad(nn.Linear(2, 2).parameters()), 0.01, 0.1)
    with pytest.raises(ValueError, match="expected 2 values for max_lr"):
        lr_scheduler.CyclicLR(ours, 0.01, [0.1, 0.2, 0.3])
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        lr_scheduler.MultiplicativeLR(ours, lr_lambda=0.9)
    first = lr_scheduler.ConstantLR(ours)
    with pytest.raises(ValueError, match="one milestone fewer"):
        lr_scheduler.SequentialLR(ours, [first, lr_scheduler.ExponentialLR(ours, 0.9)], milestones=[])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        lr_scheduler.ChainedScheduler([first, lr_scheduler.ReduceLROnPlateau(ours)])
    other, _ = _pair()
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.SequentialLR(ours, [first, lr_scheduler.ExponentialLR(other, 0.9)], milestones=[3])
    with pytest.raises(ValueError, match="at least one"):
        lr_scheduler.ChainedScheduler([], optimizer=ours)
