"""Linear, Bilinear, Embedding, Flatten/Unflatten against PyTorch: values, gradients, init, errors."""

import math

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from helpers import check_against_torch, copy_weights_to_torch, random_array
from soma.autograd import gradcheck


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,out", [((5, 7), 3), ((2, 3, 4), 6), ((4,), 1), ((3, 1), 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, out, bias, dtype):
    x = random_array(shape, dtype, seed=1)
    w = random_array((out, shape[-1]), dtype, seed=2)
    arrays = [x, w] + ([random_array((out,), dtype, seed=3)] if bias else [])
    check_against_torch(F.linear, torch.nn.functional.linear, arrays)


def test_linear_gradcheck():
    x = soma.tensor(random_array((3, 4)), requires_grad=True)
    w = soma.tensor(random_array((2, 4), seed=1), requires_grad=True)
    b = soma.tensor(random_array((2,), seed=2), requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))
    x3 = soma.tensor(random_array((2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda a, c: F.linear(a, c), (x3, w))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_module_matches_torch(dtype):
    layer = nn.Linear(7, 5, dtype=dtype)
    ref = torch.nn.Linear(7, 5, dtype=getattr(torch, np.dtype(dtype).name))
    copy_weights_to_torch(layer, ref)
    x = random_array((9, 7), dtype)
    check_against_torch(layer, ref, [x])
    assert repr(layer) == repr(ref)


def test_linear_default_init_bounds():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = layer.weight.detach().numpy()
    assert w.dtype == np.float32 and w.shape == (300, 400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # U(-a, a) has std a/√3
    b = layer.bias.detach().numpy()
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.95 * bound


def test_linear_reproducible_with_seed():
    soma.manual_seed(3)
    a = nn.Linear(4, 3).weight.detach().numpy().copy()
    soma.manual_seed(3)
    assert np.array_equal(a, nn.Linear(4, 3).weight.detach().numpy())


def test_linear_no_bias_state_dict():
    layer = nn.Linear(3, 2, bias=False)
    assert list(layer.state_dict()) == ["weight"] and layer.bias is None
    assert list(layer.state_dict()) == list(torch.nn.Linear(3, 2, bias=False).state_dict())


def test_linear_wrong_input_size_names_layer():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=784\) got input of shape \(32, 100\)"):
        nn.Linear(784, 10)(soma.randn(32, 100))
    with pytest.raises(RuntimeError, match="dtype"):
        F.linear(soma.randn(2, 3, dtype=soma.float64), soma.randn(4, 3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bilinear_matches_torch(dtype):
    layer = nn.Bilinear(3, 4, 5, dtype=dtype)
    ref = torch.nn.Bilinear(3, 4, 5, dtype=getattr(torch, np.dtype(dtype).name))
    copy_weights_to_torch(layer, ref)
    check_against_torch(layer, ref, [random_array((6, 3), dtype), random_array((6, 4), dtype, seed=1)])
    x1 = soma.tensor(random_array((2, 3)), requires_grad=True)
    x2 = soma.tensor(random_array((2, 4), seed=4), requires_grad=True)
    w = soma.tensor(random_array((2, 3, 4), seed=5), requires_grad=True)
    assert gradcheck(F.bilinear, (x1, x2, w))


@pytest.mark.parametrize("spot", [(0, 1, 0), (1, 2, 3), (0, 0, 2)])
def test_bilinear_inf_and_nan_land_where_torch_puts_them(spot):
    # an Inf in x₁ meets weights of both signs: PyTorch sums over x₁ first, so it becomes NaN, not ±inf
    which, row, col = spot
    x1, x2 = random_array((3, 3), np.float32), random_array((3, 4), np.float32, seed=1)
    (x2 if which else x1)[row, col] = np.inf
    (x1 if which else x2)[2 - row % 3, 0] = np.nan
    w = random_array((2, 3, 4), np.float32, seed=2)
    with np.errstate(invalid="ignore"):
        check_against_torch(F.bilinear, torch.nn.functional.bilinear, [x1, x2, w])


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_matches_torch(padding_idx):
    table = random_array((6, 4), np.float64)
    index = np.array([[0, 2, 5], [2, 2, 1]])
    check_against_torch(
        lambda w, i: F.embedding(i, w, padding_idx=padding_idx),
        lambda w, i: torch.nn.functional.embedding(i, w, padding_idx=padding_idx),
        [table, index],
    )


def test_embedding_module_init_and_scale_grad():
    emb = nn.Embedding(50, 8, padding_idx=0)
    assert np.all(emb.weight._array[0] == 0)
    assert abs(emb.weight._array[1:].std() - 1) < 0.1  # N(0, 1), as PyTorch
    ref = torch.nn.Embedding(50, 8, padding_idx=0, scale_grad_by_freq=True, dtype=torch.float32)
    emb.scale_grad_by_freq = True
    copy_weights_to_torch(emb, ref)
    index = np.array([1, 3, 3, 0, 7])
    check_against_torch(emb, ref, [index], grad=False)
    out, ref_out = emb(soma.tensor(index)), ref(torch.tensor(index))
    g = random_array(out.shape, np.float32)
    out.backward(soma.tensor(g))
    ref_out.backward(torch.tensor(g))
    np.testing.assert_allclose(emb.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-6)


def test_embedding_max_norm_matches_torch():
    table = random_array((5, 3), np.float64) * 3
    emb = nn.Embedding(5, 3, max_norm=1.0, _weight=table.copy())
    ref = torch.nn.Embedding(5, 3, max_norm=1.0, _weight=torch.tensor(table.copy()))
    index = np.array([0, 3, 3])
    np.testing.assert_allclose(emb(soma.tensor(index)).detach().numpy(),
                               ref(torch.tensor(index)).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(emb.weight._array, ref.weight.detach().numpy(), rtol=1e-10)


def test_embedding_errors():
    emb = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="out of range"):
        emb(soma.tensor([4]))
    with pytest.raises(TypeError, match="integer"):
        emb(soma.tensor([1.0]))


def test_flatten_unflatten_identity():
    x = soma.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Identity(3, foo=1)(x) is x
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
