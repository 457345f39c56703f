"""Trainer under a process group: sharded data, averaged logs, rank-0 output and checkpoints."""


import numpy as np
import pytest

import soma
from soma.train import distributed
from soma.train.callbacks import CSVLogger, EarlyStopping
from soma.train.progress import ProgressBar
from soma.utils.data import DataLoader, TensorDataset


@pytest.mark.slow
@pytest.mark.parametrize("world", [2, 4])
def test_fit_on_many_ranks_is_one_fit_with_the_whole_batch(mpi_checks, world):
    checks = mpi_checks(world, "trainer.py")
    assert "checkpoint_written_by_rank_zero_read_by_all" in checks


def test_outside_a_group_everything_is_the_identity():
    loader = DataLoader(TensorDataset(soma.randn(6, 2), soma.arange(6)), batch_size=2, shuffle=True)
    model = soma.nn.Linear(2, 2)
    callbacks = [ProgressBar(1), EarlyStopping(), CSVLogger("log.csv")]
    assert distributed.shard_loader(loader) is loader and distributed.wrap_model(model) is model
    assert distributed.sum_over_ranks(3.0, 2) == (3.0, 2) and distributed.sum_over_ranks(1.5) == 1.5
    rows = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(distributed.gather_rows(rows), rows)
    assert distributed.callbacks_for_rank(callbacks) == callbacks
    assert distributed.is_main_process() and not distributed.any_rank(False) and distributed.any_rank(True)


def test_one_rank_shards_are_the_whole_data(group):
    dataset = TensorDataset(soma.randn(7, 2), soma.arange(7))
    plain = DataLoader(dataset, batch_size=3)
    for train in (True, False):
        sharded = distributed.shard_loader(plain, train=train)
        assert sharded is not plain
        assert [yb.tolist() for _, yb in sharded] == [[0, 1, 2], [3, 4, 5], [6]]
    shuffled = distributed.shard_loader(DataLoader(dataset, batch_size=7, shuffle=True))
    distributed.set_epoch(shuffled, 1)
    assert sorted(next(iter(shuffled))[1].tolist()) == list(range(7))
    mine = DataLoader(dataset, batch_size=2, sampler=[6, 5])  # the user's own order stays
    assert distributed.shard_loader(mine) is mine
    model = soma.nn.Linear(2, 2)
    assert distributed.wrap_model(model) is distributed.wrap_model(model)  # wrapped once
    assert list(model.state_dict()) == ["weight", "bias"]
