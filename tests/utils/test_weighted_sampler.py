"""utils.data.WeightedRandomSampler: the draws' distribution (chi-square bounds at fixed seeds, beside PyTorch's),
uniqueness and the order law without replacement, reproducibility, len, errors as PyTorch's."""

import numpy as np
import pytest
import torch

import soma
from soma.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

WEIGHTS = [1.0, 2.0, 3.0, 4.0, 0.0, 10.0]


def _chi_square(counts, probabilities):
    """Σ (observed - expected)² / expected over the cells with positive probability."""
    counts, p = np.asarray(counts, float), np.asarray(probabilities, float)
    expected = counts.sum() * p
    keep = p > 0
    return float((((counts - expected) ** 2)[keep] / expected[keep]).sum())


# the 0.9999 quantiles of chi-square with 4 and 5 degrees of freedom (scipy.stats.chi2.ppf)
CHI2_4, CHI2_5 = 23.51, 25.74


def test_draws_follow_the_weights_like_torch():
    p = np.array(WEIGHTS) / sum(WEIGHTS)
    ours = list(WeightedRandomSampler(WEIGHTS, 20000, generator=0))
    theirs = list(torch.utils.data.WeightedRandomSampler(WEIGHTS, 20000, generator=torch.Generator().manual_seed(0)))
    for draws in (ours, theirs):
        counts = np.bincount(draws, minlength=len(WEIGHTS))
        assert counts[4] == 0  # weight zero: never drawn
        assert _chi_square(counts, p) < CHI2_4
    assert len(ours) == 20000 and all(type(i) is int for i in ours[:10])


def test_skewed_weights_are_detected():
    """The bound can fail: the same draws tested against uniform probabilities exceed it by far."""
    counts = np.bincount(list(WeightedRandomSampler(WEIGHTS, 20000, generator=1)), minlength=6)
    assert _chi_square(counts, np.full(6, 1 / 6)) > 100 * CHI2_5


def _second_draw_probabilities(p):
    """P(second index = j) = Σ_{i≠j} p_i · p_j / (1 - p_i): successive draws without replacement."""
    return np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(len(p)) if i != j) for j in range(len(p))])


def test_without_replacement_unique_and_successive_draw_law():
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    p = w / w.sum()
    sampler = WeightedRandomSampler(w, 2, replacement=False, generator=3)
    firsts, seconds = np.zeros(6), np.zeros(6)
    for _ in range(6000):
        a, b = list(sampler)
        assert a != b
        firsts[a] += 1
        seconds[b] += 1
    assert _chi_square(firsts, p) < CHI2_5
    assert _chi_square(seconds, _second_draw_probabilities(p)) < CHI2_5
    assert _chi_square(seconds, p) > CHI2_5  # the second draw's law is not the first's: the test can tell


def test_without_replacement_all_indices_zero_weights_last():
    for seed in range(20):
        draws = list(WeightedRandomSampler([0.0, 5.0, 0.0, 1.0, 2.0], 5, replacement=False, generator=seed))
        assert sorted(draws) == [0, 1, 2, 3, 4]
        assert sorted(draws[3:]) == [0, 2]
    theirs = list(torch.utils.data.WeightedRandomSampler([0.0, 5.0, 0.0, 1.0, 2.0], 5, replacement=False))
    assert sorted(theirs[3:]) == [0, 2]


def test_reproducible_with_manual_seed_and_generator():
    soma.manual_seed(7)
    first = list(WeightedRandomSampler(WEIGHTS, 50))
    soma.manual_seed(7)
    assert list(WeightedRandomSampler(WEIGHTS, 50)) == first
    sampler = WeightedRandomSampler(WEIGHTS, 50, generator=np.random.default_rng(11))
    epoch1, epoch2 = list(sampler), list(sampler)
    assert epoch1 != epoch2  # each iteration draws afresh
    again = WeightedRandomSampler(WEIGHTS, 50, generator=np.random.default_rng(11))
    assert [list(again), list(again)] == [epoch1, epoch2]
    assert list(WeightedRandomSampler(WEIGHTS, 50, generator=5)) == list(WeightedRandomSampler(WEIGHTS, 50,
                                                                                              generator=5))


def test_attributes_len_and_tensor_weights():
    sampler = WeightedRandomSampler(soma.tensor([1, 2, 3]), 4, replacement=False)
    theirs = torch.utils.data.WeightedRandomSampler(torch.tensor([1, 2, 3]), 4, replacement=False)
    assert sampler.weights.dtype == soma.float64 and theirs.weights.dtype == torch.float64
    assert sampler.weights.tolist() == theirs.weights.tolist()
    assert len(sampler) == len(theirs) == 4 and sampler.num_samples == 4 and sampler.replacement is False


def test_in_a_dataloader():
    ds = TensorDataset(soma.arange(6))
    loader = DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler([0, 0, 1, 0, 1, 0], 10, generator=0))
    batches = [b.tolist() for (b,) in loader]
    assert [len(b) for b in batches] == [4, 4, 2] and set(sum(batches, [])) <= {2, 4}


@pytest.mark.parametrize("args,kwargs", [
    (([1.0, 2.0], 0), {}), (([1.0, 2.0], -3), {}), (([1.0, 2.0], 2.0), {}), (([1.0, 2.0], True), {}),
    (([1.0, 2.0], 2), dict(replacement=1)), (([[1.0, 2.0]], 2), {}), ((3.0, 2), {}),
], ids=str)
def test_construction_errors_like_torch(args, kwargs):
    with pytest.raises(ValueError) as theirs:
        torch.utils.data.WeightedRandomSampler(*args, **kwargs)
    with pytest.raises(ValueError) as ours:
        WeightedRandomSampler(*args, **kwargs)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("weights,num_samples,replacement", [
    ([1.0, -1.0], 2, True), ([0.0, 0.0], 2, True), ([np.nan, 1.0], 2, True),
    ([np.inf, 1.0], 2, True), ([1.0, 2.0], 3, False),
], ids=str)
def test_bad_weights_fail_when_iterating_like_torch(weights, num_samples, replacement):
    with pytest.raises(RuntimeError) as theirs:
        list(torch.utils.data.WeightedRandomSampler(weights, num_samples, replacement))
    sampler = WeightedRandomSampler(weights, num_samples, replacement)  # constructing is fine, as in PyTorch
    with pytest.raises(RuntimeError) as ours:
        list(sampler)
    assert str(theirs.value).split(" (")[0] in str(ours.value)
    assert str(theirs.value).split(" (")[-1].split(")")[0] in str(ours.value)


def test_empty_weights_fail_when_iterating():
    with pytest.raises(RuntimeError):  # PyTorch's message is about aminmax; soma's names the sampler
        list(torch.utils.data.WeightedRandomSampler([], 1))
    with pytest.raises(RuntimeError, match=r"WeightedRandomSampler: .*sum of probabilities <= 0.*\(0,\)"):
        list(WeightedRandomSampler([], 1))
