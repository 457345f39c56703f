"""The gradient reducer behind ``DistributedDataParallel``: buckets, hooks, averaging.

After a forward pass the reducer finds, by walking the graph from the module's
outputs, which parameters will receive a gradient in the backward pass. The engine
calls a parameter's hook once, with its total gradient (a weight used at every step
of an RNN included), as soon as the last node using it has run; the hook adds it
into the parameter's slice of a flat *bucket* (parameters in reverse registration order, the order backward
meets them, at most ``bucket_cap_mb`` a bucket); when every parameter of a
bucket is complete the bucket's non-blocking ``MPI_Iallreduce`` starts, while
backward goes on with the layers below. Buckets start in index order on every
rank, so the ranks' collectives always match. The last contribution waits for
all buckets and writes each gradient as the average over ranks,

    grad_w = (1/W) Σ_r (grad_w before this backward + Σ contributions)_r,

which is the gradient of the mean loss over all ``W·b`` samples when every
rank's loss is the mean over its ``b``. A bucket carries one extra number per
parameter, 1 if this rank used it: a parameter no rank used keeps its gradient
(``None``) as in PyTorch's ``find_unused_parameters``.

A contribution beyond the count (a penalty on the weights added to the loss
outside the module) is averaged at once with a blocking all-reduce: averaging
is linear, so the sum of averages is still the average of the sums, as long as
every rank's graph has the same structure (the same code path), which
data-parallel training has.
"""

import weakref

import numpy as np

from soma.distributed import process_group as pg_module
from soma.distributed.collectives import ReduceOp, all_reduce
from soma.tensor import Tensor

__all__ = ["Reducer"]


