"""BatchNorm1d/2d, LayerNorm, GroupNorm against PyTorch: outputs, gradients, running stats, state_dict."""

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from helpers import check_against_torch, copy_weights_to_torch, random_array
from soma.autograd import gradcheck


def _torch_dtype(dtype):
    return getattr(torch, np.dtype(dtype).name)


def _randomize_affine(module):
    if getattr(module, "weight", None) is not None:
        module.weight._array[...] = random_array(module.weight.shape, module.weight.dtype, seed=7, low=0.5, high=1.5)
        module.bias._array[...] = random_array(module.bias.shape, module.bias.dtype, seed=8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (5, 4, 7)),
                                       ("BatchNorm2d", (4, 3, 5, 6)), ("BatchNorm2d", (2, 1, 3, 3))])
@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_train_then_eval(cls, shape, momentum, affine, dtype):
    channels = shape[1]
    layer = getattr(nn, cls)(channels, momentum=momentum, affine=affine, dtype=dtype)
    ref = getattr(torch.nn, cls)(channels, momentum=momentum, affine=affine, dtype=_torch_dtype(dtype))
    _randomize_affine(layer)
    copy_weights_to_torch(layer, ref)
    for step in range(3):
        check_against_torch(layer, ref, [random_array(shape, dtype, seed=step) * 2 + 1])
    tol = dict(rtol=1e-10) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(layer.state_dict()[name].numpy(), value.numpy(), **tol, err_msg=name)
    layer.eval()
    ref.eval()
    check_against_torch(layer, ref, [random_array(shape, dtype, seed=9)])
    assert repr(layer) == repr(ref)


def test_batch_norm_without_running_stats():
    layer = nn.BatchNorm1d(4, track_running_stats=False).double()
    ref = torch.nn.BatchNorm1d(4, track_running_stats=False, dtype=torch.float64)
    assert list(layer.state_dict()) == list(ref.state_dict()) == ["weight", "bias"]
    layer.eval()
    ref.eval()
    check_against_torch(layer, ref, [random_array((6, 4))])


def test_batch_norm_state_dict_keys_and_dtype():
    layer = nn.BatchNorm2d(5)
    assert list(layer.state_dict()) == list(torch.nn.BatchNorm2d(5).state_dict())
    assert layer.num_batches_tracked.dtype == np.int64
    layer(soma.randn(2, 5, 3, 3))
    assert layer.num_batches_tracked.item() == 1
    layer.double()
    assert layer.running_mean.dtype == np.float64 and layer.num_batches_tracked.dtype == np.int64


def test_batch_norm_gradcheck():
    x = soma.tensor(random_array((4, 3, 2, 2)), requires_grad=True)
    w = soma.tensor(random_array((3,), seed=1), requires_grad=True)
    b = soma.tensor(random_array((3,), seed=2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    mean, var = soma.tensor(random_array((3,), seed=3)), soma.tensor(random_array((3,), seed=4, low=0.5, high=2))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=False), (x, w, b))


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(num_features=3\) got input of shape \(2, 4, 5, 5\)"):
        nn.BatchNorm2d(3)(soma.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match="BatchNorm1d"):
        nn.BatchNorm1d(3)(soma.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(soma.randn(1, 3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,normalized", [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 4, 5), (4, 5))])
@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, False)])
def test_layer_norm(shape, normalized, affine, bias, dtype):
    layer = nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias, dtype=dtype)
    ref = torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias, dtype=_torch_dtype(dtype))
    if affine:
        layer.weight._array[...] = random_array(normalized, dtype, seed=3)
        if bias:
            layer.bias._array[...] = random_array(normalized, dtype, seed=4)
    copy_weights_to_torch(layer, ref)
    check_against_torch(layer, ref, [random_array(shape, dtype) * 3 + 2])
    assert repr(layer) == repr(ref)


def test_layer_norm_gradcheck_and_errors():
    x = soma.tensor(random_array((3, 4)), requires_grad=True)
    w = soma.tensor(random_array((4,), seed=1), requires_grad=True)
    b = soma.tensor(random_array((4,), seed=2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b), (x, w, b))
    with pytest.raises(RuntimeError, match=r"LayerNorm\(normalized_shape=\(5,\)\) got input of shape \(3, 4\)"):
        nn.LayerNorm(5)(soma.randn(3, 4))


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_group_norm(groups):
    layer = nn.GroupNorm(groups, 4).double()
    ref = torch.nn.GroupNorm(groups, 4, dtype=torch.float64)
    layer.weight._array[...] = random_array((4,), seed=3)
    copy_weights_to_torch(layer, ref)
    check_against_torch(layer, ref, [random_array((3, 4, 5))])


def test_instance_norm_matches_torch_and_refuses_what_torch_refuses():
    x = random_array((2, 3, 5), seed=3)
    w, b = random_array((3,), seed=4), random_array((3,), seed=5)
    check_against_torch(lambda t, u, v: F.instance_norm(t, weight=u, bias=v),
                        lambda t, u, v: torch.nn.functional.instance_norm(t, weight=u, bias=v), [x, w, b])
    for shape in [(3, 5), (2, 3, 1), (2, 3, 1, 1)]:  # one value per (sample, channel)
        with pytest.raises(ValueError, match="instance_norm: expected more than 1 spatial element"):
            F.instance_norm(soma.randn(*shape))
        with pytest.raises(ValueError, match="more than 1 spatial element"):
            torch.nn.functional.instance_norm(torch.randn(*shape))
    with pytest.raises(NotImplementedError, match="instance_norm: not implemented for dtype int64"):
        F.instance_norm(soma.tensor(np.ones((2, 3, 5), np.int64)))
    with pytest.raises(NotImplementedError, match="rms_norm: not implemented for dtype int64"):
        F.rms_norm(soma.tensor(np.ones((2, 4), np.int64)), (4,))
    with pytest.raises(NotImplementedError):
        torch.nn.functional.rms_norm(torch.ones(2, 4, dtype=torch.long), (4,))
