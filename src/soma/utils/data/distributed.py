"""``DistributedSampler``: each of ``W`` ranks visits its own ``1/W`` of the data, as in PyTorch.

With ``N`` samples and ``W`` replicas every rank gets ``n = ceil(N / W)`` indices
(``ceil((N - W) / W)`` with ``drop_last=True`` when ``W`` does not divide ``N``).
The order of all ``N`` indices is one permutation, drawn from ``seed + epoch``
so that every rank draws the same one (or ``0..N-1`` with ``shuffle=False``);
it is padded with its own first indices up to ``W·n`` (or cut to ``W·n``), and
rank ``r`` takes every ``W``-th index starting at ``r``: positions
``r, r+W, r+2W, ...``. So the ``k``-th batches of size ``b`` of all ranks
together are positions ``kWb .. (k+1)Wb - 1`` of that order: one batch of
``W·b`` in a single process.

Call ``set_epoch(epoch)`` before each epoch, or every epoch repeats the order.

Example:
    >>> sampler = DistributedSampler(dataset)          # rank and W from the process group
    >>> loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    >>> for epoch in range(epochs):
    ...     sampler.set_epoch(epoch)
    ...     for xb, yb in loader: ...
"""

import math

import numpy as np

from soma.utils.sampler import Sampler

__all__ = ["DistributedSampler"]


def _group_value(name):
    from soma import distributed as dist

    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available: pip install soma[distributed]")
    return dist.get_world_size() if name == "num_replicas" else dist.get_rank()


class DistributedSampler(Sampler):
    """Indices of this rank's share of ``dataset`` (PyTorch's semantics, NumPy's permutation).

    Args:
        dataset: anything with ``len()``.
        num_replicas: ``W``; default: the process group's world size.
        rank: this rank, ``0 .. W-1``; default: the process group's rank.
        shuffle: draw a new permutation each epoch (from ``seed + epoch``).
        seed: the same on every rank.
        drop_last: cut the tail so every rank gets the same number without repeats,
            instead of padding with repeated indices.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        num_replicas = _group_value("num_replicas") if num_replicas is None else num_replicas
        rank = _group_value("rank") if rank is None else rank
        if not isinstance(num_replicas, (int, np.integer)) or num_replicas < 1:
            raise ValueError(f"num_replicas should be a positive integer, got {num_replicas!r}")
        if not isinstance(rank, (int, np.integer)) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[: self.total_size]
        elif self.total_size > n:  # pad by repeating the order from its start
            order = np.resize(order, self.total_size) if n else order
        return iter(order[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use epoch ``epoch``'s permutation next (every rank must set the same epoch)."""
        self.epoch = int(epoch)
