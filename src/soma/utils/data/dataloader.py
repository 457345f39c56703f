"""The DataLoader, as ``torch.utils.data.dataloader``: a data set's samples in mini-batches.

Vocabulary (notes 003): an **epoch** is one pass over every training sample; a
**batch** (mini-batch) is the group of samples behind one gradient step; an
**iteration** is one such step. ``N`` samples at batch size ``B`` take
``ceil(N / B)`` iterations an epoch (``floor`` with ``drop_last=True``).
"""

import multiprocessing
import multiprocessing.context
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from soma.nn.common_types import Generator
from soma.utils.collate import default_collate, default_convert
from soma.utils.data.dataset import Dataset, IterableDataset
from soma.utils.data.worker import _round_robin, _Worker, get_worker_info
from soma.utils.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _generator

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


class DataLoader:
    """Iterate over a data set in mini-batches.

    Args:
        dataset: a :class:`Dataset` (or :class:`IterableDataset`).
        batch_size: samples per batch (default 1); ``None`` turns batching off
            and yields single samples (NumPy arrays converted to tensors).
        shuffle: visit the samples in a new random order every epoch.
        sampler: an iterable of indices, instead of ``shuffle``.
        batch_sampler: an iterable of index lists, instead of ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: 0 (default) loads in the calling process. ``W > 0`` workers are
            run in turn in the calling process too (no processes: soma's batches come
            from NumPy slicing, faster than handing them between processes), each with
            its own ``get_worker_info()``, data-set copy and generator seeded
            ``base_seed + id``, and their batches come in PyTorch's order: batch
            ``i`` of a map-style data set from worker ``i mod W`` (the same batches
            as without workers), the streams of an :class:`IterableDataset` in
            turn, one batch of each worker after another (see ``worker.py``).
        worker_init_fn: called as ``worker_init_fn(id)`` inside each worker as it starts
            (each epoch, or once with ``persistent_workers``); never without workers.
        timeout, prefetch_factor, persistent_workers, multiprocessing_context, in_order:
            checked as PyTorch checks them; without workers a positive ``timeout`` is an
            AssertionError when iterating, the other three at non-defaults are ValueError.
            With workers ``timeout``, ``prefetch_factor`` and the context change nothing
            (no process is waited for), ``in_order=False`` keeps the order.
        pin_memory, pin_memory_device: page-locked memory is for copying to an
            accelerator; soma has none, so ``pin_memory=True`` warns at each
            epoch's start, as PyTorch does without one, and the batches are the same.
        collate_fn: builds a batch from a list of samples (:func:`default_collate`).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: ``numpy.random.Generator`` or int seed for shuffling; soma's
            global generator (``soma.manual_seed``) when ``None``.

    ``len(loader)`` is the number of iterations an epoch. A :class:`TensorDataset`
    (or a :class:`Subset` of one) with the default collate is fetched by one
    vectorized index per batch; the batches are the same as sample by sample.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable[Any] | None = None, batch_sampler: Iterable[list[int]] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[Any], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        prefetch_factor = self._check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers,
                                                     multiprocessing_context)
        self._workers = None
        self.dataset = dataset
        self.num_workers, self.timeout, self.worker_init_fn = num_workers, timeout, worker_init_fn
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self.multiprocessing_context, self.in_order = multiprocessing_context, in_order
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.drop_last = drop_last
        self.generator = _generator(generator) if generator is not None else None
        self._iterable = isinstance(dataset, IterableDataset)
        batch_size, drop_last = self._check_sampling_options(batch_size, shuffle, sampler, batch_sampler, drop_last)
        self.batch_size = batch_size
        self.sampler: Any
        self.batch_sampler: Any
        self.sampler, self.batch_sampler = self._index_samplers(batch_size, shuffle, sampler, batch_sampler, drop_last)
        self._auto_collation = self.batch_sampler is not None or (self._iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def _check_sampling_options(self, batch_size, shuffle, sampler, batch_sampler, drop_last):
        """PyTorch's rules on which of shuffle/sampler/batch_sampler/batch_size/drop_last go together;
        returns (batch_size, drop_last) as the loader uses them (None and False under a batch_sampler)."""
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError(
                "DataLoader with IterableDataset: shuffle, sampler and batch_sampler are not "
                "supported (the dataset decides the order of its stream)"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            return None, False
        if batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive "
                "with drop_last"
            )
        if shuffle and sampler is None and not self._iterable and len(self.dataset) == 0:
            raise ValueError(
                "DataLoader: the dataset is empty (0 samples), so there is nothing to shuffle "
                "(num_samples should be a positive integer value, but got num_samples=0)"
            )
        return batch_size, drop_last

    def _index_samplers(self, batch_size, shuffle, sampler, batch_sampler, drop_last):
        """(sampler, batch_sampler): the given ones, else a random or sequential sampler batched by batch_size."""
        if self._iterable:
            return sampler, batch_sampler
        if sampler is None:
            dataset = self.dataset
            sampler = RandomSampler(dataset, generator=self.generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        return sampler, batch_sampler

    @staticmethod
    def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers, context):
        """PyTorch's checks of the worker options; returns the prefetch factor (2 by default with workers)."""
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                             f"but got num_workers={num_workers}")
        if context is not None:
            methods = multiprocessing.get_all_start_methods()
            if isinstance(context, str) and context not in methods:
                raise ValueError(f"multiprocessing_context option should specify a valid start method in {methods!r}, "
                                 f"but got multiprocessing_context={context!r}")
            if not isinstance(context, (str, multiprocessing.context.BaseContext)):
                raise TypeError("multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={context}")
        return prefetch_factor

    def __iter__(self) -> Iterator[Any]:
        if self.timeout and not self.num_workers:
            raise AssertionError(f"DataLoader: timeout={self.timeout} applies to worker processes only; "
                                 "loading in the calling process requires timeout == 0")
        if self.pin_memory and self.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be used as the device,"
                          f"ignore pin_memory_device='{self.pin_memory_device}'.", stacklevel=2)
        if self.pin_memory:  # each epoch, as PyTorch's iterators do
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        return self._batches()

    def _batches(self):
        if not self.num_workers:
            dataset = self.dataset
            yield from (self._stream(dataset) if self._iterable else self._map_batches(dataset, self._tasks()))
            return
        workers = self._start_workers()
        if self._iterable:
            yield from _round_robin(workers, [self._stream(worker.info.dataset) for worker in workers])
            return
        for i, task in enumerate(self._tasks()):  # task i to worker i mod W, yielded in order (in_order)
            worker = workers[i % len(workers)]
            with worker.running():
                batch = next(self._map_batches(worker.info.dataset, [task]))
            yield batch

    def _tasks(self):
        """What one fetch gets: an index list per batch, or one index without automatic batching."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def _map_batches(self, dataset, tasks):
        """The batch of each task, fetched from a map-style ``dataset``."""
        fast = self.collate_fn is default_collate and hasattr(dataset, "_fetch_batch")
        for task in tasks:
            if not self._auto_collation:
                yield self.collate_fn(dataset[task])
            elif fast:
                yield dataset._fetch_batch(task)
            elif callable(getattr(dataset, "__getitems__", None)):  # PyTorch's batched fetch
                yield self.collate_fn(dataset.__getitems__(task))
            else:
                yield self.collate_fn([dataset[i] for i in task])

    def _stream(self, dataset):
        """The batches of an iterable ``dataset`` (single samples without automatic batching)."""
        if self.batch_size is None:
            for sample in dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def _start_workers(self):
        """The workers of one epoch (of all epochs with ``persistent_workers``), seeded ``base_seed + id``
        with ``base_seed`` drawn from the loader's generator, and ``worker_init_fn`` run in each."""
        if self._workers is not None:
            return self._workers
        base_seed = int(_generator(self.generator).integers(0, 2**63 - 1, endpoint=True))
        workers = [_Worker(i, self.num_workers, base_seed + i, self.dataset, self.worker_init_fn)
                   for i in range(self.num_workers)]
        if self.persistent_workers:
            self._workers = workers
        return workers

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __repr__(self):
        return (
            f"DataLoader(dataset of {getattr(self.dataset, '__len__', lambda: '?')()} "
            f"samples, batch_size={self.batch_size}, drop_last={self.drop_last})"
        )
