"""optim.swa_utils against torch.optim.swa_utils: averaged parameters (SWA, EMA, custom functions, buffers)
after several training steps with copied weights, the state dict, update_bn's running statistics, SWALR's
learning rates, and the errors."""

import numpy as np
import pytest
import torch
import torch.optim.swa_utils as tswa

import soma
import soma.nn as nn
import soma.optim.swa_utils as swa
from helpers import copy_weights_from_torch, random_array, randomize_module


def _models():
    ref = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh(),
                              torch.nn.Linear(6, 2)).double()
    randomize_module(ref)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 2)).double()
    copy_weights_from_torch(ref, model)
    return model, ref


def _assert_same_state(ours, theirs, rtol=1e-12):
    ours, theirs = ours.state_dict(), theirs.state_dict()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        mine = ours[key].detach().numpy()
        assert mine.dtype == value.numpy().dtype, key
        np.testing.assert_allclose(mine, value.numpy(), rtol=rtol, atol=1e-14, err_msg=key)


def _train_and_average(kwargs_of, steps=5):
    """Train both models with SGD, averaging after every step; returns (ours, theirs) averaged models."""
    model, ref = _models()
    ours, theirs = swa.AveragedModel(model, **kwargs_of(swa)), tswa.AveragedModel(ref, **kwargs_of(tswa))
    opt = soma.optim.SGD(model.parameters(), lr=0.3, momentum=0.5)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.3, momentum=0.5)
    for step in range(steps):
        x, y = random_array((8, 4), seed=step), random_array((8, 2), seed=50 + step)
        for m, o, lib in ((model, opt, soma), (ref, ref_opt, torch)):
            o.zero_grad()
            lib.nn.functional.mse_loss(m(lib.tensor(x)), lib.tensor(y)).backward()
            o.step()
        ours.update_parameters(model)
        theirs.update_parameters(ref)
    return ours, theirs


AVERAGES = {
    "swa": lambda lib: {},
    "swa-multi": lambda lib: dict(multi_avg_fn=lib.get_swa_multi_avg_fn()),
    "swa-avg_fn": lambda lib: dict(avg_fn=lib.get_swa_avg_fn()),
    "ema-multi": lambda lib: dict(multi_avg_fn=lib.get_ema_multi_avg_fn(0.7)),
    "ema-avg_fn": lambda lib: dict(avg_fn=lib.get_ema_avg_fn(0.8)),
    "ema-buffers": lambda lib: dict(multi_avg_fn=lib.get_ema_multi_avg_fn(0.6), use_buffers=True),
    "swa-buffers": lambda lib: dict(use_buffers=True),
    "custom": lambda lib: dict(avg_fn=lambda a, c, n: 0.25 * a + 0.75 * c + 0.01 * n),
}


@pytest.mark.parametrize("name", list(AVERAGES))
def test_averaged_parameters_match_torch(name):
    ours, theirs = _train_and_average(AVERAGES[name])
    _assert_same_state(ours, theirs)
    assert ours.n_averaged.item() == 5 and ours.n_averaged.dtype == soma.int64
    x = random_array((3, 4), seed=9)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(soma.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)


def test_state_dict_loads_into_torch_and_back():
    ours, theirs = _train_and_average(AVERAGES["swa"], steps=3)
    fresh, ref = _models()
    ref_avg = tswa.AveragedModel(ref)
    ref_avg.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    _assert_same_state(ours, ref_avg)
    back = swa.AveragedModel(fresh)
    back.load_state_dict(ours.state_dict())
    assert back.n_averaged.item() == 3
    _assert_same_state(back, theirs)


def test_averaged_model_is_a_copy_and_first_update_copies():
    model, _ = _models()
    averaged = swa.AveragedModel(model)
    assert averaged.module[0].weight is not model[0].weight
    with soma.no_grad():
        model[0].weight.mul_(2.0)
    averaged.update_parameters(model)
    np.testing.assert_array_equal(averaged.module[0].weight.detach().numpy(), model[0].weight.detach().numpy())
    assert averaged.module[0].weight.requires_grad and averaged.module[0].weight.grad is None


