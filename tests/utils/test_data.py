"""soma.utils.data against torch.utils.data: batch counts, order, shuffling, collation, splits."""

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import soma
from soma.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _arrays(n, features=3):
    X = np.arange(n * features, dtype=np.float32).reshape(n, features)
    y = np.arange(n, dtype=np.int64) % 7
    return X, y


def _soma_loader(n, **kwargs):
    X, y = _arrays(n)
    return DataLoader(TensorDataset(soma.from_numpy(X), soma.from_numpy(y)), **kwargs)


def _torch_loader(n, **kwargs):
    X, y = _arrays(n)
    return tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), **kwargs)


def test_notes_definition_10000_samples_at_batch_200_is_50_iterations():
    loader = _soma_loader(10_000, batch_size=200, shuffle=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 50
    assert sum(len(xb) for xb, _ in batches) == 10_000


@pytest.mark.parametrize("n", [1, 9, 10, 11, 64, 101])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 32])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_counts_and_sizes_match_torch(n, batch_size, drop_last):
    ours = _soma_loader(n, batch_size=batch_size, drop_last=drop_last)
    theirs = _torch_loader(n, batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [len(yb) for _, yb in ours] == [len(yb) for _, yb in theirs]


def test_order_without_shuffle_matches_torch_exactly():
    for (xs, ys), (xt, yt) in zip(
        _soma_loader(23, batch_size=5), _torch_loader(23, batch_size=5), strict=True
    ):
        np.testing.assert_array_equal(xs.numpy(), xt.numpy())
        np.testing.assert_array_equal(ys.numpy(), yt.numpy())
        assert xs.dtype == np.float32 and ys.dtype == np.int64


def test_shuffle_visits_every_sample_once_in_a_new_order_each_epoch():
    loader = _soma_loader(50, batch_size=8, shuffle=True)
    epochs = [np.concatenate([yb.numpy() for _, yb in loader]) for _ in range(2)]
    orders = [np.concatenate([xb.numpy()[:, 0] for xb, _ in loader]) // 3 for _ in range(2)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(50))  # a permutation
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], np.arange(50))
    assert all(len(e) == 50 for e in epochs)


def test_shuffle_is_reproducible_from_the_global_seed_and_from_a_generator():
    def order(**kwargs):
        return np.concatenate(
            [xb.numpy()[:, 0] for xb, _ in _soma_loader(40, batch_size=6, shuffle=True, **kwargs)]
        )

    soma.manual_seed(3)
    a = order()
    soma.manual_seed(3)
    np.testing.assert_array_equal(a, order())
    soma.manual_seed(4)
    assert not np.array_equal(a, order())
    np.testing.assert_array_equal(order(generator=11), order(generator=np.random.default_rng(11)))


def test_shuffle_resumes_from_the_saved_rng_state():
    loader = _soma_loader(30, batch_size=30, shuffle=True)
    next(iter(loader))
    state = soma.get_rng_state()
    expected = next(iter(loader))[1].numpy()
    next(iter(loader))
    soma.set_rng_state(state)
    np.testing.assert_array_equal(next(iter(loader))[1].numpy(), expected)


def test_fast_batch_path_equals_sample_by_sample_collation():
    X, y = _arrays(17)
    dataset = Subset(TensorDataset(X, y), [16, 3, 5, 0, 2, 9, 11])
    fast = list(DataLoader(dataset, batch_size=3))
    slow = list(DataLoader(dataset, batch_size=3, collate_fn=lambda batch: default_collate(batch)))
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())


class _DictDataset(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {
            "image": np.full((2, 2), i, np.float32),
            "label": i,
            "weight": 0.5 * i,
            "name": f"s{i}",
        }


def test_collate_of_dicts_matches_torch():
    class TorchDict(tdata.Dataset):
        __len__ = _DictDataset.__len__
        __getitem__ = _DictDataset.__getitem__

    ours = next(iter(DataLoader(_DictDataset(), batch_size=4)))
    theirs = next(iter(tdata.DataLoader(TorchDict(), batch_size=4)))
    assert set(ours) == set(theirs)
    for key in ("image", "label", "weight"):
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())
        assert ours[key].dtype == np.dtype(str(theirs[key].dtype).replace("torch.", ""))
    assert ours["name"] == theirs["name"] == ["s0", "s1", "s2", "s3"]


def test_collate_of_tuples_namedtuples_and_numbers_matches_torch():
    Point = collections.namedtuple("Point", "x y")
    samples = [
        (soma.tensor([i, i + 1.0]), i, True, Point(float(i), np.float32(i))) for i in range(3)
    ]
    torch_samples = [
        (torch.tensor([i, i + 1.0]), i, True, Point(float(i), np.float32(i))) for i in range(3)
    ]
    ours, theirs = default_collate(samples), tdata.default_collate(torch_samples)
    assert type(ours) is type(theirs) is list
    for a, b in zip(ours[:3], theirs[:3], strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.dtype == np.dtype(str(b.dtype).replace("torch.", ""))
    assert isinstance(ours[3], Point)
    assert ours[3].x.dtype == np.float64 and ours[3].y.dtype == np.float32


def test_collate_rejects_ragged_sequences():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (3,)])


def test_random_split_sizes_and_disjointness():
    dataset = TensorDataset(np.arange(103))
    parts = random_split(dataset, [0.7, 0.2, 0.1], generator=0)
    ours = [len(p) for p in parts]
    theirs = [len(p) for p in tdata.random_split(range(103), [0.7, 0.2, 0.1])]
    assert ours == theirs
    seen = np.concatenate([np.array(p.indices) for p in parts])
    np.testing.assert_array_equal(np.sort(seen), np.arange(103))
    assert [len(p) for p in random_split(dataset, [100, 3])] == [100, 3]
    with pytest.raises(ValueError, match="adding up"):
        random_split(dataset, [50, 50])


def test_random_split_is_seeded():
    dataset = TensorDataset(np.arange(20))
    a = random_split(dataset, [10, 10], generator=5)[0].indices
    assert a == random_split(dataset, [10, 10], generator=5)[0].indices
    assert a != random_split(dataset, [10, 10], generator=6)[0].indices


def test_tensor_dataset_says_when_lengths_differ():
    with pytest.raises(ValueError, match=r"size mismatch.*\(10, 2\), \(9,\)"):
        TensorDataset(soma.zeros(10, 2), soma.zeros(9))


def test_argument_conflicts_raise_like_torch():
    dataset = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(dataset, shuffle=True, sampler=range(10))
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(dataset, batch_size=4, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(dataset, batch_size=0)


def test_custom_sampler_and_batch_sampler():
    dataset = TensorDataset(np.arange(10))
    assert [b[0].tolist() for b in DataLoader(dataset, batch_size=3, sampler=[9, 8, 7, 0])] == [
        [9, 8, 7],
        [0],
    ]
    assert [b[0].tolist() for b in DataLoader(dataset, batch_sampler=[[1, 2], [5]])] == [
        [1, 2],
        [5],
    ]
    batches = list(BatchSampler(RandomSampler(range(10), generator=1), 4, drop_last=True))
    assert [len(b) for b in batches] == [4, 4]


def test_concat_dataset_and_iterable_dataset():
    both = TensorDataset(np.arange(3)) + TensorDataset(np.arange(10, 12))
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert [int(both[i][0].item()) for i in range(5)] == [0, 1, 2, 10, 11]

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


def test_batch_size_none_yields_single_samples_as_tensors():
    samples = list(DataLoader(TensorDataset(np.arange(3)), batch_size=None))
    assert len(samples) == 3 and isinstance(samples[0][0], soma.Tensor)
