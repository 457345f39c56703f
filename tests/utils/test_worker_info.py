"""utils.data.get_worker_info and DataLoader workers: None in the main process; inside workers PyTorch's
WorkerInfo, and the two IterableDataset sharding recipes of PyTorch's documentation give PyTorch's items
(compared with real torch worker processes); worker seeds, init functions, persistent workers, RNG isolation."""

import dataclasses
import math
import warnings

import numpy as np
import pytest
import torch

import soma
from soma.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info


def _sharded(lib):
    """PyTorch's first recipe: the stream splits its range by the worker's id in ``__iter__``."""

    class Range(lib.utils.data.IterableDataset):
        def __init__(self, start, end):
            super().__init__()
            self.start, self.end = start, end

        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            if info is None:
                return iter(range(self.start, self.end))
            per_worker = int(math.ceil((self.end - self.start) / float(info.num_workers)))
            start = self.start + info.id * per_worker
            return iter(range(start, min(start + per_worker, self.end)))

    return Range


def _split_in_init_fn(lib):
    """PyTorch's second recipe: ``worker_init_fn`` narrows each worker's copy of the data set."""

    def worker_init_fn(worker_id):
        info = lib.utils.data.get_worker_info()
        dataset = info.dataset
        overall_start, overall_end = dataset.start, dataset.end
        per_worker = int(math.ceil((overall_end - overall_start) / float(info.num_workers)))
        dataset.start = overall_start + info.id * per_worker
        dataset.end = min(dataset.start + per_worker, overall_end)

    class Range(lib.utils.data.IterableDataset):
        def __init__(self, start, end):
            super().__init__()
            self.start, self.end = start, end

        def __iter__(self):
            return iter(range(self.start, self.end))

    return Range, worker_init_fn


def _items(loader):
    return [b.tolist() if hasattr(b, "tolist") else b for b in loader]


