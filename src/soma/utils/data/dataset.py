"""Map-style and iterable data sets, as ``torch.utils.data.dataset``.

* A :class:`Dataset` answers ``len(ds)`` and ``ds[i]`` (one sample); an :class:`IterableDataset`
  is a stream (``iter(ds)``), which a DataLoader reads in order.
* :class:`TensorDataset` serves rows of tensors; :class:`Subset` and :func:`random_split` select
  samples; :class:`ConcatDataset` (``ds1 + ds2``) puts data sets one after another and
  :class:`ChainDataset` does so for streams; :class:`StackDataset` zips data sets of one length
  into tuples or dicts of samples.
"""

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from soma.nn.common_types import Generator, TensorLike
from soma.tensor import Tensor
from soma.utils.collate import default_collate
from soma.utils.sampler import _generator

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset", "Subset",
           "random_split"]


class Dataset:
    """A map-style data set: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: "Dataset") -> "Dataset":  # a ConcatDataset (a ChainDataset for streams)
        return ConcatDataset([self, other])

    if TYPE_CHECKING:  # for the checker only: a Dataset without __len__ stays unsized, as in PyTorch
        def __len__(self) -> int: ...


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (no indexing, no shuffling)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other: Dataset) -> "ChainDataset":
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of tensors sharing their first dimension: ``ds[i] = (X[i], y[i])``.

    Args:
        *tensors: tensors (or NumPy arrays, wrapped without copying) with the same
            length along dimension 0.

    Example:
        >>> ds = TensorDataset(soma.randn(100, 4), soma.randint(0, 3, (100,)))
        >>> x, y = ds[0]; x.shape, len(ds)
        ((4,), 100)
    """

    def __init__(self, *tensors: TensorLike) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        wrapped = tuple(
            t if isinstance(t, Tensor) else Tensor._make(np.asarray(t), False) for t in tensors
        )
        lengths = [t.shape[0] if t.ndim else None for t in wrapped]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in wrapped)
            raise ValueError(
                f"TensorDataset: size mismatch between tensors: every tensor needs the same "
                f"number of samples along dimension 0, got shapes {shapes}"
            )
        self.tensors = wrapped

    def __getitem__(self, index: Any) -> Any:
        return tuple(Tensor._make(t._array[index], False) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _fetch_batch(self, indices):
        """``default_collate([self[i] for i in indices])``, by one fancy index per tensor."""
        indices = np.asarray(indices, dtype=np.intp)
        return [Tensor._make(t._array[indices], False) for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``subset[i] = dataset[indices[i]]``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def _fetch_batch(self, indices):
        indices = [self.indices[i] for i in indices]
        if hasattr(self.dataset, "_fetch_batch"):
            return self.dataset._fetch_batch(indices)
        return default_collate([self.dataset[i] for i in indices])


class ConcatDataset(Dataset):
    """Several data sets one after another (``ds1 + ds2``)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: Any) -> Any:
        if index < 0:
            if -index > len(self):
                raise IndexError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class StackDataset(Dataset):
    """Several data sets of the same length side by side: ``StackDataset(a, b)[i] = (a[i], b[i])``,
    ``StackDataset(x=a, y=b)[i] = {"x": a[i], "y": b[i]}``.

    Args:
        *args: data sets whose samples come as a tuple, or
        **kwargs: data sets whose samples come as a dict under their names (not both).

    Example:
        >>> ds = StackDataset(image=images, label=labels)
        >>> ds[0] == {"image": images[0], "label": labels[0]}
    """

    datasets: tuple | dict

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                             "input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(self._length != len(dataset) for dataset in parts):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def _named(self):
        return self.datasets.items() if isinstance(self.datasets, dict) else enumerate(self.datasets)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: dataset[index] for k, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices``, asking each data set for all of them at once where it can."""
        columns = {}
        for key, dataset in self._named():
            if callable(getattr(dataset, "__getitems__", None)):
                items = dataset.__getitems__(indices)
                if len(items) != len(indices):
                    raise ValueError(
                        f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}")
            else:
                items = [dataset[i] for i in indices]
            columns[key] = items
        if isinstance(self.datasets, dict):
            return [{key: items[j] for key, items in columns.items()} for j in range(len(indices))]
        return [tuple(items[j] for items in columns.values()) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


class ChainDataset(IterableDataset):
    """Streams one after another: ``iter(ChainDataset([a, b]))`` yields all of ``a``, then all of ``b``.

    Chained lazily, as each is read (``IterableDataset + IterableDataset`` makes one). ``len`` is the sum of
    the parts' lengths. A part that is not an :class:`IterableDataset` is an AssertionError when reached.
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        super().__init__()
        self.datasets = datasets

    def _parts(self):
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield dataset

    def __iter__(self) -> Iterator[Any]:
        for dataset in self._parts():
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self._parts())


def random_split(dataset: Dataset, lengths: Sequence[float], generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths.

    Args:
        dataset: the data set to split.
        lengths: sizes that add up to ``len(dataset)``, or fractions that add up
            to 1 (each gets ``floor(f * N)`` and the leftover samples go one each
            to the first splits, round-robin, as in PyTorch).
        generator: a ``numpy.random.Generator`` or int seed; soma's global
            generator when ``None``.

    Example:
        >>> train, val = random_split(TensorDataset(soma.randn(100, 2)), [0.8, 0.2])
        >>> len(train), len(val)
        (80, 20)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= n:
        if any(f < 0 or f > 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(int(size) != size or size < 0 for size in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths {lengths} must be non-negative integers adding up to the "
            f"length of the dataset ({n}), or fractions adding up to 1"
        )
    order = _generator(generator).permutation(n).tolist()
    offsets = np.cumsum([0] + [int(size) for size in lengths]).tolist()
    return [Subset(dataset, order[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
