"""Samplers: which sample indices a :class:`~soma.utils.data.DataLoader` visits, in what order.

A sampler is an iterable of dataset indices; a batch sampler groups them into
lists, one list per mini-batch. The random ones draw from the generator they
are given, or else from soma's global generator (:func:`soma.random.generator`),
*when iteration starts*, so ``soma.manual_seed`` makes the order repeatable and
a checkpoint of ``soma.get_rng_state()`` taken between epochs resumes it exactly.
"""

import numpy as np

from soma import random as _random

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler"]


def _generator(generator):
    """A numpy Generator: the one given, one seeded by an int, or soma's global one."""
    if generator is None:
        return _random.generator()
    if isinstance(generator, (int, np.integer)):
        return np.random.default_rng(int(generator))
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(
        f"generator must be a numpy.random.Generator, an int seed or None, "
        f"got {type(generator).__name__}"
    )


class Sampler:
    """Base class: iterate over dataset indices; ``len()`` is how many."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., N-1, in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of 0..N-1 (or ``num_samples`` draws with ``replacement=True``).

    Each ``iter()`` draws a new order, so every epoch sees the data shuffled afresh.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _generator(generator) if generator is not None else None
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer, got {num_samples!r}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        rng = _generator(self.generator)
        n = len(self.data_source)
        if self.replacement:
            order = rng.integers(0, n, size=self.num_samples)
        else:
            whole, rest = divmod(self.num_samples, n)
            order = np.concatenate(
                [rng.permutation(n) for _ in range(whole)] + [rng.permutation(n)[:rest]]
            )
        return iter(order.tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order drawn at each ``iter()``."""

    def __init__(self, indices, generator=None):
        self.indices = list(indices)
        self.generator = _generator(generator) if generator is not None else None

    def __iter__(self):
        order = _generator(self.generator).permutation(len(self.indices))
        return (self.indices[i] for i in order.tolist())

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Group a sampler's indices into lists of ``batch_size``.

    The last, shorter batch is kept unless ``drop_last=True``, so an epoch has
    ``ceil(N / batch_size)`` (or ``floor``) iterations: 10,000 samples at batch 200
    are 50 iterations (notes 003).
    """

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean, got {drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
