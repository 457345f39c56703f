"""The original pre-hook nn.utils.weight_norm and nn.utils.spectral_norm, against PyTorch's."""

import warnings

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn


def _pair(build_ours, build_theirs, apply_ours, apply_theirs):
    ours, theirs = build_ours(), build_theirs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        apply_ours(ours), apply_theirs(theirs)
    for name, buffer in theirs.state_dict().items():  # randomize, then copy (u and v too)
        buffer.copy_(torch.randn_like(buffer))
        if name.endswith(("_u", "_v")):
            buffer.div_(buffer.norm())
    ours.load_state_dict({k: soma.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _train_and_compare(ours, theirs, shape, steps=3):
    optimizers = soma.optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    for step in range(steps):
        x = np.random.default_rng(step).standard_normal(shape).astype(np.float32)
        loss_ours, loss_theirs = (ours(soma.tensor(x)) ** 2).mean(), (theirs(torch.tensor(x)) ** 2).mean()
        for loss, optimizer in zip((loss_ours, loss_theirs), optimizers):
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        np.testing.assert_allclose(loss_ours.item(), loss_theirs.item(), rtol=1e-5)
    for (name, mine), theirs_value in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(mine.numpy(), theirs_value.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_trains_as_torch(dim):
    ours, theirs = _pair(lambda: nn.Conv2d(3, 4, 3), lambda: torch.nn.Conv2d(3, 4, 3),
                         lambda m: nn.utils.weight_norm(m, dim=dim), lambda m: torch.nn.utils.weight_norm(m, dim=dim))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert tuple(ours.weight_g.shape) == tuple(theirs.weight_g.shape)
    _train_and_compare(ours, theirs, (2, 3, 6, 6))
    nn.utils.remove_weight_norm(ours), torch.nn.utils.remove_weight_norm(theirs)
    assert sorted(ours.state_dict()) == ["bias", "weight"] and isinstance(ours.weight, nn.Parameter)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("build", ["linear", "conv_transpose"])
def test_spectral_norm_trains_and_evaluates_as_torch(build):
    if build == "linear":
        ours, theirs = _pair(lambda: nn.Linear(5, 4), lambda: torch.nn.Linear(5, 4),
                             lambda m: nn.utils.spectral_norm(m, n_power_iterations=2),
                             lambda m: torch.nn.utils.spectral_norm(m, n_power_iterations=2))
        shape = (3, 5)
    else:
        ours, theirs = _pair(lambda: nn.ConvTranspose2d(3, 2, 3), lambda: torch.nn.ConvTranspose2d(3, 2, 3),
                             nn.utils.spectral_norm, torch.nn.utils.spectral_norm)  # rows along dim 1
        shape = (2, 3, 4, 4)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    _train_and_compare(ours, theirs, shape)
    ours.eval(), theirs.eval()  # eval: no power iteration, u and v stay
    x = np.random.default_rng(9).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(soma.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-6)
    nn.utils.remove_spectral_norm(ours), torch.nn.utils.remove_spectral_norm(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_errors_and_the_deprecation_warning():
    layer = nn.Linear(2, 3)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        nn.utils.weight_norm(layer)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"), \
            pytest.warns(FutureWarning):
        nn.utils.weight_norm(layer)
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
        nn.utils.remove_weight_norm(layer, "bias")
    spectral = nn.utils.spectral_norm(nn.Linear(2, 3))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(spectral)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        nn.utils.spectral_norm(nn.Linear(2, 3), n_power_iterations=0)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 3))


