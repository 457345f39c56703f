"""F.hardshrink, F.softshrink, F.glu, F.rrelu/rrelu_ and their modules against PyTorch: values (NaN, ±inf, signed
zeros), dtypes, input gradients, gradchecks, bad input; rrelu's training slopes from soma's generator."""

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from helpers import check_against_torch, raises_like_torch, random_array
from soma.autograd import gradcheck
from soma.nn.functional.randomized import rrelu_slopes

TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf·0 in the helpers' sums
# the special values first: PyTorch's CPU kernels compute all but the last n mod 16 (float32) or 8 (float64)
# elements in their vectorized loop, whose answer at NaN soma gives (docs/pytorch-parity.md)
SPECIAL = [-1.0, -0.5, -0.2, 0.0, -0.0, 0.5, 0.7, np.nan, np.inf, -np.inf, 0.5000001, -0.5000001, 1.3, -1.3, 0.2, 3.0]


def _values(dtype):
    return np.concatenate([SPECIAL, random_array((48,), seed=1) * 2]).astype(dtype)


@pytest.mark.parametrize("name", ["hardshrink", "softshrink"])
@pytest.mark.parametrize("lambd", [0.5, 0.0, 0.2, 1.3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shrink_matches_torch_with_special_values(name, lambd, dtype):
    ours, theirs = getattr(F, name), getattr(TF, name)
    x = _values(dtype)
    (out,) = check_against_torch(lambda t: ours(t, lambd), lambda t: theirs(t, lambd), [x])
    ref = theirs(torch.tensor(x), lambd).numpy()
    np.testing.assert_array_equal(np.signbit(out.detach().numpy()), np.signbit(ref))  # +0 inside, as PyTorch


@pytest.mark.parametrize("name", ["hardshrink", "softshrink"])
def test_shrink_defaults_shapes_and_negative_hardshrink_lambda(name):
    x = random_array((2, 3, 4), seed=2)
    check_against_torch(getattr(F, name), getattr(TF, name), [x])
    check_against_torch(lambda t: F.hardshrink(t, -1.0), lambda t: TF.hardshrink(t, -1.0), [x])
    empty = getattr(F, name)(soma.zeros(0, 3))
    assert tuple(empty.shape) == (0, 3)


@pytest.mark.parametrize("name", ["hardshrink", "softshrink"])
def test_shrink_gradcheck(name):
    x = random_array((3, 4), seed=3) * 2
    for kink in (0.5, -0.5):
        x[np.abs(x - kink) < 0.05] += 0.1
    assert gradcheck(getattr(F, name), (soma.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim", [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1), ((2, 3, 4), -1), ((6,), 0)])
def test_glu_matches_torch(shape, dim, dtype):
    x = random_array(shape, dtype, seed=4) * 3
    check_against_torch(lambda t: F.glu(t, dim), lambda t: TF.glu(t, dim), [x])


def test_glu_gradcheck_and_empty():
    assert gradcheck(lambda t: F.glu(t, 1), (soma.tensor(random_array((3, 4, 2), seed=5), requires_grad=True),))
    out, ref = F.glu(soma.zeros(0, 6)), TF.glu(torch.zeros(0, 6))
    assert tuple(out.shape) == tuple(ref.shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bounds", [(1 / 8, 1 / 3), (0.1, 0.1), (-0.5, 0.2)])
def test_rrelu_eval_is_the_mean_slope_leaky_relu_as_torch(bounds, dtype):
    x = _values(dtype)  # 0 gets the slope (lower + upper)/2 as gradient, as PyTorch's
    check_against_torch(lambda t: F.rrelu(t, *bounds), lambda t: TF.rrelu(t, *bounds), [x])
    check_against_torch(lambda t: F.rrelu(t, *bounds, training=False), lambda t: TF.rrelu(t, *bounds), [x])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rrelu_training_multiplies_by_the_slopes_drawn_and_backpropagates_them_as_torch(dtype):
    x = np.concatenate([[0.0, -0.0, np.inf, -np.inf], random_array((60,), seed=6)]).astype(dtype)
    lower, upper = 0.1, 0.3
    soma.manual_seed(11)
    slopes = rrelu_slopes(soma.tensor(x), lower, upper).numpy()
    soma.manual_seed(11)
    leaf = soma.tensor(x, requires_grad=True)
    out = F.rrelu(leaf, lower, upper, training=True)
    assert out.dtype == dtype and slopes.dtype == dtype
    assert np.all((lower <= slopes[:2]) & (slopes[:2] <= upper))  # x = ±0 draws a slope too (x ≤ 0), as PyTorch
    np.testing.assert_array_equal(out.detach().numpy(), x * slopes)
    g = random_array(x.shape, dtype, seed=7)
    (out * soma.tensor(g)).sum().backward()
    # PyTorch's own backward, given the same noise: grad·noise
    ref = torch.ops.aten.rrelu_with_noise_backward(torch.tensor(g), torch.tensor(x), torch.tensor(slopes), lower, upper,
                                                   True, False)
    np.testing.assert_array_equal(leaf.grad.numpy(), ref.numpy())


def test_rrelu_slopes_are_uniform_per_element_and_repeat_with_the_seed():
    x = soma.tensor(np.concatenate([-np.ones(40000), np.ones(100)]))
    soma.manual_seed(3)
    first = F.rrelu(x, 0.2, 0.6, training=True).numpy()
    soma.manual_seed(3)
    assert np.array_equal(first, F.rrelu(x, 0.2, 0.6, training=True).numpy())
    assert not np.array_equal(first, F.rrelu(x, 0.2, 0.6, training=True).numpy())
    slopes = -first[:40000]
    assert slopes.min() >= 0.2 and slopes.max() <= 0.6
    assert abs(slopes.mean() - 0.4) < 0.005 and abs(slopes.var() - 0.4**2 / 12) < 0.001  # U(0.2, 0.6)
    assert np.array_equal(first[40000:], np.ones(100))  # positive inputs pass unchanged


def test_rrelu_training_gradcheck():
    def fixed_noise(t):
        soma.manual_seed(5)
        return F.rrelu(t, 0.1, 0.4, training=True)

    x = random_array((3, 5), seed=8)
    x[np.abs(x) < 0.05] += 0.2
    assert gradcheck(fixed_noise, (soma.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("training", [False, True])
def test_rrelu_in_place(training):
    leaf = soma.tensor(random_array((4, 5), seed=9), requires_grad=True)
    x = leaf * 1.0
    version = x._version
    soma.manual_seed(2)
    expected = F.rrelu(x, training=training).detach().numpy()
    soma.manual_seed(2)
    assert F.rrelu_(x, training=training) is x and x._version > version
    np.testing.assert_array_equal(x.detach().numpy(), expected)
    x.sum().backward()
    slopes = np.where(leaf.detach().numpy() > 0, 1.0, expected / leaf.detach().numpy())
    np.testing.assert_allclose(leaf.grad.numpy(), slopes, rtol=1e-12)
    soma.manual_seed(2)
    y = leaf * 1.0
    assert F.rrelu(y, training=training, inplace=True) is y
    with pytest.raises(RuntimeError, match="leaf"):
        F.rrelu_(soma.ones(3, requires_grad=True))


MODULES = [
    (nn.GLU(), torch.nn.GLU()), (nn.GLU(0), torch.nn.GLU(0)), (nn.Hardshrink(), torch.nn.Hardshrink()),
    (nn.Hardshrink(1.1), torch.nn.Hardshrink(1.1)), (nn.Softshrink(), torch.nn.Softshrink()),
    (nn.Softshrink(0.3), torch.nn.Softshrink(0.3)), (nn.RReLU().eval(), torch.nn.RReLU().eval()),
    (nn.RReLU(0.1, 0.3).eval(), torch.nn.RReLU(0.1, 0.3).eval()),
]


@pytest.mark.parametrize("pair", MODULES, ids=lambda p: repr(p[0]))
def test_modules_match_torch(pair):
    module, ref = pair
    check_against_torch(module, ref, [random_array((4, 6), np.float32, seed=10) * 3])
    assert repr(module) == repr(ref)


def test_rrelu_module_trains_randomly_and_in_place():
    layer = nn.RReLU(0.1, 0.3, inplace=True)
    assert repr(layer) == repr(torch.nn.RReLU(0.1, 0.3, inplace=True))
    x = -soma.ones(1000)
    assert layer(x) is x
    slopes = -x.numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and len(np.unique(slopes)) > 900
    assert np.allclose(nn.RReLU(0.1, 0.3).eval()(-soma.ones(3)).numpy(), -0.2)


BAD = {
    "softshrink negative lambda": lambda lib: lib.nn.functional.softshrink(lib.ones(3), -1.0),
    "hardshrink integers": lambda lib: lib.nn.functional.hardshrink(lib.tensor([1, 2])),
    "softshrink integers": lambda lib: lib.nn.functional.softshrink(lib.tensor([1, 2])),
    "glu odd": lambda lib: lib.nn.functional.glu(lib.ones(4, 5)),
    "glu scalar": lambda lib: lib.nn.functional.glu(lib.tensor(1.0)),
    "glu integers": lambda lib: lib.nn.functional.glu(lib.tensor([1, 2])),
    "glu dim": lambda lib: lib.nn.functional.glu(lib.ones(4, 6), 2),
    "rrelu bounds": lambda lib: lib.nn.functional.rrelu(lib.ones(2), 0.5, 0.1, training=True),
    "rrelu bounds eval": lambda lib: lib.nn.functional.rrelu(lib.ones(2), 0.5, 0.1),
    "rrelu integers": lambda lib: lib.nn.functional.rrelu(lib.tensor([-1, 2])),
    "rrelu integers training": lambda lib: lib.nn.functional.rrelu(lib.tensor([-1, 2]), training=True),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_like_torch(name):
    raises_like_torch(BAD[name])


def test_errors_name_the_function_and_the_sizes():
    with pytest.raises(RuntimeError, match=r"glu.*dimension 1 is size 5.*\(4, 5\)"):
        F.glu(soma.ones(4, 5))
    with pytest.raises(RuntimeError, match="softshrink.*lambda"):
        F.softshrink(soma.ones(3), -1.0)
    with pytest.raises(RuntimeError, match="rrelu.*lower=0.5, upper=0.1"):
        F.rrelu(soma.ones(2), 0.5, 0.1)
