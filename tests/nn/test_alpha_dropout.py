"""F.alpha_dropout, F.feature_alpha_dropout, nn.AlphaDropout, nn.FeatureAlphaDropout: with a fixed mask exactly
PyTorch's arithmetic (values and gradients, bit for bit), statistically mean/variance preserving on SELU
outputs, the identity in eval, PyTorch's edge cases (p = 0, p = 1, empty, integers) and errors."""

import math

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from helpers import raises_like_torch, random_array
from soma.autograd import gradcheck
from soma.nn.functional.dropouts import SELU_SATURATION, keep_mask


def _torch_alpha_dropout(x, keep, p):
    """ATen's _dropout_impl for alpha dropout, given its Bernoulli(1 - p) noise."""
    noise = torch.tensor(keep.astype(np.dtype(str(x.dtype).replace("torch.", ""))))
    alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    b = noise.add(-1).mul_(alpha * a).add_(alpha * a * p)
    noise.mul_(a)
    return x * noise + b


def test_the_saturation_value_is_selus():
    assert SELU_SATURATION == pytest.approx(torch.nn.SELU()(torch.tensor(-1e4, dtype=torch.float64)).item() * -1,
                                            rel=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("feature,shape", [(False, (4, 5)), (False, ()), (True, (4, 3, 5)), (True, (3, 4)),
                                           (True, (2, 3, 2, 2))])
def test_fixed_mask_gives_torchs_numbers(feature, shape, p, dtype):
    x = random_array(shape, dtype, seed=1)
    mask_shape = shape[:2] + (1,) * (len(shape) - 2) if feature else shape
    soma.manual_seed(7)
    keep = keep_mask(mask_shape, p)
    soma.manual_seed(7)
    leaf = soma.tensor(x, requires_grad=True)
    out = (F.feature_alpha_dropout if feature else F.alpha_dropout)(leaf, p, True)
    ref_leaf = torch.tensor(x, requires_grad=True)
    ref = _torch_alpha_dropout(ref_leaf, keep, p)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    g = random_array(shape, dtype, seed=2)
    (out * soma.tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), ref_leaf.grad.numpy())


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("feature", [False, True])
def test_mean_and_variance_of_selu_outputs_are_kept(p, feature):
    soma.manual_seed(0)
    x = F.selu(soma.randn(4000, 25, 4, dtype=soma.float64))  # SELU's fixed point: mean 0, variance 1
    out = (F.feature_alpha_dropout if feature else F.alpha_dropout)(x, p, True).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.var() - 1) < 0.03
    # a dropped unit holds a·(-λα) + b = -λα·a·(1 - p), whatever its input; about p of them are
    a = 1 / math.sqrt((SELU_SATURATION**2 * p + 1) * (1 - p))
    dropped = np.isclose(out, -SELU_SATURATION * a * (1 - p))
    assert abs(dropped.mean() - p) < 0.02
    if feature:  # each (sample, channel) as a whole
        assert np.all(dropped.all(axis=2) == dropped.any(axis=2))


def test_feature_alpha_dropout_drops_whole_channels_of_a_batch():
    soma.manual_seed(1)
    out = F.feature_alpha_dropout(soma.randn(8, 6, 5, 5), 0.5, True).numpy()
    a = 1 / math.sqrt((SELU_SATURATION**2 * 0.5 + 1) * 0.5)
    value = -SELU_SATURATION * a * 0.5
    dropped = np.isclose(out, value, rtol=1e-6)
    per_channel = dropped.reshape(8, 6, -1)
    assert np.all(per_channel.all(axis=2) == per_channel.any(axis=2)) and 0 < per_channel.all(axis=2).mean() < 1


@pytest.mark.parametrize("function", [F.alpha_dropout, F.feature_alpha_dropout])
def test_eval_p0_and_empty_return_the_input_itself(function):
    x = soma.randn(3, 4)
    assert function(x) is x  # training=False by default, as PyTorch's functional form
    assert function(x, 0.5, False) is x and function(x, 0.0, True) is x
    empty = soma.zeros(0, 3)
    assert function(empty, 0.5, True) is empty
    ints = soma.tensor([[1, 2]])
    assert function(ints, 0.5, False) is ints


