"""nn.DataParallel runs its module as PyTorch's does without GPUs: same outputs, ``module.`` state_dict keys."""

import numpy as np
import torch

import soma
import soma.nn as nn
from soma.nn.parallel import data_parallel


def test_data_parallel_is_its_module_with_pytorchs_keys():
    inner = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    wrapped = nn.DataParallel(inner)
    theirs = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)))
    assert list(wrapped.state_dict()) == list(theirs.state_dict()) == ["module.0.weight", "module.0.bias",
                                                                       "module.2.weight", "module.2.bias"]
    assert repr(wrapped) == repr(theirs) and wrapped.device_ids == theirs.device_ids == []
    wrapped.load_state_dict({k: soma.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ours_out, theirs_out = wrapped(soma.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(ours_out.detach().numpy(), theirs_out.detach().numpy(), rtol=1e-6)
    ours_out.sum().backward()
    assert inner[0].weight.grad is not None and wrapped.module is inner
    np.testing.assert_array_equal(data_parallel(inner, soma.tensor(x)).detach().numpy(), ours_out.detach().numpy())
