"""``get_worker_info()``: which DataLoader worker the calling code runs in, as PyTorch's.

``None`` in the main process. Inside a worker (while ``DataLoader(num_workers=W)`` iterates an
:class:`~soma.utils.data.IterableDataset`), a frozen :class:`WorkerInfo` with the worker's ``id``
(``0 .. W-1``), ``num_workers``, ``seed`` and its own copy of the ``dataset``, so that a stream can
shard itself, as in PyTorch's documentation:

    >>> def __iter__(self):
    ...     info = get_worker_info()
    ...     if info is None:                       # one process reads everything
    ...         return iter(range(self.start, self.end))
    ...     per_worker = math.ceil((self.end - self.start) / info.num_workers)
    ...     start = self.start + info.id * per_worker
    ...     return iter(range(start, min(start + per_worker, self.end)))

soma's workers are not processes: the DataLoader runs them in turn in the calling process
(:class:`_Worker`), in the order PyTorch's in-order loader yields their batches, so a program
written for workers gives PyTorch's items. Each worker has its own shallow copy of the data set
(attributes it sets, as a ``worker_init_fn`` does, stay its own; arrays are shared, as after a
fork) and its own soma random generator, seeded ``base_seed + id`` as in PyTorch (installed as
the global one while the worker runs, so ``soma.rand`` in a data set draws from the worker's).
"""

import contextlib
import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["WorkerInfo", "get_worker_info"]


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """The current worker: ``id``, ``num_workers``, ``seed`` (its random seed) and ``dataset`` (its copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None
    worker_method: str | None = "multiprocessing"


_current: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` of the DataLoader worker running this code; ``None`` in the main process."""
    return _current


@contextlib.contextmanager
def _running_as(info: WorkerInfo | None):
    """Code inside sees ``get_worker_info() == info`` (restored afterwards)."""
    global _current
    previous, _current = _current, info
    try:
        yield
    finally:
        _current = previous


class _Worker:
    """One in-process worker: its :class:`WorkerInfo`, data-set copy and random generator."""

    def __init__(self, worker_id: int, num_workers: int, seed: int, dataset: Any, init_fn: Any) -> None:
        self.info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=copy.copy(dataset))
        self.generator = np.random.Generator(np.random.PCG64(seed))
        if init_fn is not None:
            with self.running():
                init_fn(worker_id)

    @contextlib.contextmanager
    def running(self):
        """Inside: ``get_worker_info()`` is this worker's and soma's global generator is the worker's."""
        from soma.random import _State

        saved = _State.generator, _State.seed
        _State.generator, _State.seed = self.generator, self.info.seed
        try:
            with _running_as(self.info):
                yield
        finally:
            self.generator = _State.generator  # the worker may have re-seeded itself
            _State.generator, _State.seed = saved


def _round_robin(workers: list[_Worker], streams: list) -> Any:
    """The streams' items in turn, worker 0, 1, ..., skipping each once it is exhausted (PyTorch's in-order
    loader over an IterableDataset); every ``next`` runs inside its worker."""
    active = list(range(len(workers)))
    while active:
        for index in list(active):
            with workers[index].running():
                item = next(streams[index], _END)
            if item is _END:
                active.remove(index)
            else:
                yield item


_END = object()
