"""Every activation against PyTorch (values and gradients, float64 and float32) and by gradcheck."""

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from helpers import check_against_torch, copy_weights_to_torch, random_array
from soma.autograd import gradcheck

TF = torch.nn.functional

# (soma function, torch function) pairs applied elementwise
PAIRS = {
    "relu": (F.relu, TF.relu),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1)),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    "selu": (F.selu, TF.selu),
    "celu": (lambda x: F.celu(x, 1.5), lambda x: TF.celu(x, 1.5)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "mish": (F.mish, TF.mish),
    "softplus": (F.softplus, TF.softplus),
    "softplus_beta": (lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.8), lambda x: TF.hardtanh(x, -0.5, 0.8)),
    "relu6": (lambda x: F.relu6(x * 4), lambda x: TF.relu6(x * 4)),
    "hardsigmoid": (lambda x: F.hardsigmoid(x * 4), lambda x: TF.hardsigmoid(x * 4)),
    "hardswish": (lambda x: F.hardswish(x * 4), lambda x: TF.hardswish(x * 4)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "softsign": (F.softsign, TF.softsign),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "threshold": (lambda x: F.threshold(x, 0.2, -1.0), lambda x: TF.threshold(x, 0.2, -1.0)),
    "softmax": (lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=0), lambda x: TF.log_softmax(x, dim=0)),
    "softmin": (lambda x: F.softmin(x, dim=-1), lambda x: TF.softmin(x, dim=-1)),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_activation_matches_torch(name, dtype, shape):
    fn, ref = PAIRS[name]
    x = random_array(shape, dtype, seed=len(shape)) * 3
    # (PyTorch's CPU hardsigmoid backward multiplies by 1/6 rounded to float32, even in float64; soma too)
    check_against_torch(fn, ref, [x])


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_activation_gradcheck(name):
    fn, _ = PAIRS[name]
    x = random_array((3, 4), seed=5) * 3
    x[np.abs(x) < 0.05] += 0.2  # keep away from kinks
    for kink in (-3.0, 3.0, 0.2, -0.5, 0.8, 0.75, 1.5):  # hardtanh/threshold/relu6 break points
        x[np.abs(x - kink) < 0.05] += 0.1
    assert gradcheck(fn, (soma.tensor(x, requires_grad=True),))


def test_large_inputs_are_stable():
    x = soma.tensor([-1000.0, 1000.0, 0.0], requires_grad=True)
    for f in (F.sigmoid, F.softplus, F.logsigmoid, F.silu, F.mish, F.elu, F.selu):
        y = f(x)
        y.sum().backward()
        assert np.all(np.isfinite(y.detach().numpy())) and np.all(np.isfinite(x.grad.numpy()))
        x.grad = None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("num_parameters,shape", [(1, (4, 3)), (3, (4, 3)), (3, (2, 3, 5, 5)), (1, (6,))])
def test_prelu_matches_torch(num_parameters, shape, dtype):
    layer = nn.PReLU(num_parameters, init=0.3, dtype=dtype)
    ref = torch.nn.PReLU(num_parameters, init=0.3, dtype=getattr(torch, np.dtype(dtype).name))
    copy_weights_to_torch(layer, ref)
    x = random_array(shape, dtype)
    check_against_torch(layer, ref, [x])
    layer(soma.tensor(x)).sum().backward()
    ref(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-5)
    w = soma.tensor(random_array((num_parameters,), seed=3), requires_grad=True)
    assert gradcheck(F.prelu, (soma.tensor(random_array(shape, seed=4), requires_grad=True), w))


MODULES = [
    (nn.ReLU(), torch.nn.ReLU()), (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Tanh(), torch.nn.Tanh()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (nn.ELU(0.5), torch.nn.ELU(0.5)),
    (nn.SELU(), torch.nn.SELU()), (nn.CELU(0.8), torch.nn.CELU(0.8)), (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.SiLU(), torch.nn.SiLU()), (nn.Mish(), torch.nn.Mish()), (nn.Softplus(2, 10), torch.nn.Softplus(2, 10)),
    (nn.Hardtanh(-2, 2), torch.nn.Hardtanh(-2, 2)), (nn.ReLU6(), torch.nn.ReLU6()),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)), (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
    (nn.Softmin(dim=1), torch.nn.Softmin(dim=1)), (nn.Hardswish(), torch.nn.Hardswish()),
    (nn.Hardsigmoid(), torch.nn.Hardsigmoid()), (nn.LogSigmoid(), torch.nn.LogSigmoid()),
    (nn.Softsign(), torch.nn.Softsign()), (nn.Tanhshrink(), torch.nn.Tanhshrink()),
    (nn.Threshold(0.1, 20), torch.nn.Threshold(0.1, 20)), (nn.Identity(), torch.nn.Identity()),
]