@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout"])
def test_p1_multiplies_by_zero_as_torch(name):
    x = np.array([[1.0, np.nan, -3.0], [0.5, -0.0, np.inf]])
    leaf, ref_leaf = soma.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with np.errstate(invalid="ignore"):
        out = getattr(F, name)(leaf, 1.0, True)
    ref = getattr(torch.nn.functional, name)(ref_leaf, 1.0, True)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(np.signbit(out.detach().numpy()), np.signbit(ref.detach().numpy()))
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), ref_leaf.grad.numpy())


def test_gradcheck_with_a_fixed_mask():
    def fixed(t, fn):
        soma.manual_seed(4)
        return fn(t, 0.3, True)

    x = soma.tensor(random_array((3, 4, 2), seed=3), requires_grad=True)
    assert gradcheck(lambda t: fixed(t, F.alpha_dropout), (x,))
    assert gradcheck(lambda t: fixed(t, F.feature_alpha_dropout), (x,))


@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout"])
def test_in_place(name):
    leaf = soma.tensor(random_array((4, 5), seed=5), requires_grad=True)
    x = leaf * 1.0
    soma.manual_seed(6)
    expected = getattr(F, name)(x, 0.4, True).detach().numpy()
    soma.manual_seed(6)
    assert getattr(F, name)(x, 0.4, True, inplace=True) is x
    np.testing.assert_array_equal(x.detach().numpy(), expected)
    x.sum().backward()
    assert leaf.grad is not None


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
def test_modules(name):
    ours, theirs = getattr(nn, name), getattr(torch.nn, name)
    for args in [(), (0.2,), (0.3, True)]:
        assert repr(ours(*args)) == repr(theirs(*args))
    layer = ours(0.3)
    x = soma.randn(4, 6, 3)
    soma.manual_seed(8)
    functional = getattr(F, "alpha_dropout" if name == "AlphaDropout" else "feature_alpha_dropout")
    expected = functional(x, 0.3, True).numpy()
    soma.manual_seed(8)
    np.testing.assert_array_equal(layer(x).numpy(), expected)
    assert layer.eval()(x) is x
    # inplace=True is kept but not used, as in PyTorch
    y = soma.randn(4, 6, 3)
    assert ours(0.3, inplace=True)(y) is not y and theirs(0.3, inplace=True)(torch.randn(4, 6, 3)) is not None


BAD = {
    "p above 1": lambda lib: lib.nn.functional.alpha_dropout(lib.ones(2), 1.5, True),
    "negative p in eval": lambda lib: lib.nn.functional.alpha_dropout(lib.ones(2), -0.5, False),
    "feature p above 1": lambda lib: lib.nn.functional.feature_alpha_dropout(lib.ones(2, 2), 2.0, False),
    "module p": lambda lib: lib.nn.AlphaDropout(2),
    "feature module p": lambda lib: lib.nn.FeatureAlphaDropout(-1),
    "integers in training": lambda lib: lib.nn.functional.alpha_dropout(lib.tensor([1, 2, 3]), 0.5, True),
    "feature 1-d": lambda lib: lib.nn.functional.feature_alpha_dropout(lib.ones(4), 0.5, True),
    "feature 0-d": lambda lib: lib.nn.functional.feature_alpha_dropout(lib.tensor(1.0), 0.5, True),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_like_torch(name):
    raises_like_torch(BAD[name])


def test_feature_alpha_dropout_of_1d_passes_in_eval_as_torch():
    x = soma.ones(4)
    assert F.feature_alpha_dropout(x, 0.5, False) is x
    with pytest.raises(RuntimeError, match=r"feature_alpha_dropout.*2 dimensions.*\(4,\)"):
        F.feature_alpha_dropout(x, 0.5, True)
