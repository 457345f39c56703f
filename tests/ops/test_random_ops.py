"""bernoulli, multinomial, poisson and Tensor.bernoulli_: reproducible under soma.manual_seed, the right
distributions (fixed seeds, bounds of several standard errors), dtypes, and PyTorch's errors."""

import numpy as np
import pytest
import torch

import soma
from helpers import raises_like_torch


def test_manual_seed_repeats_every_draw():
    def draws():
        soma.manual_seed(123)
        p = soma.full((50,), 0.3)
        return (soma.bernoulli(p).numpy(), soma.multinomial(soma.tensor([0.1, 0.5, 0.4]), 2).numpy(),
                soma.multinomial(soma.ones(4), 10, replacement=True).numpy(), soma.poisson(soma.full((5,), 3.0)).numpy(),
                soma.zeros(20).bernoulli_(0.5).numpy())

    for a, b in zip(draws(), draws()):
        np.testing.assert_array_equal(a, b)


def test_bernoulli_frequencies_and_dtypes():
    soma.manual_seed(0)
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    draws = soma.bernoulli(soma.tensor(np.tile(p, (20000, 1)))).numpy()
    assert draws.dtype == np.float64 and set(np.unique(draws)) <= {0.0, 1.0}
    n = draws.shape[0]
    assert np.all(np.abs(draws.mean(0) - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12)
    assert soma.bernoulli(soma.zeros(3), p=0.5).dtype == torch.bernoulli(torch.zeros(3), p=0.5).numpy().dtype
    assert abs(soma.bernoulli(soma.zeros(20000), p=0.25).mean().item() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 20000)


def test_bernoulli_inplace_with_number_and_tensor():
    soma.manual_seed(1)
    x = soma.zeros(20000, dtype=soma.int64)
    assert x.bernoulli_(0.7) is x and x.dtype == soma.int64
    assert abs(x.double().mean().item() - 0.7) < 5 * np.sqrt(0.21 / 20000)
    y = soma.zeros(2, 10000)
    y.bernoulli_(soma.tensor([[0.2], [0.9]]))
    np.testing.assert_allclose(y.mean(1).numpy(), [0.2, 0.9], atol=5 * np.sqrt(0.25 / 10000))
    with pytest.raises(RuntimeError, match="leaf"):
        soma.zeros(3, requires_grad=True).bernoulli_(0.5)


@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_frequencies(replacement):
    """First draws follow the weights (normalized); without replacement a row never repeats a category."""
    soma.manual_seed(2)
    weights = np.array([1.0, 0.0, 3.0, 6.0])
    rows = 4000
    samples = soma.multinomial(soma.tensor(np.tile(weights, (rows, 1))), 3, replacement=replacement).numpy()
    assert samples.shape == (rows, 3) and samples.dtype == np.int64
    p = weights / weights.sum()
    first = np.bincount(samples[:, 0], minlength=4) / rows
    assert np.all(np.abs(first - p) <= 5 * np.sqrt(p * (1 - p) / rows) + 1e-12)
    if replacement:
        assert not (samples == 1).any()  # weight 0 is never drawn
        all_draws = np.bincount(samples.ravel(), minlength=4) / samples.size
        assert np.all(np.abs(all_draws - p) <= 5 * np.sqrt(p * (1 - p) / samples.size) + 1e-12)
    else:
        assert all(len(set(r)) == 3 for r in samples)
        # the second draw without replacement: P(second = j) = Σᵢ pᵢ pⱼ / (1 - pᵢ)
        second = np.bincount(samples[:, 1], minlength=4) / rows
        expected = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)])
        assert np.all(np.abs(second - expected) <= 5 * np.sqrt(expected * (1 - expected) / rows) + 1e-12)


def test_multinomial_one_dimensional_and_unnormalized():
    soma.manual_seed(3)
    out = soma.tensor([0.0, 10.0, 0.0]).multinomial(1)
    assert out.shape == (1,) and out.item() == 1
    assert soma.multinomial(soma.tensor([2.0, 2.0]), 2).numpy().tolist() in ([0, 1], [1, 0])


def test_poisson_mean_and_variance():
    soma.manual_seed(4)
    draws = soma.poisson(soma.full((40000,), 4.0)).numpy()
    assert draws.dtype == np.float32
    assert abs(draws.mean() - 4.0) < 5 * np.sqrt(4.0 / 40000)
    assert abs(draws.var() - 4.0) < 0.2




BAD = {
    "multinomial too many without replacement": lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), 3),
    "multinomial negative": lambda lib: lib.multinomial(lib.tensor([-0.2, 0.8]), 1),
    "multinomial inf": lambda lib: lib.multinomial(lib.tensor([float("inf"), 0.8]), 1),
    "multinomial nan": lambda lib: lib.multinomial(lib.tensor([float("nan"), 0.8]), 1),
    "multinomial zero row": lambda lib: lib.multinomial(lib.tensor([[0.0, 0.0], [1.0, 1.0]]), 1),
    "multinomial 3-D": lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    "multinomial integer": lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
    "multinomial zero samples": lambda lib: lib.multinomial(lib.tensor([0.0, 1.0]), 0),
    "bernoulli p > 1": lambda lib: lib.bernoulli(lib.tensor([1.5])),
    "bernoulli p argument": lambda lib: lib.bernoulli(lib.tensor([0.5]), p=2.0),
    "bernoulli integer": lambda lib: lib.bernoulli(lib.tensor([1, 0])),
    "bernoulli_ p > 1": lambda lib: lib.zeros(2).bernoulli_(1.5),
    "poisson negative": lambda lib: lib.poisson(lib.tensor([-1.0])),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_errors_match_torch(case):
    raises_like_torch(BAD[case])