def _tensors(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def count_uses(outputs, keys):
    """1 for each leaf (by ``id``) that is an input of some node in the graph of ``outputs``, else 0.

    The engine delivers each leaf's gradient once, as a total, so one hook call is expected.
    """
    counts = dict.fromkeys(keys, 0)
    stack = [t.grad_fn for t in _tensors(outputs) if t.requires_grad and t.grad_fn is not None]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for value in node.inputs:
            if not isinstance(value, Tensor) or not value.requires_grad:
                continue
            producer = value.grad_fn
            if producer is None:
                if id(value) in counts:
                    counts[id(value)] = 1
            elif producer not in seen:
                stack.append(producer)
    return counts


class _Bucket:
    """Parameters of one dtype laid end to end, then one used-flag per parameter."""

    def __init__(self, params, dtype):
        self.params = params
        self.slices, start = [], 0
        for param in params:
            self.slices.append(slice(start, start + param._array.size))
            start += param._array.size
        self.numel = start
        self.buffer = np.zeros(start + len(params), dtype, like=params[0]._array)  # beside the gradients
        self.pending = len(params)
        self.request = None

    def view(self, index):
        return self.buffer[self.slices[index]].reshape(self.params[index]._array.shape)


def _make_buckets(params, first_cap, cap):
    """Reverse registration order, split by dtype and by size (the first bucket smaller, as in PyTorch)."""
    buckets, open_ = [], {}  # dtype -> (parameters, bytes) of the bucket being filled
    for param in reversed(params):
        dtype, nbytes = param._array.dtype, param._array.nbytes
        group, size = open_.get(dtype, ([], 0))
        if group and size + nbytes > (first_cap if not buckets else cap):
            buckets.append(_Bucket(group, dtype))
            group, size = [], 0
        group.append(param)
        open_[dtype] = (group, size + nbytes)
    buckets.extend(_Bucket(group, dtype) for dtype, (group, _) in open_.items() if group)
    return buckets


class Reducer:
    """Averages the gradients of ``params`` over the process group during backward."""

    def __init__(self, params, group, bucket_cap_bytes, first_bucket_bytes=1024 * 1024):
        self.group = group
        self.params = params
        self.buckets = _make_buckets(params, min(first_bucket_bytes, bucket_cap_bytes), bucket_cap_bytes)
        self.slot = {}  # id(param) -> (bucket, index in bucket)
        for bucket in self.buckets:
            for index, param in enumerate(bucket.params):
                self.slot[id(param)] = (bucket, index)
        ref = weakref.ref(self)
        for param in params:
            param.register_hook(_hook(ref, param))
        self.armed = self.finalized = self.got_grad = False
        self.left, self.late, self.remaining, self.next_launch = {}, {}, 0, 0

    # ------------------------------------------------------------ between iterations
    def disarm(self):
        self._check_finished()
        self.armed = False

    def prepare(self, outputs):
        """Arm the hooks for the backward of ``outputs`` (called at the end of every synced forward)."""
        self._check_finished()
        self.left = count_uses(outputs, self.slot)
        self.late = {}
        self.remaining = sum(self.left.values())
        self.next_launch = 0
        self.armed, self.finalized, self.got_grad = True, False, False
        for bucket in self.buckets:
            bucket.pending = len(bucket.params)
            bucket.request = None
            bucket.buffer[bucket.numel :] = 0  # used-flags
            for index, param in enumerate(bucket.params):
                if self.left[id(param)] == 0:  # unused here: its old gradient (or zero) takes part
                    self._start_slot(bucket, index, param, used=0.0)
                    bucket.pending -= 1
        self._launch_ready()
        if self.remaining == 0:
            self._finalize(None)

    def _check_finished(self):
        if not self.armed or self.finalized:
            return
        self.armed = False
        if not self.got_grad:  # a forward without backward: let the buckets of unused parameters finish
            launched = [bucket.request for bucket in self.buckets if bucket.request is not None]
            pg_module.wait(launched, "DistributedDataParallel gradient all-reduce", self.group)
            for bucket in self.buckets:
                bucket.request = None
        else:
            raise RuntimeError(
                "DistributedDataParallel: expected to have finished reduction in the prior iteration before "
                "starting a new one: some parameters received their gradients and others did not. Make every "
                "output of forward take part in the loss (detach or drop the others), and call backward once "
                "per forward"
            )

    # ------------------------------------------------------------------ in backward
    def _start_slot(self, bucket, index, param, used):
        view = bucket.view(index)
        if param.grad is None:
            view[...] = 0
        else:
            view[...] = param.grad._array
        bucket.buffer[bucket.numel + index] = used

    def on_grad(self, param, grad):
        """The hook: returns the gradient the engine should store, or ``None`` to leave it."""
        if not self.armed:
            return None
        key = id(param)
        if self.left[key] == 0:
            return self._late(key, grad)
        bucket, index = self.slot[key]
        self.got_grad = True
        if bucket.buffer[bucket.numel + index] == 0:  # first contribution this backward
            self._start_slot(bucket, index, param, used=1.0)
        view = bucket.view(index)
        view += grad._array
        self.left[key] -= 1
        self.remaining -= 1
        if self.left[key] == 0:
            bucket.pending -= 1
            if bucket.pending == 0:
                self._launch_ready()
        if self.remaining == 0:
            return self._finalize(param)
        self._progress()
        return None

    def _late(self, key, grad):
        average = Tensor._make(grad._array.copy(), False)
        all_reduce(average, ReduceOp.AVG, group=self.group)
        if self.finalized:
            return average
        self.late[key] = average._array + self.late[key] if key in self.late else average._array
        return None

    def _launch_ready(self):
        """Start, in index order, every bucket whose parameters are all complete."""
        while self.next_launch < len(self.buckets) and self.buckets[self.next_launch].pending == 0:
            bucket = self.buckets[self.next_launch]
            bucket.request = self.group.comm.Iallreduce(pg_module._mpi().IN_PLACE, bucket.buffer)
            self.next_launch += 1

    def _progress(self):
        requests = [b.request for b in self.buckets if b.request is not None]
        if requests:
            pg_module._mpi().Request.Testall(requests)

    def _finalize(self, last):
        """Wait for every bucket and write the averaged gradients; returns ``last``'s for the engine."""
        requests = [bucket.request for bucket in self.buckets]
        pg_module.wait(requests, "DistributedDataParallel gradient all-reduce", self.group)
        world = self.group.size()
        result = None
        for bucket in self.buckets:
            grads = bucket.buffer[: bucket.numel]
            np.divide(grads, world, out=grads)
            for index, param in enumerate(bucket.params):
                if bucket.buffer[bucket.numel + index] == 0:  # no rank used it
                    continue
                value = bucket.view(index).copy()
                if id(param) in self.late:
                    value += self.late[id(param)]
                if param is last:  # the engine stores what the hook returns, into a fresh .grad
                    param.grad = None
                    result = Tensor._make(value, False)
                else:
                    param.grad = Tensor._make(value, False)
            bucket.request = None
        self.finalized = True
        return result


def _hook(ref, param):
    def hook(grad):
        reducer = ref()
        return None if reducer is None else reducer.on_grad(param, grad)

    return hook