def test_update_bn_matches_torch():
    model, ref = _models()
    arrays = [random_array((6, 4), seed=i) for i in range(4)]
    for m in (model, ref):
        m.eval()
    ours_loader = [(soma.tensor(a), 0) for a in arrays[:2]] + [soma.tensor(a) for a in arrays[2:]]
    torch_loader = [(torch.tensor(a), 0) for a in arrays[:2]] + [torch.tensor(a) for a in arrays[2:]]
    swa.update_bn(ours_loader, model)
    tswa.update_bn(torch_loader, ref)
    _assert_same_state(model, ref)
    assert not model.training and model[1].momentum == 0.1
    averaged = swa.AveragedModel(model)  # through an AveragedModel, on a DataLoader
    loader = soma.utils.data.DataLoader(soma.utils.data.TensorDataset(soma.tensor(arrays[0])), batch_size=4)
    swa.update_bn(loader, averaged)
    tswa.update_bn(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(arrays[0])),
                                               batch_size=4), ref)
    _assert_same_state(averaged.module, ref)


def test_update_bn_without_batchnorm_does_nothing():
    model = nn.Linear(2, 2)
    swa.update_bn([soma.ones(1, 2)], model)  # no BatchNorm: the loader is never read
    swa.update_bn(iter(()), model)


def _lr_sequences(make, steps=14, groups=((0.5,), (0.1,))):
    rates = []
    for lib, sched_lib in ((soma, swa), (torch, tswa)):
        params = [{"params": [lib.nn.Parameter(lib.ones(1))], "lr": lr} for (lr,) in groups]
        opt = lib.optim.SGD(params, lr=1.0)
        scheduler = make(sched_lib, opt)
        seq = [scheduler.get_last_lr()]
        for _ in range(steps):
            opt.step()
            scheduler.step()
            seq.append(scheduler.get_last_lr())
        rates.append((seq, scheduler))
    return rates


SCHEDULES = {
    "cos": lambda lib, opt: lib.SWALR(opt, swa_lr=0.05),
    "linear": lambda lib, opt: lib.SWALR(opt, swa_lr=[0.05, 0.2], anneal_epochs=5, anneal_strategy="linear"),
    "instant": lambda lib, opt: lib.SWALR(opt, swa_lr=0.01, anneal_epochs=0),
    "one": lambda lib, opt: lib.SWALR(opt, swa_lr=0.3, anneal_epochs=1, anneal_strategy="cos"),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_swalr_learning_rates_match_torch(name):
    (ours, sched), (theirs, ref_sched) = _lr_sequences(SCHEDULES[name])
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-13)
    swa_lrs = [[g["swa_lr"] for g in s.optimizer.param_groups] for s in (sched, ref_sched)]
    assert swa_lrs[0] == swa_lrs[1]


def test_swalr_state_dict_resumes():
    opt = soma.optim.SGD([nn.Parameter(soma.ones(1))], lr=1.0)
    scheduler = swa.SWALR(opt, swa_lr=0.1, anneal_epochs=6, anneal_strategy="linear")
    for _ in range(3):
        scheduler.step()
    state = scheduler.state_dict()
    assert "anneal_func" not in state and state["_anneal_strategy"] == "linear"
    rates = [scheduler.step() or scheduler.get_last_lr() for _ in range(4)]
    opt2 = soma.optim.SGD([nn.Parameter(soma.ones(1))], lr=1.0)
    resumed = swa.SWALR(opt2, swa_lr=0.1)
    opt2.param_groups[0]["lr"] = state["_last_lr"][0]
    resumed.load_state_dict(state)
    assert resumed.anneal_func(0.5) == 0.5
    assert [resumed.step() or resumed.get_last_lr() for _ in range(4)] == rates
    with pytest.warns(UserWarning, match="get_last_lr"):
        resumed.get_lr()


@pytest.mark.parametrize("call", [
    lambda lib, opt: lib.SWALR(opt, swa_lr=0.1, anneal_strategy="exp"),
    lambda lib, opt: lib.SWALR(opt, swa_lr=0.1, anneal_epochs=-1),
    lambda lib, opt: lib.SWALR(opt, swa_lr=0.1, anneal_epochs=2.0),
    lambda lib, opt: lib.SWALR(opt, swa_lr=[0.1, 0.2]),
    lambda lib, opt: lib.get_ema_multi_avg_fn(1.5),
    lambda lib, opt: lib.get_ema_avg_fn(-0.1),
])
def test_errors_like_torch(call):
    with pytest.raises(ValueError) as theirs:
        call(tswa, torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1.0))
    with pytest.raises(ValueError) as ours:
        call(swa, soma.optim.SGD([nn.Parameter(soma.ones(1))], lr=1.0))
    assert str(ours.value) == str(theirs.value)


def test_avg_fn_and_multi_avg_fn_together_is_an_error():
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa.AveragedModel(nn.Linear(1, 1), avg_fn=swa.get_swa_avg_fn(), multi_avg_fn=swa.get_swa_multi_avg_fn())

