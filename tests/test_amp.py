"""soma.amp: GradScaler follows PyTorch's loss-scaling algorithm step for step; autocast is accepted."""

import warnings

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn


def _train(lib, scaler, steps, poison):
    lib.manual_seed(0)
    layer = lib.nn.Linear(3, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 10, dtype=lib.float32))
        layer.bias.zero_()
    optimizer = lib.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    scales = []
    for step in range(steps):
        x = lib.tensor(np.random.default_rng(step).standard_normal((4, 3)), dtype=lib.float32)
        loss = layer(x).pow(2).mean()
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        if step in poison:
            layer.weight.grad[0, 0] = float("inf") if step % 2 else float("nan")
        if step == 2:
            scaler.unscale_(optimizer)
            lib.nn.utils.clip_grad_norm_(layer.parameters(), 0.5)
        scaler.step(optimizer)
        scaler.update()
        scales.append(scaler.get_scale())
    return scales, layer.weight.detach().numpy().copy(), scaler.state_dict()


def test_grad_scaler_matches_torch_with_skipped_steps_growth_and_unscale():
    kwargs = dict(init_scale=1024.0, growth_interval=2)
    ours = _train(soma, soma.amp.GradScaler("cpu", **kwargs), 8, poison={1, 4})
    theirs = _train(torch, torch.amp.GradScaler("cpu", **kwargs), 8, poison={1, 4})
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)
    assert ours[2] == theirs[2]


def test_disabled_scaler_and_the_cuda_forms():
    with pytest.warns(UserWarning, match="not available. Disabling"):
        scaler = soma.cuda.amp.GradScaler()
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    layer = nn.Linear(2, 1)
    optimizer = soma.optim.SGD(layer.parameters(), lr=1.0)
    loss = layer(soma.ones(1, 2)).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    before = layer.bias.item()
    scaler.step(optimizer), scaler.update()
    assert layer.bias.item() == pytest.approx(before - 1.0)
    with pytest.warns(UserWarning, match="Disabling autocast"):
        soma.autocast("cuda")


def test_scaler_state_round_trip_and_errors():
    scaler = soma.amp.GradScaler("cpu", init_scale=8.0)
    other = soma.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.get_scale() == 8.0
    layer = nn.Linear(1, 1)
    optimizer = soma.optim.SGD(layer.parameters(), lr=0.1)
    scaler.scale(layer(soma.ones(1, 1)).sum()).backward()
    scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(optimizer)
    with pytest.raises(ValueError, match="growth factor must be > 1.0"):
        soma.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        other.load_state_dict({})


def test_autocast_is_a_context_and_a_decorator_that_changes_no_dtype():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with soma.autocast("cpu", dtype=soma.float16):
            out = nn.Linear(2, 2)(soma.ones(1, 2))

        @soma.autocast("cpu", enabled=False)
        def run(x):
            return x * 2

    assert out.dtype == soma.float32 and run(soma.ones(1)).tolist() == [2.0]
    with soma.cuda.amp.autocast(enabled=False):
        pass
