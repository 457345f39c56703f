"""DataLoader's worker and memory options against torch.utils.data.DataLoader without workers: the same
signature, the same errors for each option at a non-default value, the same batches where torch accepts
it, and nothing accepted that soma would silently ignore."""

import inspect
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import soma
from soma.utils.data import DataLoader, TensorDataset


def _loaders(**options):
    """soma's and torch's loader over the same ten samples, built with the same options."""
    X = np.arange(10, dtype=np.float32)
    return (lambda: DataLoader(TensorDataset(soma.from_numpy(X)), batch_size=4, **options),
            lambda: tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(X)), batch_size=4, **options))


def _batches(loader):
    return [batch[0].numpy().tolist() for batch in loader]


def test_signature_is_torchs():
    ours, theirs = inspect.signature(DataLoader.__init__), inspect.signature(tdata.DataLoader.__init__)
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
        (p.name, p.kind, p.default) for p in theirs.parameters.values()]


@pytest.mark.parametrize("options", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(multiprocessing_context="fork"),
], ids=lambda options: next(iter(options)))
def test_worker_options_without_workers_raise_as_torch(options):
    make_ours, make_theirs = _loaders(**options)
    with pytest.raises(ValueError) as theirs:
        make_theirs()
    with pytest.raises(ValueError) as ours:
        make_ours()
    assert str(ours.value) == str(theirs.value)


def test_positive_timeout_fails_when_iterating_as_torch():
    make_ours, make_theirs = _loaders(timeout=5)
    ours, theirs = make_ours(), make_theirs()  # both build
    with pytest.raises(AssertionError):
        iter(theirs)
    with pytest.raises(AssertionError, match="timeout=5"):
        iter(ours)


def test_workers_give_torchs_batches():
    """soma runs the workers in the calling process; a map-style data set's batches are torch's."""
    make_ours, make_theirs = _loaders(num_workers=2, timeout=5, prefetch_factor=1)
    assert _batches(make_ours()) == _batches(make_theirs())


@pytest.mark.parametrize("options", [
    dict(worker_init_fn=lambda worker_id: pytest.fail("called outside a worker")), dict(in_order=False),
    dict(pin_memory_device="cpu"), dict(timeout=0, num_workers=0),
], ids=lambda options: next(iter(options)))
def test_options_unused_without_workers_give_torchs_batches(options):
    """torch calls worker_init_fn only inside worker processes, so never with num_workers=0."""
    make_ours, make_theirs = _loaders(**options)
    assert _batches(make_ours()) == _batches(make_theirs())


@pytest.mark.parametrize("options", [dict(pin_memory=True), dict(pin_memory=True, pin_memory_device="cpu")],
                         ids=["pin_memory", "pin_memory_device"])
def test_pin_memory_without_an_accelerator_warns_each_epoch_as_torch(options):
    messages = []
    for make in _loaders(**options):
        loader = make()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batches = _batches(loader)
        messages.append([(w.category, str(w.message)) for w in caught])
        assert loader.pin_memory and batches == _batches(_loaders()[1]())
    assert messages[0] == messages[1] and messages[0]


def test_generator_decides_the_shuffled_order():
    make = _loaders(shuffle=True)[0]
    orders = [_batches(DataLoader(make().dataset, batch_size=4, shuffle=True, generator=seed)) for seed in (1, 1, 2)]
    assert orders[0] == orders[1] != orders[2]
