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
"""

import contextlib
from dataclasses import dataclass
from typing import Any

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
