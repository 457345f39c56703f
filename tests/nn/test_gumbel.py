"""F.gumbel_softmax: with the same Gumbel noise exactly PyTorch's formula (soft, and hard with the straight-through
gradient), values and gradients; the noise is Gumbel(0, 1) from soma's generator, hard samples follow the
softmax's probabilities (the Gumbel-max trick); gradchecks and bad input."""

import math

import numpy as np
import pytest
import torch

import soma
import soma.nn.functional as F
from helpers import raises_like_torch, random_array, tolerance
from soma.autograd import gradcheck
from soma.nn.functional.randomized import gumbel_noise


def _torch_gumbel_softmax(logits, gumbels, tau, hard, dim):
    """torch.nn.functional.gumbel_softmax's body, given its Gumbel draws."""
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = torch.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("shape,dim,tau", [((4, 5), -1, 1.0), ((4, 5), 0, 0.5), ((2, 3, 4), 1, 2.0), ((6,), 0, 0.1)])
def test_same_noise_gives_torchs_values_and_gradients(shape, dim, tau, hard, dtype):
    x = random_array(shape, dtype, seed=1)
    soma.manual_seed(3)
    noise = gumbel_noise(soma.tensor(x)).numpy()
    soma.manual_seed(3)
    leaf = soma.tensor(x, requires_grad=True)
    out = F.gumbel_softmax(leaf, tau, hard, dim=dim)
    ref_leaf = torch.tensor(x, requires_grad=True)
    ref = _torch_gumbel_softmax(ref_leaf, torch.tensor(noise), tau, hard, dim)
    assert out.dtype == dtype and noise.dtype == dtype
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), **tolerance(dtype))
    g = random_array(shape, dtype, seed=2)
    (out * soma.tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), ref_leaf.grad.numpy(), **tolerance(dtype))


def test_soft_samples_are_distributions_and_hard_ones_their_one_hot_argmax():
    logits = soma.tensor(random_array((50, 7), seed=4))
    soma.manual_seed(0)
    soft = F.gumbel_softmax(logits, 0.7).numpy()
    soma.manual_seed(0)
    hard = F.gumbel_softmax(logits, 0.7, hard=True).numpy()
    np.testing.assert_allclose(soft.sum(-1), 1.0, rtol=1e-6)
    assert np.all(soft > 0)
    np.testing.assert_allclose(hard, np.eye(7)[soft.argmax(-1)], atol=1e-6)
    assert not np.array_equal(F.gumbel_softmax(logits, 0.7).numpy(), soft)  # a fresh draw each call


def test_the_noise_is_gumbel_and_repeats_with_the_seed():
    soma.manual_seed(9)
    g = gumbel_noise(soma.zeros(200000, dtype=soma.float64)).numpy()
    soma.manual_seed(9)
    assert np.array_equal(g, gumbel_noise(soma.zeros(200000, dtype=soma.float64)).numpy())
    assert abs(g.mean() - 0.5772156649) < 0.01 and abs(g.var() - math.pi**2 / 6) < 0.03  # Euler's γ, π²/6


def test_hard_samples_follow_the_softmax_probabilities():
    logits = np.array([1.0, 0.0, -1.0, 2.0])
    soma.manual_seed(5)
    hard = F.gumbel_softmax(soma.tensor(np.tile(logits, (20000, 1))), tau=0.3, hard=True).numpy()
    frequencies = hard.mean(0)
    np.testing.assert_allclose(frequencies, np.exp(logits) / np.exp(logits).sum(), atol=0.015)


def _fixed_noise(t, hard):
    soma.manual_seed(6)
    return F.gumbel_softmax(t, 0.8, hard)


def test_gradcheck_with_fixed_noise_and_the_hard_samples_straight_through_gradient():
    x = random_array((3, 4), seed=7)
    assert gradcheck(lambda t: _fixed_noise(t, False), (soma.tensor(x, requires_grad=True),))
    # the hard sample is piecewise constant (finite differences say 0): its gradient is the soft sample's
    g = soma.tensor(random_array((3, 4), seed=8))
    grads = []
    for hard in (False, True):
        leaf = soma.tensor(x, requires_grad=True)
        (_fixed_noise(leaf, hard) * g).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-15)


def test_eps_is_deprecated_as_torch():
    with pytest.warns(UserWarning, match="deprecated"):
        torch.nn.functional.gumbel_softmax(torch.zeros(2, 3), eps=1e-3)
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(soma.zeros(2, 3), eps=1e-3)


def test_empty_logits():
    for hard in (False, True):
        out, ref = F.gumbel_softmax(soma.zeros(0, 5), hard=hard), torch.nn.functional.gumbel_softmax(
            torch.zeros(0, 5), hard=hard)
        assert tuple(out.shape) == tuple(ref.shape)


BAD = {
    "integer logits": lambda lib: lib.nn.functional.gumbel_softmax(lib.tensor([[1, 2]])),
    "dim out of range": lambda lib: lib.nn.functional.gumbel_softmax(lib.zeros(2, 3), dim=2),
    "hard dim out of range": lambda lib: lib.nn.functional.gumbel_softmax(lib.zeros(2, 3), hard=True, dim=-3),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_like_torch(name):
    raises_like_torch(BAD[name])
