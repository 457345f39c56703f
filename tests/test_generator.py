"""soma.Generator: a random stream of its own, passed as generator= as torch.Generator is."""

import numpy as np
import pytest

import soma
import soma.utils.data as data


@pytest.mark.parametrize("draw", [
    lambda g: soma.randn(3, 2, generator=g), lambda g: soma.rand(4, generator=g),
    lambda g: soma.randint(0, 9, (5,), generator=g), lambda g: soma.randperm(6, generator=g),
    lambda g: soma.normal(0.0, 2.0, (3,), generator=g), lambda g: soma.bernoulli(soma.full((4,), 0.5), generator=g),
])
def test_a_seeded_generator_repeats_and_leaves_the_global_stream_alone(draw):
    soma.manual_seed(5)
    expected_global = soma.rand(3)
    soma.manual_seed(5)
    first = draw(soma.Generator().manual_seed(7))
    second = draw(soma.Generator().manual_seed(7))
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    np.testing.assert_array_equal(soma.rand(3).numpy(), expected_global.numpy())  # untouched by g's draws
    assert not np.array_equal(draw(soma.Generator().manual_seed(8)).numpy(), first.numpy()) or first.numel() < 3


def test_state_seed_and_samplers():
    g = soma.Generator()
    assert g.initial_seed() == 67280421310721 and str(g.device) == "cpu"
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    state = g.get_state()
    x = soma.rand(4, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(soma.rand(4, generator=g).numpy(), x.numpy())
    splits = [data.random_split(range(10), [0.7, 0.3], generator=soma.Generator().manual_seed(1)) for _ in range(2)]
    assert [list(s) for s in splits[0]] == [list(s) for s in splits[1]]
    loaders = [list(data.DataLoader(range(8), batch_size=4, shuffle=True, generator=soma.Generator().manual_seed(2)))
               for _ in range(2)]
    assert [b.tolist() for b in loaders[0]] == [b.tolist() for b in loaders[1]]
    assert g.seed() == g.initial_seed()


def test_bad_generators_fail():
    with pytest.raises(TypeError, match="argument 'generator' must be soma.Generator, not int"):
        soma.randn(2, generator=3)
    with pytest.raises(ValueError, match="non-negative"):
        soma.Generator().manual_seed(-1)
