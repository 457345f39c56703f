"""SyncBatchNorm: in a group of one it is PyTorch's BatchNorm (values, gradients, running stats)."""


import numpy as np
import pytest
import torch

import soma
from helpers import random_array
from soma import nn
from soma.autograd import gradcheck
from soma.nn.parallel import SyncBatchNorm


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_matches_torch_batch_norm(group, shape):
    x = random_array(shape, np.float32, seed=1)
    gamma, beta = random_array((3,), np.float32, seed=2) + 1, random_array((3,), np.float32, seed=3)
    ours = SyncBatchNorm(3, momentum=0.3)
    theirs = torch.nn.BatchNorm1d(3, momentum=0.3) if len(shape) < 4 else torch.nn.BatchNorm2d(3, momentum=0.3)
    with soma.no_grad():
        ours.weight.copy_(soma.tensor(gamma))
        ours.bias.copy_(soma.tensor(beta))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    xs, xt = soma.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    weights = random_array(shape, np.float32, seed=4)
    (ours(xs) * soma.tensor(weights)).sum().backward()
    (theirs(xt) * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), getattr(theirs, name).grad.numpy(),
                                   rtol=1e-4, atol=1e-5)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-5,
                                   atol=1e-6)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(soma.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_gradcheck(group):
    layer = SyncBatchNorm(2, dtype=soma.float64)
    with soma.no_grad():
        layer.weight.copy_(soma.tensor([0.7, -1.3], dtype=soma.float64))
    x = soma.tensor(random_array((5, 2, 3), seed=5), requires_grad=True)
    mix = soma.tensor(random_array((5, 2, 3), seed=6))
    assert gradcheck(lambda t, w, b: layer(t) * mix, (x, layer.weight, layer.bias))  # w, b: layer's own, in place


def test_convert_replaces_every_batch_norm_and_shares_its_tensors():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.Flatten(), nn.BatchNorm1d(8)))
    model.eval()
    weight, running = model[1].weight, model[2][1].running_var
    converted = SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(converted[1], SyncBatchNorm) and isinstance(converted[2][1], SyncBatchNorm)
    assert converted[1].weight is weight and converted[2][1].running_var is running
    assert not converted[1].training
    assert list(converted.state_dict()) == list(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(
        nn.Flatten(), nn.BatchNorm1d(8))).state_dict())
    with pytest.raises(ValueError, match=r"SyncBatchNorm\(num_features=2\) got input of shape \(4,\)"):
        converted[1](soma.zeros(4))
