"""soma.distributed: every collective, op and dtype on 2 and 4 processes; the group's errors in one."""

import datetime

import numpy as np
import pytest

import soma
import soma.distributed as dist


@pytest.mark.slow
@pytest.mark.parametrize("world", [2, 4])
def test_collectives_on_every_rank(mpi_checks, world):
    checks = mpi_checks(world, "collectives.py")
    assert {"all_reduce", "reduce", "broadcast", "all_gather"} <= checks


def test_before_init_every_query_says_so():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(soma.ones(2))):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            call()
    with pytest.raises(ValueError, match="backend='mpi'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="timeout must be positive"):
        dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=0))


def test_one_process_group(group):
    """A plain `python script.py` is a group of one: every collective is the identity."""
    assert dist.is_initialized() and dist.get_world_size() == 1 and dist.get_rank() == 0
    assert group.size() == 1 and dist.get_backend() == "mpi"
    x = soma.tensor([[1.5, -2.0], [3.0, 4.0]])
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.PRODUCT):
        dist.all_reduce(x, op=op)
    np.testing.assert_array_equal(x.numpy(), [[1.5, -2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("mpi")


def test_bad_arguments_name_the_call(group):
    with pytest.raises(TypeError, match="all_reduce: tensor must be a soma Tensor, got ndarray"):
        dist.all_reduce(np.ones(3))
    with pytest.raises(TypeError, match="all_reduce: op must be a soma.distributed.ReduceOp"):
        dist.all_reduce(soma.ones(3), op="sum")
    with pytest.raises(TypeError, match="ReduceOp.AVG needs a floating-point tensor, got int64"):
        dist.all_reduce(soma.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="ReduceOp.BXOR needs an integer or bool tensor, got float32"):
        dist.all_reduce(soma.ones(2), op=dist.ReduceOp.BXOR)
    with pytest.raises(ValueError, match=r"src=1 is not a rank of this group \(0 .. 0\)"):
        dist.broadcast(soma.ones(2), src=1)
    with pytest.raises(ValueError, match=r"output_tensor has shape \(3,\)"):
        dist.all_gather_into_tensor(soma.zeros(3), soma.zeros(2))


def test_world_size_must_match_the_launch():
    pytest.importorskip("mpi4py", reason="needs soma[distributed]")
    with pytest.raises(ValueError, match="world_size=3 but MPI started this process with world_size 1"):
        dist.init_process_group("mpi", world_size=3)
    assert not dist.is_initialized()
