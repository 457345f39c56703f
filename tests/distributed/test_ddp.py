"""DistributedDataParallel: W ranks with batch b against one process with batch W·b; its API in one process."""


import numpy as np
import pytest

import soma
from soma import nn
from soma.nn.parallel import DistributedDataParallel


@pytest.mark.slow
@pytest.mark.parametrize("world", [2, 4])
def test_ranks_train_like_one_process_with_the_whole_batch(mpi_checks, world):
    checks = mpi_checks(world, "training.py")
    assert {"mlp_matches_one_process", "different_initial_weights_end_identical", "no_sync_accumulation"} <= checks


def test_one_rank_gradients_are_the_plain_gradients(group):
    """One rank averages over one: the hooks, buckets and multi-use weights must leave .grad as it was."""
    plain = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 7), nn.Tanh(), nn.Linear(7, 2))
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 7), nn.Tanh(), nn.Linear(7, 2))
    model.load_state_dict(plain.state_dict())
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.0002)
    assert len(ddp.reducer.buckets) > 2
    x = soma.randn(6, 5)
    for _ in range(2):  # the second backward accumulates onto the first, as without DDP
        (plain(x) * plain(x)).sum().backward()  # each weight reached twice in one backward
        (ddp(x) * model(x)).sum().backward()
    for (name, mine), theirs in zip(model.named_parameters(), plain.parameters()):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, err_msg=name)


def test_state_dict_has_the_modules_keys_and_loads_pytorch_prefixed_ones(group):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ddp = DistributedDataParallel(model)
    assert list(ddp.state_dict()) == list(model.state_dict())
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ddp.load_state_dict({"module." + key: value for key, value in other.state_dict().items()})
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), other[0].weight.detach().numpy())
    other.load_state_dict(ddp.state_dict())  # and back into a bare model
    assert ddp.module is model


def test_no_sync_leaves_the_gradients_local(group):
    model = nn.Linear(3, 2)
    ddp = DistributedDataParallel(model)
    x = soma.randn(4, 3)
    with ddp.no_sync():
        ddp(x).sum().backward()
        assert not ddp.reducer.armed
    first = model.weight.grad.numpy().copy()
    ddp(x).sum().backward()
    np.testing.assert_allclose(model.weight.grad.numpy(), 2 * first, rtol=1e-6)


def test_bad_arguments(group):
    with pytest.raises(TypeError, match="module must be an nn.Module, got function"):
        DistributedDataParallel(lambda x: x)
    with pytest.raises(RuntimeError, match="doesn't have any parameter that requires a gradient"):
        DistributedDataParallel(nn.ReLU())
    with pytest.raises(ValueError, match="device_ids and output_device must be None"):
        DistributedDataParallel(nn.Linear(2, 2), device_ids=[0])
    with pytest.raises(ValueError, match="bucket_cap_mb must be positive"):
        DistributedDataParallel(nn.Linear(2, 2), bucket_cap_mb=0)


def test_needs_a_process_group():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedDataParallel(nn.Linear(2, 2))
