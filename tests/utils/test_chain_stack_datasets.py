"""utils.data.ChainDataset and StackDataset against torch.utils.data (items, len, batches through a DataLoader,
errors), and PyTorch's submodule import paths (utils.data.dataset, .sampler, .dataloader, .distributed)."""

import importlib

import numpy as np
import pytest
import torch

import soma
import soma.utils.data as data
from helpers import random_array


def _stream(lib, values):
    class Stream(lib.utils.data.IterableDataset):
        def __init__(self, values):
            self.values = values

        def __iter__(self):
            return iter(self.values)

        def __len__(self):
            return len(self.values)

    return Stream(values)


def _value(x):
    if isinstance(x, dict):
        return {k: _value(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_value(v) for v in x)
    return x.detach().numpy().tolist() if hasattr(x, "detach") else x


def _tensor_datasets(lib):
    X, y = random_array((5, 3), seed=1), np.arange(5) * 10
    return lib.utils.data.TensorDataset(lib.tensor(X)), lib.utils.data.TensorDataset(lib.tensor(y))


def test_stack_tuple_and_dict_items_like_torch():
    (a, b), (ta, tb) = _tensor_datasets(soma), _tensor_datasets(torch)
    for ours, theirs in ((data.StackDataset(a, b), torch.utils.data.StackDataset(ta, tb)),
                         (data.StackDataset(x=a, y=b), torch.utils.data.StackDataset(x=ta, y=tb))):
        assert len(ours) == len(theirs) == 5
        assert type(ours.datasets) is type(theirs.datasets)
        for i in (0, 3, -1):
            assert _value(ours[i]) == _value(theirs[i])
        assert _value(ours.__getitems__([4, 0, 2])) == _value(theirs.__getitems__([4, 0, 2]))


def test_stack_dataset_through_a_dataloader_like_torch():
    (a, b), (ta, tb) = _tensor_datasets(soma), _tensor_datasets(torch)
    ours = data.DataLoader(data.StackDataset(x=a, y=b), batch_size=2)
    theirs = torch.utils.data.DataLoader(torch.utils.data.StackDataset(x=ta, y=tb), batch_size=2)
    assert [_value(batch) for batch in ours] == [_value(batch) for batch in theirs]
    tupled = list(data.DataLoader(data.StackDataset(a, b), batch_size=4))
    assert _value(tupled) == _value(list(torch.utils.data.DataLoader(torch.utils.data.StackDataset(ta, tb),
                                                                     batch_size=4)))


def test_stack_uses_nested_getitems_and_checks_its_size():
    calls = []

    class Batched(data.Dataset):
        def __init__(self, short=False):
            self.short = short

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return i

        def __getitems__(self, indices):
            calls.append(list(indices))
            return [i * 2 for i in indices][: len(indices) - self.short]

    stacked = data.StackDataset(Batched(), list(range(4)))
    assert stacked.__getitems__([3, 1]) == [(6, 3), (2, 1)] and calls == [[3, 1]]
    assert [b.tolist() for b in next(iter(data.DataLoader(stacked, batch_size=3)))] == [[0, 2, 4], [0, 1, 2]]
    with pytest.raises(ValueError, match="Nested dataset's output size mismatch. Expected 2, got 1"):
        data.StackDataset(a=Batched(short=True)).__getitems__([0, 1])


@pytest.mark.parametrize("make", [
    lambda lib: lib.utils.data.StackDataset([1, 2], [1, 2, 3]),
    lambda lib: lib.utils.data.StackDataset(a=[1, 2], b=[1]),
    lambda lib: lib.utils.data.StackDataset([1], b=[1]),
    lambda lib: lib.utils.data.StackDataset(),
], ids=["tuple-sizes", "dict-sizes", "both", "none"])
def test_stack_errors_like_torch(make):
    with pytest.raises(ValueError) as theirs:
        make(torch)
    with pytest.raises(ValueError) as ours:
        make(soma)
    assert str(ours.value) == str(theirs.value)


def test_chain_items_len_and_add_like_torch():
    ours = data.ChainDataset([_stream(soma, [1, 2]), _stream(soma, []), _stream(soma, [3, 4, 5])])
    theirs = torch.utils.data.ChainDataset([_stream(torch, [1, 2]), _stream(torch, []), _stream(torch, [3, 4, 5])])
    assert list(ours) == list(theirs) == [1, 2, 3, 4, 5]
    assert list(ours) == [1, 2, 3, 4, 5]  # iterable again
    assert len(ours) == len(theirs) == 5
    added = _stream(soma, [7]) + _stream(soma, [8, 9])
    assert isinstance(added, data.ChainDataset) and list(added) == [7, 8, 9]
    assert isinstance(_stream(torch, [7]) + _stream(torch, [8]), torch.utils.data.ChainDataset)


def test_chain_through_a_dataloader_like_torch():
    arrays = [random_array((3,), seed=i) for i in range(5)]
    ours = data.ChainDataset([_stream(soma, arrays[:2]), _stream(soma, arrays[2:])])
    theirs = torch.utils.data.ChainDataset([_stream(torch, arrays[:2]), _stream(torch, arrays[2:])])
    for kwargs in (dict(batch_size=2), dict(batch_size=2, drop_last=True), dict(batch_size=None)):
        got = [b.numpy() for b in data.DataLoader(ours, **kwargs)]
        expected = [b.numpy() for b in torch.utils.data.DataLoader(theirs, **kwargs)]
        assert len(got) == len(expected) == len(data.DataLoader(ours, **kwargs))
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


def test_chain_errors_like_torch():
    for lib in (soma, torch):
        chain = lib.utils.data.ChainDataset([_stream(lib, [1]), [2, 3]])
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            list(chain)
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            len(chain)

    class Endless(data.IterableDataset):
        def __iter__(self):
            yield 1

    with pytest.raises(TypeError):  # a part without a length: no length, as in PyTorch
        len(data.ChainDataset([Endless()]))


SUBMODULES = ["dataset", "sampler", "dataloader", "distributed"]


@pytest.mark.parametrize("name", SUBMODULES)
def test_pytorch_submodule_paths_hold_the_same_objects(name):
    theirs = importlib.import_module(f"torch.utils.data.{name}")
    ours = importlib.import_module(f"soma.utils.data.{name}")
    public = {"dataset": theirs.__all__, "sampler": theirs.__all__, "distributed": theirs.__all__,
              "dataloader": ["DataLoader", "default_collate", "default_convert", "get_worker_info"]}[name]
    for attribute in public:
        if attribute.startswith("_"):
            continue
        assert getattr(ours, attribute) is getattr(data, attribute), f"soma.utils.data.{name}.{attribute}"
    exec(f"from soma.utils.data.{name} import {', '.join(public)}", {})
