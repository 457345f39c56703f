"""Trigonometric, hyperbolic, base-2/10 and the composed elementwise functions against PyTorch: values,
dtypes, gradients, float64 gradchecks, second order, methods and in-place forms."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch
from soma.autograd import gradcheck

RNG = np.random.default_rng(0)
UNIT = RNG.uniform(-0.9, 0.9, (3, 4))  # inside the domains of asin, acos, atanh
WIDE = RNG.uniform(-3, 3, (3, 4))
POSITIVE = RNG.uniform(0.2, 3, (3, 4))
ABOVE_ONE = RNG.uniform(1.2, 4, (3, 4))
PROB = RNG.uniform(0.05, 0.95, (3, 4))
UNARY = [("tan", UNIT), ("asin", UNIT), ("acos", UNIT), ("atan", WIDE), ("sinh", WIDE), ("cosh", WIDE),
         ("asinh", WIDE), ("acosh", ABOVE_ONE), ("atanh", UNIT), ("arcsin", UNIT), ("arctanh", UNIT),
         ("log2", POSITIVE), ("log10", POSITIVE), ("exp2", WIDE), ("deg2rad", WIDE), ("rad2deg", WIDE),
         ("sinc", np.append(WIDE.ravel()[:-1], 0.0).reshape(3, 4)), ("logit", PROB)]
BINARY = [("atan2", WIDE, POSITIVE - 1.5), ("arctan2", WIDE, WIDE[:1]), ("xlogy", WIDE, POSITIVE),
          ("copysign", WIDE, WIDE[::-1]), ("logaddexp2", WIDE, POSITIVE), ("float_power", POSITIVE, WIDE)]
CASES = ([(name, (lambda n: lambda x: getattr(soma, n)(x))(name), (lambda n: lambda x: getattr(torch, n)(x))(name),
           [x]) for name, x in UNARY]
         + [(name, getattr(soma, name), getattr(torch, name), [a, b]) for name, a, b in BINARY]
         + [("logit eps", lambda x: soma.logit(x, 0.2), lambda x: torch.logit(x, 0.2), [PROB])])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn_soma, fn_torch, inputs, dtype):
    check_against_torch(fn_soma, fn_torch, [a.astype(dtype) for a in inputs])


@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn_soma, fn_torch, inputs):
    assert gradcheck(fn_soma, [soma.tensor(a, requires_grad=True) for a in inputs])


@pytest.mark.parametrize("name", ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2",
                                  "log10", "exp2", "sinc", "atan2"])
def test_gradgradcheck(name):
    _, fn_soma, _, inputs = next(c for c in CASES if c[0] == name)
    assert soma.autograd.gradgradcheck(fn_soma, [soma.tensor(a, requires_grad=True) for a in inputs])


def test_integer_inputs_and_special_values():
    for name in ("tan", "sinh", "log2", "exp2", "sinc"):
        assert getattr(soma, name)(soma.tensor([1, 2])).dtype == getattr(torch, name)(torch.tensor([1, 2])).numpy().dtype
    x = np.array([-1.0, 1.0, 2.0, 0.0, np.nan, np.inf])
    for name in ("asin", "acos", "atanh", "acosh", "log2", "log10", "sinc", "cosh"):
        np.testing.assert_allclose(getattr(soma, name)(soma.tensor(x)).numpy(),
                                   getattr(torch, name)(torch.tensor(x)).numpy(), rtol=1e-14)
    np.testing.assert_array_equal(soma.xlogy(soma.tensor([0.0, 0.0]), soma.tensor([0.0, np.nan])).numpy(),
                                  torch.xlogy(torch.tensor([0.0, 0.0]), torch.tensor([0.0, np.nan])).numpy())
    assert soma.float_power(soma.tensor([2], dtype=soma.int32), 3).dtype == soma.float64
    with pytest.raises(RuntimeError):
        soma.positive(soma.tensor([True]))
    with pytest.raises(RuntimeError):
        torch.positive(torch.tensor([True]))


@pytest.mark.parametrize("name", ["tan", "asin", "sinh", "log2", "exp2", "deg2rad", "sinc", "logit", "atan2", "xlogy",
                                  "copysign"])
def test_methods_and_inplace_forms(name):
    a, b = (PROB if name == "logit" else UNIT), POSITIVE
    args = (b,) if name in ("atan2", "xlogy", "copysign") else ()
    s, t = soma.tensor(a), torch.tensor(a)
    np.testing.assert_allclose(getattr(s, name)(*map(soma.tensor, args)).numpy(),
                               getattr(t, name)(*map(torch.tensor, args)).numpy(), rtol=1e-13)
    assert getattr(s, name + "_")(*map(soma.tensor, args)) is s
    getattr(t, name + "_")(*map(torch.tensor, args))
    np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-13)
    assert soma.tensor(a).positive() is not None
