"""Collectives on soma tensors, in place, as ``torch.distributed`` has them.

Each call hands MPI the tensor's own memory (a buffer, not a pickled copy) and
writes the result back into the same tensor. With ``W`` ranks holding
``x_0 .. x_{W-1}`` of one shape and dtype:

* ``all_reduce(x, op)``: every rank gets ``x_0 ∘ x_1 ∘ ... ∘ x_{W-1}`` (``∘`` is +, ×,
  max, min, &, |, ^); ``ReduceOp.AVG`` is the sum divided by ``W`` (floating point only);
* ``reduce(x, dst, op)``: the same, on rank ``dst`` only;
* ``broadcast(x, src)``: every rank gets ``x_src``;
* ``all_gather(xs, x)``: every rank gets the list ``[x_0, ..., x_{W-1}]``;
* ``barrier()``: no rank leaves before all have arrived.

Every rank must call the same collectives in the same order with tensors of the
same shape and dtype. ``async_op=True`` returns a :class:`Work` to ``wait()``
on (MPI's non-blocking collectives); otherwise the call returns once done. A
bool tensor reduces logically (SUM and MAX are *or*, PRODUCT and MIN are *and*).
"""

import enum

import numpy as np

from soma.autograd.function import mark_dirty
from soma.distributed.process_group import _default_group, _mpi, wait
from soma.tensor import Tensor

__all__ = [
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_reduce",
    "barrier",
    "broadcast",
    "reduce",
]


class ReduceOp(enum.Enum):
    """How ``all_reduce`` / ``reduce`` combine the ranks' tensors."""

    SUM = "SUM"
    AVG = "AVG"
    PRODUCT = "PROD"
    MIN = "MIN"
    MAX = "MAX"
    BAND = "BAND"
    BOR = "BOR"
    BXOR = "BXOR"


_BITWISE = (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR)
_LOGICAL = {  # the same ops on bool tensors
    ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.BOR: "LOR",
    ReduceOp.PRODUCT: "LAND", ReduceOp.MIN: "LAND", ReduceOp.BAND: "LAND",
    ReduceOp.BXOR: "LXOR",
}


