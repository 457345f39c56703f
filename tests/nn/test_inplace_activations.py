"""The in-place F variants (elu_, leaky_relu_, hardtanh_, threshold_, selu_, celu_, rrelu_, relu_) as PyTorch's:
they write into their input and return it, bump its version, carry the op's history (gradients through a
non-leaf and through a view of one), refuse a leaf that requires grad and fail a backward that needs the
overwritten values."""

import functools

import numpy as np
import pytest
import torch

import soma
import soma.nn.functional as F
from helpers import raises_like_torch, random_array

TF = torch.nn.functional

CASES = {  # name: (positional arguments, keyword arguments)
    "elu_": ((0.7,), {}), "leaky_relu_": ((0.2,), {}), "hardtanh_": ((-0.5, 0.8), {}), "threshold_": ((0.1, -2.0), {}),
    "selu_": ((), {}), "celu_": ((1.3,), {}), "relu_": ((), {}), "rrelu_": ((0.1, 0.3), {}),
    "elu_ keywords": ((), {"alpha": 0.4}), "leaky_relu_ keywords": ((), {"negative_slope": 0.3}),
    "hardtanh_ keywords": ((), {"min_val": -0.2, "max_val": 0.4}),
    "threshold_ keywords": ((), {"threshold": 0.3, "value": 5.0}), "celu_ keywords": ((), {"alpha": 2.0}),
}


def _run(lib, name, values, view=False):
    functional = soma.nn.functional if lib is soma else TF
    args, kwargs = CASES[name]
    leaf = lib.tensor(values, requires_grad=True)
    x = leaf * 3.0  # a non-leaf, as in a network
    target = x[1:] if view else x
    version = target._version
    out = getattr(functional, name.split()[0])(target, *args, **kwargs)
    assert out is target and target._version > version
    (x * x).sum().backward()
    return x.detach().numpy(), leaf.grad.numpy()


@pytest.mark.parametrize("view", [False, True], ids=["tensor", "view"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_writes_into_its_input_with_torchs_values_and_gradients(name, view):
    values = random_array((3, 4), seed=1)
    values[0, :2] = 0.0  # the kinks: PyTorch's derivative there
    ours, theirs = _run(soma, name, values, view), _run(torch, name, values, view)
    for s, t in zip(ours, theirs):
        np.testing.assert_allclose(s, t, rtol=1e-7, atol=1e-12)  # torch's celu rounds 1/α to float32


@pytest.mark.parametrize("name", sorted(n for n in CASES if " " not in n))
def test_without_autograd_the_tensor_is_simply_overwritten(name):
    args, _ = CASES[name]
    values = random_array((2, 5), np.float32, seed=2)
    x, ref = soma.tensor(values), torch.tensor(values)
    getattr(F, name)(x, *args)
    getattr(TF, name)(ref, *args)
    np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-6)


def test_rrelu_in_training_overwrites_with_the_drawn_slopes():
    x = -soma.ones(500)
    soma.manual_seed(1)
    F.rrelu_(x, 0.1, 0.3, True)
    assert np.all((x.numpy() <= -0.1) & (x.numpy() >= -0.3)) and len(np.unique(x.numpy())) > 400


def _functional(lib):
    return soma.nn.functional if lib is soma else TF


def _on(make_input, name, lib):
    return getattr(_functional(lib), name)(make_input(lib), *CASES[name][0])


def _leaf(lib):
    return lib.ones(3, requires_grad=True)


def _integers(lib):
    return lib.tensor([1, -2, 3])


BAD = {
    **{f"{name} on a leaf": functools.partial(_on, _leaf, name) for name in CASES if " " not in name},
    **{f"{name} on integers": functools.partial(_on, _integers, name) for name in ("elu_", "selu_", "celu_",
                                                                                   "leaky_relu_")},
    "a saved input overwritten": lambda lib: _overwrite_saved(lib),
}


def _overwrite_saved(lib):
    leaf = lib.ones(3, requires_grad=True)
    x = leaf * 2.0
    y = x.sin()  # saves x
    _functional(lib).elu_(x)
    y.sum().backward()


@pytest.mark.parametrize("name", sorted(BAD))
def test_errors_like_torch(name):
    raises_like_torch(BAD[name])


def test_threshold_and_hardtanh_in_place_keep_integers_as_torch():
    for name, args in (("threshold_", (1, 0)), ("hardtanh_", ())):
        x, ref = soma.tensor([1, -2, 3]), torch.tensor([1, -2, 3])
        getattr(F, name)(x, *args)
        getattr(TF, name)(ref, *args)
        assert x.dtype == soma.int64 and np.array_equal(x.numpy(), ref.numpy())
