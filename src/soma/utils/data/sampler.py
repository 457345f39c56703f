"""Samplers, as ``torch.utils.data.sampler``: the index orders a DataLoader visits (see :mod:`soma.utils.sampler`),
and :class:`WeightedRandomSampler`, which draws indices with given probabilities.

A class-imbalanced data set is often rebalanced by weighting each sample by ``1 / count(its class)``:
every class is then drawn equally often on average.

    >>> counts = np.bincount(labels)
    >>> sampler = WeightedRandomSampler(1.0 / counts[labels], num_samples=len(labels))
    >>> loader = DataLoader(dataset, batch_size=64, sampler=sampler)
"""

from collections.abc import Iterator, Sequence

import numpy as np

from soma.nn.common_types import Generator
from soma.tensor import Tensor
from soma.utils.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, _generator

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]


def _weights_array(weights):
    if isinstance(weights, Tensor):
        return weights._array.astype(np.float64)
    return np.asarray(weights, dtype=np.float64)


class WeightedRandomSampler(Sampler):
    r"""``num_samples`` indices from ``0 .. len(weights) - 1``, index ``i`` drawn with probability
    ``p_i = w_i / Σ_j w_j``.

    With ``replacement=False`` an index is drawn at most once: each draw picks among the indices not yet
    drawn with probabilities proportional to their weights (so ``num_samples ≤ len(weights)``; once
    the positive weights are used up, the zero-weight indices come last). Drawn by the keys
    ``w_i / E_i`` with ``E_i ~ Exp(1)``, largest first, as ``torch.multinomial`` draws them.

    Args:
        weights: a 1-d sequence (or tensor) of non-negative weights, not necessarily summing to 1
            (kept as a float64 tensor ``self.weights``).
        num_samples: how many indices an iteration yields (``len(sampler)``).
        replacement: draw with replacement (default True).
        generator: a ``numpy.random.Generator`` or an int seed; soma's global generator
            (``soma.manual_seed``) when ``None``. Each ``iter()`` draws afresh.

    Errors, as PyTorch's: a non-positive or non-int ``num_samples`` or a non-bool ``replacement`` is a
    ValueError at construction, as are weights that are not 1-d; negative, NaN or infinite weights,
    an all-zero (or empty) ``weights`` and ``num_samples > len(weights)`` without replacement are a
    RuntimeError when iterating.
    """

    def __init__(self, weights: Sequence[float] | Tensor, num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        array = _weights_array(weights)
        if array.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(array.shape)}")
        self.weights = Tensor._make(array, False)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = _generator(generator) if generator is not None else None

    def _probabilities(self):
        w = self.weights._array
        owner = "WeightedRandomSampler: invalid multinomial distribution"
        if np.isinf(w).any():
            raise RuntimeError(f"{owner} (encountering probability entry = infinity or NaN)")
        if not (w >= 0).all():  # NaN fails this too, as in PyTorch
            raise RuntimeError(f"{owner} (encountering probability entry < 0)")
        total = w.sum()
        if total <= 0:
            raise RuntimeError(f"{owner} (sum of probabilities <= 0), weights of shape {tuple(w.shape)}")
        if not self.replacement and self.num_samples > w.size:
            raise RuntimeError(f"WeightedRandomSampler: cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement (num_samples={self.num_samples}, {w.size} weights)")
        return w / total

    def __iter__(self) -> Iterator[int]:
        p = self._probabilities()
        rng = _generator(self.generator)
        if self.replacement:
            draws = rng.choice(p.size, size=self.num_samples, replace=True, p=p)
        else:
            keys = p / rng.exponential(size=p.size)
            draws = np.argsort(-keys, kind="stable")[: self.num_samples]
        yield from draws.tolist()

    def __len__(self) -> int:
        return self.num_samples