@pytest.mark.parametrize("num_workers,batch_size", [(2, None), (3, 2)])
def test_sharding_in_iter_gives_torchs_items(num_workers, batch_size):
    ours = DataLoader(_sharded(soma)(3, 10), num_workers=num_workers, batch_size=batch_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when there are more workers than cores
        theirs = torch.utils.data.DataLoader(_sharded(torch)(3, 10), num_workers=num_workers, batch_size=batch_size)
        expected = _items(theirs)
    assert _items(ours) == expected
    assert _items(DataLoader(_sharded(soma)(3, 7), num_workers=0, batch_size=None)) == [3, 4, 5, 6]


def _uneven(lib):
    """Worker ``i`` streams ``lengths[i]`` items ``10i, 10i + 1, ...``: a middle worker runs out first."""

    class Uneven(lib.utils.data.IterableDataset):
        lengths = (3, 1, 3)

        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            return iter(range(10 * info.id, 10 * info.id + self.lengths[info.id]))

    return Uneven


def test_exhausted_workers_drop_out_of_the_rotation_as_in_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _items(torch.utils.data.DataLoader(_uneven(torch)(), num_workers=3, batch_size=None))
    assert _items(DataLoader(_uneven(soma)(), num_workers=3, batch_size=None)) == expected == [0, 10, 20, 1, 21, 2, 22]


def test_sharding_in_worker_init_fn_gives_torchs_items():
    (ours_cls, ours_fn), (theirs_cls, theirs_fn) = _split_in_init_fn(soma), _split_in_init_fn(torch)
    dataset = ours_cls(3, 8)
    ours = DataLoader(dataset, num_workers=2, batch_size=2, worker_init_fn=ours_fn)
    theirs = torch.utils.data.DataLoader(theirs_cls(3, 8), num_workers=2, batch_size=2, worker_init_fn=theirs_fn)
    assert _items(ours) == _items(theirs) == [[3, 4], [6, 7], [5]]
    assert (dataset.start, dataset.end) == (3, 8)  # each worker narrowed its own copy
    assert _items(DataLoader(dataset, num_workers=0, batch_size=None)) == [3, 4, 5, 6, 7]


def test_none_in_the_main_process_and_after_iterating():
    seen = []

    class Probe(IterableDataset):
        def __iter__(self):
            seen.append(get_worker_info())
            yield from range(3)

    assert get_worker_info() is None
    assert _items(DataLoader(Probe(), batch_size=None)) == [0, 1, 2] and seen == [None]
    assert _items(DataLoader(Probe(), batch_size=None, num_workers=2)) == [0, 0, 1, 1, 2, 2]
    assert [info.id for info in seen[1:]] == [0, 1]
    assert get_worker_info() is None
    import soma.utils.data.dataloader as dataloader

    assert dataloader.get_worker_info is get_worker_info


class _Recorder(Dataset):
    """A map-style data set whose items say which worker fetched them and draw from soma's generator."""

    def __len__(self):
        return 6

    def __getitem__(self, index):
        info = get_worker_info()
        return np.array([index, -1 if info is None else info.id, float(soma.rand(()).item())])


def test_worker_info_fields_seeds_and_map_style_batches():
    infos = []

    def init_fn(worker_id):
        infos.append(get_worker_info())

    dataset = _Recorder()
    loader = DataLoader(dataset, batch_size=2, num_workers=2, worker_init_fn=init_fn, generator=5)
    batches = [b.numpy() for b in loader]
    assert [b[:, 0].tolist() for b in batches] == [[0, 1], [2, 3], [4, 5]]  # the batches of num_workers=0
    assert [b[:, 1].tolist() for b in batches] == [[0, 0], [1, 1], [0, 0]]  # batch i from worker i mod 2
    assert [(i.id, i.num_workers) for i in infos] == [(0, 2), (1, 2)]
    assert infos[1].seed == infos[0].seed + 1 and 0 <= infos[0].seed < 2**63
    assert infos[0].dataset is not dataset and isinstance(infos[0].dataset, _Recorder)
    assert infos[0].dataset is not infos[1].dataset
    theirs = torch.utils.data._utils.worker.WorkerInfo(id=0, num_workers=2, seed=infos[0].seed, dataset=None)
    assert repr(dataclasses.replace(infos[0], dataset=None)) == repr(theirs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        infos[0].id = 3
    # each worker draws from its own generator, seeded base_seed + id: the same loader seed repeats the epoch
    again = [b.numpy() for b in DataLoader(dataset, batch_size=2, num_workers=2, generator=5)]
    np.testing.assert_array_equal(np.concatenate(again), np.concatenate(batches))
    for worker in (0, 1):
        soma.manual_seed(infos[worker].seed)
        first = [soma.rand(()).item() for _ in range(2)]
        np.testing.assert_array_equal(batches[worker][:, 2], first)


def test_workers_leave_the_global_generator_alone():
    soma.manual_seed(3)
    expected = soma.rand(4).tolist()
    soma.manual_seed(3)
    _items(DataLoader(_Recorder(), batch_size=3, num_workers=2, generator=1))  # the loader's own generator
    assert soma.rand(4).tolist() == expected
    assert soma.initial_seed() == 3


def test_init_fn_each_epoch_or_once_with_persistent_workers():
    calls = []
    ds = TensorDataset(soma.arange(4))
    for persistent, expected in ((False, [0, 1, 0, 1]), (True, [0, 1])):
        calls.clear()
        loader = DataLoader(ds, batch_size=1, num_workers=2, persistent_workers=persistent, worker_init_fn=calls.append)
        for _ in range(2):
            assert [b.tolist() for (b,) in loader] == [[0], [1], [2], [3]]
        assert calls == expected


def test_worker_option_errors_like_torch():
    ds = TensorDataset(soma.arange(4))
    tds = torch.utils.data.TensorDataset(torch.arange(4))
    for options in (dict(prefetch_factor=-1), dict(multiprocessing_context="nonsense")):
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(tds, num_workers=2, **options)
        with pytest.raises(ValueError) as ours:
            DataLoader(ds, num_workers=2, **options)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(TypeError, match="multiprocessing_context"):
        DataLoader(ds, num_workers=2, multiprocessing_context=3)
    assert DataLoader(ds, num_workers=2).prefetch_factor == torch.utils.data.DataLoader(tds, num_workers=2).prefetch_factor
