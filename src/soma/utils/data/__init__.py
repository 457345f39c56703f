"""Datasets and the DataLoader: feeding a model mini-batches, as ``torch.utils.data`` does.

Vocabulary (notes 003): an **epoch** is one pass over every training sample; a
**batch** (mini-batch) is the group of samples behind one gradient step; an
**iteration** is one such step. ``N`` samples at batch size ``B`` take
``ceil(N / B)`` iterations an epoch (``floor`` with ``drop_last=True``):
10,000 samples at batch 200 are 50 iterations.

* A :class:`Dataset` answers ``len(ds)`` and ``ds[i]`` (one sample).
* A :class:`DataLoader` picks the indices of each batch (in order, or shuffled
  afresh every epoch), fetches the samples and collates them into tensors with
  a leading batch dimension (:func:`default_collate`).

Example:
    >>> X, y = soma.randn(1000, 20), soma.randint(0, 3, (1000,))
    >>> loader = DataLoader(TensorDataset(X, y), batch_size=200, shuffle=True)
    >>> len(loader)
    5
    >>> for xb, yb in loader:
    ...     loss = loss_fn(model(xb), yb)

Shuffling draws from ``generator`` when given (a ``numpy.random.Generator``
or an int seed), else from soma's global generator, so ``soma.manual_seed``
makes runs repeatable and ``soma.get_rng_state()`` saved in a checkpoint
resumes them exactly.

PyTorch's submodules are here too, each name the same object: ``.dataset``
(the data sets), ``.sampler``, ``.dataloader`` (with ``get_worker_info``) and
``.distributed`` (``DistributedSampler``).
"""

from soma.utils.data.dataloader import DataLoader, default_collate, default_convert
from soma.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from soma.utils.data.distributed import DistributedSampler
from soma.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from soma.utils.data.worker import get_worker_info

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "StackDataset",
    "Subset",
    "ConcatDataset",
    "ChainDataset",
    "random_split",
    "DataLoader",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DistributedSampler",
]