@pytest.mark.parametrize("pair", MODULES, ids=lambda p: type(p[0]).__name__)
def test_activation_modules_match_torch(pair):
    module, ref = pair
    check_against_torch(module, ref, [random_array((4, 6), np.float32, seed=2) * 3])
    assert repr(module) == repr(ref)


def test_swish():
    x = random_array((3, 4))
    check_against_torch(nn.Swish(), torch.nn.SiLU(), [x])
    swish = nn.Swish(beta=1.7)
    check_against_torch(swish, lambda t: t * torch.sigmoid(1.7 * t), [x])
    trainable = nn.Swish(beta=1.7, trainable=True).double()
    assert [n for n, _ in trainable.named_parameters()] == ["beta"]
    xt = soma.tensor(x, requires_grad=True)
    trainable(xt).sum().backward()
    beta = torch.tensor([1.7], dtype=torch.float64, requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    (xr * torch.sigmoid(beta * xr)).sum().backward()
    np.testing.assert_allclose(trainable.beta.grad.numpy(), beta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-6)


def test_step_function_values_and_gradient_choices():
    # notes 001: threshold 0, Z = 5 -> 1, Z = -2 -> 0; at Z = 0 the step gives 1
    z = soma.tensor([5.0, -2.0, 0.0], requires_grad=True)
    y = nn.Step()(z)
    assert y.tolist() == [1.0, 0.0, 1.0]
    (y * soma.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]  # zero almost everywhere
    z.grad = None
    y = nn.Step(straight_through=True)(z)
    (y * soma.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert z.grad.tolist() == [1.0, 2.0, 3.0]  # straight-through estimator
    assert nn.Step(threshold=1.5)(soma.tensor([1.0, 1.5, 2.0])).tolist() == [0.0, 1.0, 1.0]


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(soma.randn(3), approximate="fast")
    with pytest.raises(RuntimeError, match="slopes"):
        F.prelu(soma.randn(2, 3), soma.ones(2))


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nonfinite_inputs_match_torch(name, dtype):
    # 64 copies of the values: PyTorch's CPU kernels compute them all in their vectorized loop, as nearly every
    # element of a real tensor (its scalar loop over the last n mod 8/16/32 elements disagrees on some NaN
    # gradients, e.g. hardtanh′(NaN) = 1 there, 0 here; docs/pytorch-parity.md)
    fn, ref = PAIRS[name]
    x = np.tile(np.array([np.nan, np.inf, -np.inf, 0.0, 2.5, -2.5, 40.0, -40.0], dtype), (8, 8))
    with np.errstate(invalid="ignore"):  # the helper's weighted sum of the non-finite outputs
        check_against_torch(fn, ref, [x])


def test_softmin_refuses_integers_naming_itself():
    x = soma.tensor([[1, 2, 3]])
    with pytest.raises(NotImplementedError, match="softmin: not implemented for dtype int64"):
        F.softmin(x, dim=-1)
    with pytest.raises(NotImplementedError):
        TF.softmin(torch.tensor([[1, 2, 3]]), dim=-1)
    check_against_torch(lambda t: F.softmin(t, dim=-1, dtype=soma.float64),  # dtype= casts first, as PyTorch
                        lambda t: TF.softmin(t, dim=-1, dtype=torch.float64), [np.array([[1, 2, 3]])])


def test_functional_relu_inplace_writes_the_input_as_torch():
    for lib in (soma, torch):
        x = lib.tensor([-1.0, 2.0], requires_grad=True)
        y = x * 1
        out = lib.nn.functional.relu(y, inplace=True)
        assert out is y and y.tolist() == [0.0, 2.0]
        z = x * 1
        lib.nn.functional.relu_(z)
        (y * 3 + z).sum().backward()
        assert x.grad.tolist() == [0.0, 4.0]


@pytest.mark.parametrize("name, args", [("leaky_relu", (0.2,)), ("elu", ()), ("hardtanh", ()), ("relu6", ()),
                                        ("silu", ()), ("threshold", (0.5, -1.0)), ("dropout", (0.5, False))])
def test_functional_inplace_flag_is_honoured(name, args):
    x = soma.tensor([-1.5, 0.25, 2.0]) * 1
    expected = getattr(soma.nn.functional, name)(x, *args)
    out = getattr(soma.nn.functional, name)(x, *args, inplace=True)
    assert out is x and x.tolist() == expected.tolist()
