"""What ``Trainer`` does differently when the process group is initialized (many ranks, one model).

Launched with ``soma run -n W train.py`` (or ``mpiexec -n W python train.py``) after
``soma.distributed.init_process_group("mpi")``, the same ``Trainer.fit`` call on
every rank trains one model:

* the model trains through :class:`~soma.nn.parallel.DistributedDataParallel`
  (:func:`wrap_model`), so every step uses the gradient averaged over ranks;
* each rank reads its ``1/W`` of the training data (:func:`shard_loader`:
  a :class:`~soma.utils.data.distributed.DistributedSampler`, reshuffled every
  epoch by :func:`set_epoch`); ``batch_size`` is per rank, as in PyTorch, so a
  step sees ``W · batch_size`` samples; validation data is split without padding;
* the epoch's loss and metrics are over all ranks' samples (:func:`sum_over_ranks`,
  :func:`gather_rows`), so every rank logs the same numbers and callbacks such as
  early stopping decide the same;
* only rank 0 shows progress, prints, and runs the callbacks that write files
  (:func:`callbacks_for_rank`, :func:`quiet`); checkpoints are written by rank 0
  and read by every rank (:func:`save_on_main`, :func:`before_load`).

Outside a process group every function here is the identity, so the Trainer
calls them unconditionally.
"""

import contextlib
import io
import sys

import numpy as np

from soma import distributed as dist
from soma.tensor import Tensor

__all__ = [
    "any_rank",
    "before_load",
    "callbacks_for_rank",
    "gather_rows",
    "is_distributed",
    "is_main_process",
    "quiet",
    "save_on_main",
    "set_epoch",
    "shard_loader",
    "sum_over_ranks",
    "wrap_model",
]


def is_distributed():
    """Whether a process group is up (``init_process_group`` was called in this process)."""
    return dist.is_initialized()


def is_main_process():
    """Rank 0, or the only process."""
    return not is_distributed() or dist.get_rank() == 0


def wrap_model(model):
    """``model`` in DistributedDataParallel (once), or ``model`` itself outside a group."""
    from soma.nn.parallel import DistributedDataParallel

    if not is_distributed() or isinstance(model, DistributedDataParallel):
        return model
    wrapped = getattr(model, "_soma_ddp", None)
    if wrapped is None:
        wrapped = DistributedDataParallel(model)
        object.__setattr__(model, "_soma_ddp", wrapped)  # not a submodule: keep the state dict clean
    return wrapped


class _Strided:
    """Rank ``r`` of ``W`` visits ``r, r+W, r+2W, ...``: every sample exactly once (evaluation)."""

    def __init__(self, n, rank, world):
        self.indices = range(rank, n, world)

    def __iter__(self):
        return iter(self.indices)

    def __len__(self):
        return len(self.indices)


def _shared_seed():
    """A shuffling seed drawn from rank 0's generator, the same on every rank."""
    from soma.random import generator

    seed = Tensor._make(np.array([generator().integers(0, 2**31 - 1)], dtype=np.int64), False)
    dist.broadcast(seed, 0)
    return int(seed.item())


def shard_loader(loader, train=True):
    """A DataLoader over this rank's share of ``loader``'s dataset (same batch size and collate).

    ``train=True`` keeps every rank's number of batches equal (DistributedSampler's padding), as
    the gradient all-reduce of each step needs; ``train=False`` visits each sample exactly once.
    Loaders whose order the user chose (their own sampler or batch sampler, an IterableDataset)
    are left alone.
    """
    from soma.utils.data import DataLoader
    from soma.utils.data.distributed import DistributedSampler
    from soma.utils.sampler import BatchSampler, RandomSampler, SequentialSampler

    if not is_distributed() or getattr(loader, "_iterable", True) or loader.batch_size is None:
        return loader
    default_order = type(loader.sampler) in (RandomSampler, SequentialSampler)
    if not default_order or type(loader.batch_sampler) is not BatchSampler:
        return loader
    dataset = loader.dataset
    if train:
        shuffle = isinstance(loader.sampler, RandomSampler)
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=_shared_seed() if shuffle else 0)
    else:
        sampler = _Strided(len(dataset), dist.get_rank(), dist.get_world_size())
    return DataLoader(
        dataset, batch_size=loader.batch_size, sampler=sampler, collate_fn=loader.collate_fn,
        drop_last=loader.drop_last,
    )


def set_epoch(loader, epoch):
    """Give a sharded loader's sampler the epoch, so every epoch is shuffled afresh on every rank alike."""
    sampler = getattr(loader, "sampler", None)
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)


def sum_over_ranks(*values):
    """The sums over ranks of a few numbers (floats), e.g. a loss total and a sample count."""
    if not is_distributed():
        return values if len(values) != 1 else values[0]
    buffer = Tensor._make(np.array(values, dtype=np.float64), False)
    dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
    sums = tuple(float(v) for v in buffer._array)
    return sums if len(sums) != 1 else sums[0]


def any_rank(flag):
    """Whether ``flag`` is true on any rank (so that all ranks stop an epoch at the same step)."""
    return bool(sum_over_ranks(float(bool(flag)))) if is_distributed() else bool(flag)


def gather_rows(array):
    """Every rank's rows of ``array`` stacked in rank order (ranks may hold different numbers of rows)."""
    array = np.ascontiguousarray(array)
    if not is_distributed():
        return array
    world = dist.get_world_size()
    counts = Tensor._make(np.zeros(world, dtype=np.int64), False)
    counts._array[dist.get_rank()] = len(array)
    dist.all_reduce(counts)
    most = int(counts._array.max())
    padded = np.zeros((most, *array.shape[1:]), array.dtype)
    padded[: len(array)] = array
    out = Tensor._make(np.empty((world, *padded.shape), array.dtype), False)
    dist.all_gather_into_tensor(out, Tensor._make(padded, False))
    return np.concatenate([block[:n] for block, n in zip(out._array, counts._array.tolist())])


_FILE_WRITERS = ("ProgressBar", "CSVLogger", "ModelCheckpoint")


def callbacks_for_rank(callbacks):
    """On ranks other than 0, drop the callbacks that show progress or write files."""
    if is_main_process():
        return list(callbacks)
    return [c for c in callbacks if not getattr(c, "rank_zero_only", type(c).__name__ in _FILE_WRITERS)]


@contextlib.contextmanager
def quiet():
    """Inside, ranks other than 0 print nothing to stdout (rank 0's output is the job's log)."""
    if is_main_process():
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()) if sys.stdout is not None else contextlib.nullcontext():
        yield


def save_on_main(save, *args, **kwargs):
    """Call ``save(*args, **kwargs)`` on rank 0 only (every rank holds the same weights)."""
    if is_main_process():
        return save(*args, **kwargs)
    return None


def before_load():
    """Wait for every rank (so rank 0's last checkpoint is on disk) before all ranks read one."""
    if is_distributed():
        dist.barrier()
