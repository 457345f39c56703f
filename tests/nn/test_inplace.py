"""inplace=True as PyTorch: the layer writes its result into its input and returns that tensor, gradients flow
through the rewritten history, and a leaf that requires grad is an error."""

import numpy as np
import pytest
import torch

import soma
from soma import nn

LAYERS = [("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("CELU", (0.7,)), ("SELU", ()),
          ("SiLU", ()), ("Mish", ()), ("Hardtanh", (-0.5, 0.5)), ("Hardsigmoid", ()), ("Hardswish", ()),
          ("Threshold", (0.1, -2.0))]


def _run(lib, name, args, values, inplace=True):
    leaf = (soma if lib is nn else torch).tensor(values, requires_grad=True)
    x = leaf * 3.0  # a non-leaf, as in a network
    out = getattr(lib, name)(*args, inplace=inplace)(x)
    (out * out).sum().backward()
    return x, out, leaf.grad


@pytest.mark.parametrize("name,args", LAYERS, ids=[name for name, _ in LAYERS])
def test_inplace_activation_rewrites_its_input_as_torch(name, args):
    values = np.random.default_rng(0).normal(size=(3, 4))
    x, out, grad = _run(nn, name, args, values)
    tx, tout, _ = _run(torch.nn, name, args, values)
    assert out is x and tout is tx
    np.testing.assert_allclose(x.detach().numpy(), tx.detach().numpy(), rtol=1e-12, atol=1e-15)
    # the gradient through the rewritten history is the out-of-place one (checked against torch in test_activation;
    # torch's own CELU gradients differ by ~1e-8 as it rounds 1/α to float32)
    _, _, expected = _run(nn, name, args, values, inplace=False)
    np.testing.assert_array_equal(grad.numpy(), expected.numpy())
    _, _, tgrad = _run(torch.nn, name, args, values)
    np.testing.assert_allclose(grad.numpy(), tgrad.numpy(), rtol=1e-7)
    kept = soma.tensor(values)
    assert getattr(nn, name)(*args)(kept) is not kept  # the default leaves the input alone
    np.testing.assert_array_equal(kept.numpy(), values)


@pytest.mark.parametrize("name", ["ReLU", "Dropout"])
def test_inplace_on_a_leaf_that_requires_grad_is_an_error_as_torch(name):
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(torch.nn, name)(inplace=True)(torch.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match=f"{name}\\(inplace=True\\).*leaf"):
        getattr(nn, name)(inplace=True)(soma.ones(2, requires_grad=True))


@pytest.mark.parametrize("name,shape", [("Dropout", (4, 6)), ("Dropout1d", (4, 6, 3)), ("Dropout2d", (4, 6, 3, 3)),
                                        ("Dropout3d", (4, 6, 2, 2, 2))])
def test_inplace_dropout_writes_the_dropped_input(name, shape):
    leaf = soma.tensor(np.random.default_rng(1).uniform(1, 2, shape), requires_grad=True)
    x = leaf * 1.0
    before = x.detach().numpy().copy()
    out = getattr(nn, name)(0.5, inplace=True)(x)
    assert out is x
    kept = out.detach().numpy() != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(out.detach().numpy()[kept], 2 * before[kept])
    out.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), 2.0 * kept)
    evaluated = soma.tensor(before)
    assert getattr(nn, name)(0.5, inplace=True).eval()(evaluated) is evaluated
