"""Every scheduler's learning-rate (and momentum) sequence against torch.optim.lr_scheduler."""

import numpy as np
import pytest
import torch

import soma.nn as nn
import soma.optim as optim
from soma.optim import lr_scheduler

SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=4)),
    ("LinearLR", dict(start_factor=0.25, total_iters=4)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1 / (1 + epoch))),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=20)),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=15, three_phase=True, anneal_strategy="linear")),
    ("OneCycleLR", dict(max_lr=0.3, epochs=4, steps_per_epoch=5, pct_start=0.25)),
]


def _pair(optimizer="SGD", **kwargs):
    a, b = nn.Linear(2, 2), nn.Linear(2, 1)
    ta, tb = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    kwargs = kwargs or dict(lr=0.1, momentum=0.9)
    ours = getattr(optim, optimizer)([{"params": a.parameters()}, {"params": b.parameters(), "lr": 0.05}], **kwargs)
    theirs = getattr(torch.optim, optimizer)([{"params": ta.parameters()}, {"params": tb.parameters(), "lr": 0.05}],
                                             **kwargs)
    return ours, theirs


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_schedule_matches_torch(name, kwargs, optimizer):
    ours, theirs = _pair(optimizer, **({} if optimizer == "SGD" else dict(lr=0.1)))
    ours_s = getattr(lr_scheduler, name)(ours, **kwargs)
    theirs_s = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
    steps = 20 if name != "OneCycleLR" else theirs_s.total_steps - 1
    for _ in range(steps):
        np.testing.assert_allclose(ours_s.get_last_lr(), theirs_s.get_last_lr(), rtol=1e-12, atol=1e-15)
        for g, h in zip(ours.param_groups, theirs.param_groups):
            key = "momentum" if optimizer == "SGD" else "betas"
            np.testing.assert_allclose(g[key], h[key], rtol=1e-12)
        ours.step()
        theirs.step()
        ours_s.step()
        theirs_s.step()


@pytest.mark.parametrize("mode,threshold_mode,cooldown", [("min", "rel", 0), ("max", "abs", 2), ("min", "abs", 1)])
def test_reduce_on_plateau_matches_torch(mode, threshold_mode, cooldown):
    ours, theirs = _pair()
    kwargs = dict(mode=mode, factor=0.5, patience=2, threshold=0.01, threshold_mode=threshold_mode,
                  cooldown=cooldown, min_lr=[0.01, 0.02])
    ours_s = lr_scheduler.ReduceLROnPlateau(ours, **kwargs)
    theirs_s = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    metrics = [1.0, 0.9, 0.95, 0.91, 0.93, 0.92, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    for value in metrics:
        ours_s.step(value)
        theirs_s.step(value)
        np.testing.assert_allclose(ours_s.get_last_lr(), theirs_s.get_last_lr(), rtol=1e-12)


def test_scheduler_state_dict_resumes():
    ours, _ = _pair()
    sched = lr_scheduler.StepLR(ours, step_size=2, gamma=0.5)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert state["last_epoch"] == 3 and "optimizer" not in state
    again, _ = _pair()
    for group, saved in zip(again.param_groups, ours.param_groups):
        group.update(lr=saved["lr"], initial_lr=saved["initial_lr"])
    resumed = lr_scheduler.StepLR(again, step_size=2, gamma=0.5, last_epoch=2)
    resumed.load_state_dict(state)
    for _ in range(4):
        sched.step()
        resumed.step()
        assert resumed.get_last_lr() == sched.get_last_lr()


def test_scheduler_errors():
    ours, _ = _pair()
    with pytest.raises(ValueError, match="step_size"):
        lr_scheduler.StepLR(ours, step_size=0)
    with pytest.raises(ValueError, match="factor"):
        lr_scheduler.ReduceLROnPlateau(ours, factor=1.5)
    one = lr_scheduler.OneCycleLR(ours, max_lr=1.0, total_steps=2)
    one.step()
    one.step()
    with pytest.raises(ValueError, match="total_steps"):
        one.step()
    with pytest.raises(ValueError, match="momentum or betas"):
        lr_scheduler.OneCycleLR(optim.Adagrad(nn.Linear(1, 1).parameters()), max_lr=1.0, total_steps=5)