def _mpi_op(op, dtype, fn):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{fn}: op must be a soma.distributed.ReduceOp, got {op!r}")
    MPI = _mpi()
    if dtype.kind == "b":
        if op is ReduceOp.AVG:
            raise TypeError(f"{fn}: ReduceOp.AVG needs a floating-point tensor, got bool")
        return getattr(MPI, _LOGICAL[op])
    if op is ReduceOp.AVG:
        if dtype.kind != "f":
            raise TypeError(f"{fn}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
        return MPI.SUM
    if op in _BITWISE and dtype.kind not in "iu":
        raise TypeError(f"{fn}: ReduceOp.{op.name} needs an integer or bool tensor, got {dtype}")
    return getattr(MPI, op.value)


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` finishes it and writes the result."""

    def __init__(self, requests, what, group, finish=None):
        self._requests, self._what, self._group, self._finish = list(requests), what, group, finish
        self._done = False

    def is_completed(self):
        return self._done or _mpi().Request.Testall(self._requests)

    def wait(self, timeout=None):
        """Block until done (at most the group's timeout); ``timeout`` is accepted as in PyTorch."""
        if not self._done:
            wait(self._requests, self._what, self._group)
            self._done = True
            if self._finish is not None:
                self._finish()
        return True


def _buffer(tensor, fn, name="tensor"):
    """(contiguous array MPI may write, function that puts it back into ``tensor``)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn}: {name} must be a soma Tensor, got {type(tensor).__name__}")
    array = tensor._array
    if array.flags.c_contiguous and array.flags.writeable:
        return array, lambda: mark_dirty(tensor)
    copy = np.ascontiguousarray(array)

    def write_back():
        tensor._array[...] = copy
        mark_dirty(tensor)

    return copy, write_back


def _run(requests, what, group, finish, async_op):
    work = Work(requests, what, group, finish)
    if async_op:
        return work
    work.wait()
    return None


def _check_rank(value, pg, fn, name):
    if not isinstance(value, (int, np.integer)) or not 0 <= value < pg.size():
        raise ValueError(f"{fn}: {name}={value!r} is not a rank of this group (0 .. {pg.size() - 1})")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across all ranks with ``op``; every rank's ``tensor`` gets the result."""
    pg = _default_group(group)
    buf, write_back = _buffer(tensor, "all_reduce")
    mpi_op = _mpi_op(op, buf.dtype, "all_reduce")
    request = pg.comm.Iallreduce(_mpi().IN_PLACE, buf, op=mpi_op)

    def finish():
        if op is ReduceOp.AVG:
            np.divide(buf, pg.size(), out=buf)
        write_back()

    return _run([request], "all_reduce", pg, finish, async_op)


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across all ranks into rank ``dst``'s ``tensor``; the others keep theirs."""
    pg = _default_group(group)
    _check_rank(dst, pg, "reduce", "dst")
    buf, write_back = _buffer(tensor, "reduce")
    mpi_op = _mpi_op(op, buf.dtype, "reduce")
    root = pg.rank() == dst
    request = pg.comm.Ireduce(_mpi().IN_PLACE if root else buf, buf if root else None, op=mpi_op, root=dst)

    def finish():
        if root:
            if op is ReduceOp.AVG:
                np.divide(buf, pg.size(), out=buf)
            write_back()

    return _run([request], "reduce", pg, finish, async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor``."""
    pg = _default_group(group)
    _check_rank(src, pg, "broadcast", "src")
    buf, write_back = _buffer(tensor, "broadcast")
    request = pg.comm.Ibcast(buf, root=src)
    return _run([request], "broadcast", pg, write_back, async_op)


def _gather_buffer(tensor, pg, fn):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn}: tensor must be a soma Tensor, got {type(tensor).__name__}")
    source = np.ascontiguousarray(tensor._array)
    return source, np.empty((pg.size(), *source.shape), source.dtype)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank ``r``'s ``tensor``, on every rank."""
    pg = _default_group(group)
    source, gathered = _gather_buffer(tensor, pg, "all_gather")
    tensor_list = list(tensor_list)
    if len(tensor_list) != pg.size():
        raise ValueError(
            f"all_gather: tensor_list has {len(tensor_list)} tensors but the group has {pg.size()} ranks"
        )
    for i, out in enumerate(tensor_list):
        if not isinstance(out, Tensor) or out.shape != tensor.shape or out.dtype != tensor.dtype:
            what = f"shape {tuple(out.shape)}, {out.dtype}" if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(
                f"all_gather: tensor_list[{i}] ({what}) must match tensor (shape {tuple(tensor.shape)}, "
                f"{tensor.dtype})"
            )
    request = pg.comm.Iallgather(source, gathered)

    def finish():
        for out, value in zip(tensor_list, gathered):
            out._array[...] = value
            mark_dirty(out)

    return _run([request], "all_gather", pg, finish, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Rank ``r``'s ``input_tensor`` into block ``r`` of ``output_tensor`` (shape ``(W*n, ...)`` or ``(W, n, ...)``)."""
    pg = _default_group(group)
    source, gathered = _gather_buffer(input_tensor, pg, "all_gather_into_tensor")
    if not isinstance(output_tensor, Tensor) or output_tensor.dtype != input_tensor.dtype:
        raise TypeError("all_gather_into_tensor: output_tensor must be a soma Tensor of the input's dtype")
    shape, w = tuple(input_tensor.shape), pg.size()
    stacked, cat = (w, *shape), ((w * shape[0], *shape[1:]) if shape else (w,))
    if tuple(output_tensor.shape) not in (stacked, cat):
        raise ValueError(
            f"all_gather_into_tensor: output_tensor has shape {tuple(output_tensor.shape)}; with input shape "
            f"{shape} and {w} ranks it must be {cat} or {stacked}"
        )
    request = pg.comm.Iallgather(source, gathered)

    def finish():
        output_tensor._array[...] = gathered.reshape(output_tensor._array.shape)
        mark_dirty(output_tensor)

    return _run([request], "all_gather_into_tensor", pg, finish, async_op)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of the group has called ``barrier``."""
    pg = _default_group(group)
    return _run([pg.comm.Ibarrier()], "barrier", pg, None, async_op)
