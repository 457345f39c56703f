"""Run under mpiexec: every collective, op and dtype against NumPy on all ranks' inputs.

Each rank's input is drawn from a generator seeded by its rank, so every rank can
also draw every other rank's input and compute the expected result itself.
Values are small integers (stored in each dtype) so sums and products are exact
in every dtype and any reduction order.
"""

import numpy as np
from common import run_checks

import soma
import soma.distributed as dist
from soma.distributed import ReduceOp

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.uint8, np.int32, np.int64, np.bool_]
SHAPE = (3, 5)


def rank_input(rank, dtype, shape=SHAPE):
    rng = np.random.default_rng(100 + rank)
    low = 0 if np.dtype(dtype).kind in "ub" else -3
    values = rng.integers(low, 4, size=shape)
    return values.astype(bool) if np.dtype(dtype).kind == "b" else values.astype(dtype)


def everyone(dtype, shape=SHAPE):
    return np.stack([rank_input(r, dtype, shape) for r in range(dist.get_world_size())])


def expected(op, stacked):
    w = len(stacked)
    if stacked.dtype.kind == "b":
        logical = {ReduceOp.SUM: np.logical_or, ReduceOp.MAX: np.logical_or, ReduceOp.BOR: np.logical_or,
                   ReduceOp.PRODUCT: np.logical_and, ReduceOp.MIN: np.logical_and, ReduceOp.BAND: np.logical_and,
                   ReduceOp.BXOR: np.logical_xor}[op]
        return logical.reduce(stacked, axis=0)
    fn = {ReduceOp.SUM: np.add, ReduceOp.AVG: np.add, ReduceOp.PRODUCT: np.multiply, ReduceOp.MIN: np.minimum,
          ReduceOp.MAX: np.maximum, ReduceOp.BAND: np.bitwise_and, ReduceOp.BOR: np.bitwise_or,
          ReduceOp.BXOR: np.bitwise_xor}[op]
    result = fn.reduce(stacked, axis=0, dtype=stacked.dtype)
    return result / np.asarray(w, stacked.dtype) if op is ReduceOp.AVG else result


def valid(op, dtype):
    kind = np.dtype(dtype).kind
    if op is ReduceOp.AVG:
        return kind == "f"
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
        return kind in "iub"
    return True


def same(actual, wanted, what):
    assert actual.dtype == wanted.dtype, f"{what}: dtype {actual.dtype}, expected {wanted.dtype}"
    np.testing.assert_array_equal(actual, wanted, err_msg=what)


def check_all_reduce():
    rank = dist.get_rank()
    for dtype in DTYPES:
        for op in ReduceOp:
            tensor = soma.tensor(rank_input(rank, dtype))
            if not valid(op, dtype):
                try:
                    dist.all_reduce(tensor, op=op)
                except TypeError as error:
                    assert op.name in str(error) and str(np.dtype(dtype)) in str(error), error
                    continue
                raise AssertionError(f"all_reduce {op} on {dtype} did not raise TypeError")
            assert dist.all_reduce(tensor, op=op) is None
            same(tensor.numpy(), expected(op, everyone(dtype)), f"all_reduce {op} {np.dtype(dtype)}")


def check_all_reduce_fractions_and_views():
    """Non-integer floats (AVG to round-off), a transposed view written through, an empty tensor, async."""
    rank, w = dist.get_rank(), dist.get_world_size()
    values = [np.random.default_rng(r).standard_normal((4, 6)) for r in range(w)]
    x = soma.tensor(values[rank], dtype=soma.float64)
    dist.all_reduce(x, op=ReduceOp.AVG)
    np.testing.assert_allclose(x.numpy(), np.mean(values, axis=0), rtol=1e-12, atol=1e-12)
    base = soma.tensor(values[rank].astype(np.float32))
    view = base.t()
    dist.all_reduce(view, op=ReduceOp.MAX)
    np.testing.assert_array_equal(base.numpy(), np.max(values, axis=0).astype(np.float32))
    empty = soma.zeros(0, 3)
    dist.all_reduce(empty)
    assert empty.shape == (0, 3)
    work = dist.all_reduce(soma.tensor([float(rank)]), async_op=True)
    assert work.wait() is True and work.is_completed()
    parameter = soma.nn.Parameter(soma.tensor([float(rank + 1)]))
    dist.all_reduce(parameter)  # a leaf that requires grad: collectives write it like an optimizer step
    assert parameter.item() == w * (w + 1) / 2 and parameter.requires_grad


def check_reduce():
    rank, w = dist.get_rank(), dist.get_world_size()
    dst = w - 1
    for dtype in DTYPES:
        for op in (ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PRODUCT, ReduceOp.AVG):
            if not valid(op, dtype):
                continue
            mine = rank_input(rank, dtype)
            tensor = soma.tensor(mine)
            dist.reduce(tensor, dst=dst, op=op)
            wanted = expected(op, everyone(dtype)) if rank == dst else mine
            same(tensor.numpy(), wanted, f"reduce {op} {np.dtype(dtype)} on rank {rank}")


def check_broadcast():
    rank, w = dist.get_rank(), dist.get_world_size()
    for dtype in DTYPES:
        for src in range(w):
            tensor = soma.tensor(rank_input(rank, dtype))
            dist.broadcast(tensor, src)
            same(tensor.numpy(), rank_input(src, dtype), f"broadcast from {src}, {np.dtype(dtype)}")
    try:
        dist.broadcast(soma.zeros(2), src=w)
    except ValueError as error:
        assert f"src={w}" in str(error)
    else:
        raise AssertionError("broadcast from a rank outside the group did not raise")


def check_all_gather():
    rank, w = dist.get_rank(), dist.get_world_size()
    for dtype in DTYPES:
        mine = rank_input(rank, dtype)
        outputs = [soma.tensor(np.zeros(SHAPE, dtype)) for _ in range(w)]
        dist.all_gather(outputs, soma.tensor(mine))
        for r, out in enumerate(outputs):
            same(out.numpy(), rank_input(r, dtype), f"all_gather[{r}] {np.dtype(dtype)}")
        stacked = soma.tensor(np.zeros((w * SHAPE[0], SHAPE[1]), dtype))
        dist.all_gather_into_tensor(stacked, soma.tensor(mine))
        same(stacked.numpy(), np.concatenate(list(everyone(dtype))), f"all_gather_into_tensor {np.dtype(dtype)}")
    try:
        dist.all_gather([soma.zeros(2)] * (w + 1), soma.zeros(2))
    except ValueError as error:
        assert f"{w + 1} tensors" in str(error)
    else:
        raise AssertionError("all_gather with a list of the wrong length did not raise")


def check_group_queries():
    w = dist.get_world_size()
    assert dist.is_initialized() and dist.is_available() and dist.get_backend() == "mpi"
    assert 0 <= dist.get_rank() < w and dist.group.WORLD.size() == w
    order = soma.tensor([float(dist.get_rank())])
    dist.barrier()
    dist.all_reduce(order, op=ReduceOp.SUM)
    assert order.item() == w * (w - 1) / 2


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}

if __name__ == "__main__":
    run_checks(CHECKS)
