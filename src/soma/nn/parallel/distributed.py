"""``DistributedDataParallel``: one model replica per rank, gradients averaged in backward.

Data parallelism (notes 003: an iteration is one gradient step over a batch):
``W`` ranks hold the same weights ``w``; rank ``r`` takes its own ``b`` samples and
computes ``g_r = ∇_w L_r(w)``, the gradient of the mean loss over them. With
``g = (1/W) Σ_r g_r`` — the gradient of the mean loss over all ``W·b`` samples —
every rank takes the same optimizer step and the weights stay identical, as if
one process had run batches ``W`` times as large.

``DistributedDataParallel(module)`` makes that so:

* at construction it copies rank 0's parameters and buffers to every rank;
* each forward in training mode re-broadcasts rank 0's buffers (batch-norm
  running statistics) when ``broadcast_buffers=True``;
* its backward averages the gradients in buckets, each bucket's all-reduce
  starting as soon as backward has produced all of its gradients
  (:mod:`soma.nn.parallel._reducer`), so communication overlaps computation as
  far as MPI's non-blocking collectives progress;
* ``with ddp.no_sync():`` skips the averaging (gradient accumulation): the
  gradients add up locally and the first synced backward averages the total.

Example:
    >>> dist.init_process_group("mpi")
    >>> model = DistributedDataParallel(LeNet5())
    >>> optimizer = optim.SGD(model.parameters(), lr=0.1)
    >>> loss_fn(model(xb), yb).backward()   # .grad: the average over all ranks
    >>> optimizer.step()                    # the same step on every rank
"""

import contextlib

from soma.autograd.function import is_grad_enabled
from soma.distributed import broadcast
from soma.distributed.process_group import _default_group
from soma.nn.module import Module
from soma.nn.parallel._reducer import Reducer

__all__ = ["DistributedDataParallel"]


def _strip_prefix(state_dict, prefix="module."):
    """A state dict saved from PyTorch's DDP has every key under ``module.``: read it as the module's."""
    keys = list(state_dict)
    if keys and all(key.startswith(prefix) for key in keys):
        return {key[len(prefix) :]: value for key, value in state_dict.items()}
    return state_dict


class DistributedDataParallel(Module):
    """Wrap ``module`` so its gradients are averaged over the process group (PyTorch's arguments).

    Args:
        module: the model; its forward is this module's forward.
        device_ids, output_device: ``None`` (CPU).
        broadcast_buffers: copy rank 0's buffers to every rank at each training forward.
        process_group: the group (default: the one :func:`soma.distributed.init_process_group` made).
        bucket_cap_mb: the largest bucket of gradients in one all-reduce (default 25; the first 1).
        find_unused_parameters, static_graph, gradient_as_bucket_view: accepted; soma always finds
            the parameters the output depends on, by walking its graph after forward.

    The state dict is the wrapped module's (no ``module.`` prefix), so a checkpoint saved
    from a DDP model loads into the bare model and back; ``load_state_dict`` also takes
    PyTorch DDP's ``module.``-prefixed keys.

    Shape:
        - Input and output: those of ``module``.
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        process_group=None,
        bucket_cap_mb=None,
        find_unused_parameters=False,
        check_reduction=False,
        gradient_as_bucket_view=False,
        static_graph=False,
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu"):
            raise ValueError(
                "DistributedDataParallel: device_ids and output_device must be None for a CPU module, "
                f"got device_ids={device_ids!r}, output_device={output_device!r}"
            )
        if dim != 0:
            raise ValueError(f"DistributedDataParallel: dim must be 0 (the batch dimension), got {dim}")
        cap = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        if not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.process_group = _default_group(process_group)
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True
        params, seen = [], set()
        for param in module.parameters():
            if param.requires_grad and id(param) not in seen:
                seen.add(id(param))
                params.append(param)
        if not params:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter that requires "
                "a gradient."
            )
        self._sync_module_states()
        self.reducer = Reducer(params, self.process_group, int(cap * 1024 * 1024))

    def _sync_module_states(self):
        for tensor in self.module.state_dict(keep_vars=True).values():
            broadcast(tensor, 0, group=self.process_group)

    def forward(self, *inputs, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if not sync:
            self.reducer.disarm()
        if sync and self.training and self.broadcast_buffers and self.process_group.size() > 1:
            for buffer in self.module.buffers():
                broadcast(buffer, 0, group=self.process_group)
        output = self.module(*inputs, **kwargs)
        if sync:
            self.reducer.prepare(output)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally; the next synced backward averages them all."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        return self.module.state_dict(destination, prefix, keep_vars)

    def load_state_dict(self, state_dict, strict=True):
        return self.module.load_state_dict(_strip_prefix(state_dict), strict)
