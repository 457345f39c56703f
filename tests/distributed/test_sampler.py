"""DistributedSampler: PyTorch's indices without shuffling, PyTorch's structure with it."""

import numpy as np
import pytest
from torch.utils.data.distributed import DistributedSampler as TorchSampler

from soma.utils.data import DataLoader, TensorDataset
from soma.utils.data.distributed import DistributedSampler

CASES = [(n, w, drop) for n in (0, 1, 5, 10, 12, 13) for w in (1, 2, 3, 4, 7) for drop in (False, True)]


@pytest.mark.parametrize("n, world, drop_last", CASES)
def test_unshuffled_indices_are_pytorchs(n, world, drop_last):
    for rank in range(world):
        ours = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), num_replicas=world, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert ours.total_size == theirs.total_size


@pytest.mark.parametrize("n, world, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False), (3, 5, False)])
def test_shuffled_shares_partition_one_padded_permutation(n, world, drop_last):
    shares = [list(DistributedSampler(range(n), world, r, seed=5, drop_last=drop_last)) for r in range(world)]
    size = len(TorchSampler(range(n), world, 0, drop_last=drop_last))
    assert all(len(share) == size for share in shares)
    merged = [shares[r][i] for i in range(size) for r in range(world)]  # position i*W + r of the order
    order = list(np.random.default_rng(5).permutation(n))
    padded = (order * (world * size // max(n, 1) + 1))[: world * size]
    assert merged == padded  # one permutation, padded from its start, dealt round-robin


def test_set_epoch_reshuffles_and_the_seed_repeats():
    sampler = DistributedSampler(range(20), 2, 1, seed=3)
    first = list(sampler)
    assert list(sampler) == first  # no set_epoch: the same order again, as in PyTorch
    sampler.set_epoch(1)
    second = list(sampler)
    assert second != first and sorted(second) != list(range(20))
    again = DistributedSampler(range(20), 2, 1, seed=3)
    again.set_epoch(1)
    assert list(again) == second


def test_feeds_a_dataloader():
    x = np.arange(10, dtype=np.float32)[:, None]
    dataset = TensorDataset(x, np.arange(10))
    loader = DataLoader(dataset, batch_size=2, sampler=DistributedSampler(dataset, 2, 1, shuffle=False))
    assert [yb.tolist() for _, yb in loader] == [[1, 3], [5, 7], [9]]


def test_errors_are_pytorchs():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=2, rank=-1)
    with pytest.raises(ValueError, match="num_replicas should be a positive integer"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))


def test_exported_beside_the_dataloader_as_in_pytorch():
    import soma.utils.data

    assert soma.utils.data.DistributedSampler is DistributedSampler
