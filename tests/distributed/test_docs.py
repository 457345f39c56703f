"""docs/distributed.md: its tables are what the models give, and the ring all-reduce it describes is right."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _costs():
    spec = importlib.util.spec_from_file_location("distributed_costs", DOCS / "distributed_costs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_shows_the_tables_computed_from_the_models():
    costs = _costs()
    page = (DOCS / "distributed.md").read_text()
    assert costs.tables() in page, "run: python docs/distributed_costs.py --write"
    assert costs.gradient_bytes(costs.models()["LeNet5"][0]) == 4 * 44_426


def ring_allreduce(chunks_per_rank):
    """Simulate the ring on W ranks (each a list of W chunks); returns the result and bytes sent per rank."""
    w = len(chunks_per_rank)
    data = [[c.copy() for c in chunks] for chunks in chunks_per_rank]
    sent = [0] * w
    for step in range(w - 1):  # reduce-scatter: rank r sends chunk (r - step) to r + 1, which adds it
        messages = [(r, (r - step) % w, data[r][(r - step) % w].copy()) for r in range(w)]
        for r, index, chunk in messages:
            data[(r + 1) % w][index] += chunk
            sent[r] += chunk.nbytes
    for step in range(w - 1):  # all-gather: rank r passes on the summed chunk (r + 1 - step)
        messages = [(r, (r + 1 - step) % w, data[r][(r + 1 - step) % w].copy()) for r in range(w)]
        for r, index, chunk in messages:
            data[(r + 1) % w][index] = chunk
            sent[r] += chunk.nbytes
    return data, sent


@pytest.mark.parametrize("world", [2, 3, 4, 7])
def test_ring_allreduce_sums_and_sends_2_w_minus_1_over_w_of_the_gradient(world):
    rng = np.random.default_rng(world)
    size = world * 6  # float64 values: S = 8·size bytes
    grads = [rng.integers(-5, 5, size).astype(np.float64) for _ in range(world)]
    result, sent = ring_allreduce([np.split(g, world) for g in grads])
    for chunks in result:
        np.testing.assert_array_equal(np.concatenate(chunks), np.sum(grads, axis=0))
    nbytes = grads[0].nbytes
    assert sent == [2 * (world - 1) * nbytes // world] * world
    costs = _costs()
    assert costs.ring_allreduce_seconds(nbytes, world, 1.0, 0.0) == pytest.approx(sent[0])
    assert costs.ring_allreduce_seconds(0, world, 1.0, 1.0) == 2 * (world - 1)  # messages per rank
