"""Convolution layers against PyTorch: values and gradients with copied weights, float64 and float32."""

import math

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from helpers import check_against_torch, copy_weights_to_torch, random_array

DTYPES = [np.float64, np.float32]


def _layer_check(soma_layer, torch_layer, x):
    """Same weights in both; compare the output, the input gradient and every parameter gradient."""
    if x.dtype == np.float64:
        soma_layer.to(soma.float64)
        torch_layer.double()
    copy_weights_to_torch(soma_layer, torch_layer)
    check_against_torch(soma_layer, torch_layer, [x])
    grads = {name: p.grad for name, p in torch_layer.named_parameters()}
    tol = dict(rtol=1e-10, atol=1e-10) if x.dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for name, p in soma_layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].numpy(), err_msg=name, **tol)


CONV2D = [
    (dict(in_channels=3, out_channels=4, kernel_size=3), (2, 3, 7, 9)),
    (dict(in_channels=3, out_channels=5, kernel_size=(2, 3), stride=2, padding=1), (3, 3, 9, 8)),
    (dict(in_channels=4, out_channels=6, kernel_size=3, stride=(2, 1), dilation=(1, 2), groups=2), (2, 4, 11, 10)),
    (dict(in_channels=2, out_channels=3, kernel_size=2, stride=4), (2, 2, 9, 11)),  # stride > kernel
    (dict(in_channels=3, out_channels=2, kernel_size=4, padding="same", dilation=2), (1, 3, 8, 7)),
    (dict(in_channels=3, out_channels=2, kernel_size=3, padding="valid", bias=False), (2, 3, 5, 5)),
    (dict(in_channels=6, out_channels=6, kernel_size=3, padding=1, groups=6), (2, 6, 5, 6)),  # depthwise
    (dict(in_channels=16, out_channels=5, kernel_size=3, padding=1), (2, 16, 6, 5)),  # channels-last path
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs, shape", CONV2D)
def test_conv2d_matches_torch(kwargs, shape, dtype):
    _layer_check(nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs), random_array(shape, dtype))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_padding_modes_match_torch(mode, padding):
    kwargs = dict(in_channels=2, out_channels=3, kernel_size=(3, 4), padding=padding, padding_mode=mode)
    _layer_check(nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs), random_array((2, 2, 6, 7)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=4, out_channels=2, kernel_size=4, stride=3, padding=2, dilation=2, groups=2),
    dict(in_channels=3, out_channels=3, kernel_size=4, padding="same", padding_mode="reflect"),
])
def test_conv1d_matches_torch(kwargs, dtype):
    _layer_check(nn.Conv1d(**kwargs), torch.nn.Conv1d(**kwargs), random_array((2, kwargs["in_channels"], 13), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs, shape", [
    (dict(in_channels=3, out_channels=4, kernel_size=3), (2, 3, 5, 4)),
    (dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 5, 6)),
    (dict(in_channels=2, out_channels=3, kernel_size=3, stride=(3, 2), dilation=2, bias=False), (1, 2, 4, 5)),
])
def test_conv_transpose2d_matches_torch(kwargs, shape, dtype):
    _layer_check(nn.ConvTranspose2d(**kwargs), torch.nn.ConvTranspose2d(**kwargs), random_array(shape, dtype))


def test_conv_transpose1d_matches_torch():
    kwargs = dict(in_channels=3, out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1)
    _layer_check(nn.ConvTranspose1d(**kwargs), torch.nn.ConvTranspose1d(**kwargs), random_array((2, 3, 7)))


def test_conv_transpose2d_output_size_picks_output_padding():
    layer, ref = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    copy_weights_to_torch(layer, ref)
    x = random_array((1, 2, 4, 4), np.float32)
    out = layer(soma.tensor(x), output_size=(8, 8))
    assert out.shape == (1, 3, 8, 8)
    np.testing.assert_allclose(out.detach().numpy(), ref(torch.tensor(x), output_size=(8, 8)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="output_size"):
        layer(soma.tensor(x), output_size=(11, 11))


def test_conv_transpose_is_the_input_gradient_of_conv():
    """<conv(x, w), y> = <x, conv_transpose(y, w)>: the two are adjoint."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 3))
    z = F.conv2d(soma.tensor(x), soma.tensor(w), stride=2, padding=1)
    y = rng.standard_normal(z.shape)
    back = F.conv_transpose2d(soma.tensor(y), soma.tensor(w), stride=2, padding=1, output_padding=(0, 1))
    assert back.shape == x.shape
    np.testing.assert_allclose((z.numpy() * y).sum(), (x * back.numpy()).sum(), rtol=1e-10)


def test_functional_forms_match_torch_float32():
    x, w, b = random_array((2, 4, 10, 9), np.float32), random_array((6, 2, 3, 3), np.float32, seed=1), \
        random_array((6,), np.float32, seed=2)
    check_against_torch(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=(1, 0), groups=2),
                        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride=2, padding=(1, 0), groups=2),
                        [x, w, b])
    check_against_torch(lambda x, w: F.conv1d(x[:, :, 0], w[:, :, 0], padding="same", groups=2),
                        lambda x, w: torch.nn.functional.conv1d(x[:, :, 0], w[:, :, 0], padding="same", groups=2),
                        [x, w])


def test_initialization_bounds_and_state_dict_keys():
    layer = nn.Conv2d(4, 8, (3, 5), groups=2)
    bound = 1 / math.sqrt(2 * 3 * 5)  # fan_in = in_channels/groups · kH · kW
    assert layer.weight.shape == (8, 2, 3, 5) and layer.weight.dtype == np.float32
    assert np.abs(layer.weight._array).max() <= bound and np.abs(layer.weight._array).max() > 0.8 * bound
    assert np.abs(layer.bias._array).max() <= bound
    assert list(layer.state_dict()) == ["weight", "bias"]
    transposed = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert transposed.weight.shape == (4, 3, 3, 3)
    assert np.abs(transposed.bias._array).max() <= 1 / math.sqrt(3 * 9)
    assert repr(nn.Conv2d(1, 6, 5)) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"
    assert "padding_mode='reflect'" in repr(nn.Conv2d(1, 6, 5, padding=2, padding_mode="reflect"))


def test_separable_conv_is_the_outer_product_kernel():
    """SeparableConv2d (k×1 then 1×k) equals a Conv2d whose k×k kernel is v·hᵀ (notes 004)."""
    layer = nn.SeparableConv2d(1, 1, 3, padding=1).to(soma.float64)
    v, h = layer.vertical.weight._array[0, 0, :, 0], layer.horizontal.weight._array[0, 0, 0, :]
    x = random_array((2, 1, 7, 6))
    want = F.conv2d(soma.tensor(x), soma.tensor(np.outer(v, h)[None, None]), layer.horizontal.bias, padding=1)
    np.testing.assert_allclose(layer(soma.tensor(x)).detach().numpy(), want.detach().numpy(), rtol=1e-10)
    assert sum(p.numel() for p in layer.parameters()) == 3 + 3 + 1


def test_depthwise_separable_matches_torch_pair():
    layer = nn.DepthwiseSeparableConv2d(3, 8, 3, padding=1, depth_multiplier=2).to(soma.float64)
    ref = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1, groups=3, bias=False), torch.nn.Conv2d(6, 8, 1))
    ref.double()
    ref.load_state_dict({k.replace("depthwise", "0").replace("pointwise", "1"): torch.tensor(v.numpy())
                         for k, v in layer.state_dict().items()})
    check_against_torch(layer, ref, [random_array((2, 3, 6, 5))])
    assert layer.depthwise.weight.shape == (6, 1, 3, 3) and layer.pointwise.weight.shape == (8, 6, 1, 1)


def test_residual_block_matches_torch_composition():
    block = nn.ResidualBlock(3, 5, stride=2).to(soma.float64)
    ref = torch.nn.ModuleDict({
        "body": torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3, 2, 1, bias=False), torch.nn.BatchNorm2d(5),
                                    torch.nn.ReLU(), torch.nn.Conv2d(5, 5, 3, 1, 1, bias=False),
                                    torch.nn.BatchNorm2d(5)),
        "shortcut": torch.nn.Sequential(torch.nn.Conv2d(3, 5, 1, 2, bias=False), torch.nn.BatchNorm2d(5)),
    }).double()
    copy_weights_to_torch(block, ref)
    check_against_torch(block, lambda x: torch.relu(ref["body"](x) + ref["shortcut"](x)), [random_array((2, 3, 7, 6))])
    assert nn.ResidualBlock(4).shortcut is None


def test_residual_block_passes_the_gradient_through_the_identity():
    """∂(F(x) + x)/∂x = ∂F/∂x + I: with F's last weights zero, the gradient is exactly the identity's."""
    block = nn.ResidualBlock(2, batch_norm=False).to(soma.float64)
    with soma.no_grad():
        block.body[2].weight.zero_()
        block.body[2].bias.zero_()
    x = soma.tensor(np.abs(random_array((1, 2, 4, 4))) + 0.1, requires_grad=True)
    block(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones(x.shape))


def test_bad_inputs_fail_early_with_the_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"Conv2d\(in_channels=3\) got input of shape \(8, 1, 28, 28\)"):
        nn.Conv2d(3, 6, 5)(soma.randn(8, 1, 28, 28))
    with pytest.raises(RuntimeError, match=r"Conv1d\(in_channels=2\) got input of shape \(4, 2, 3, 3\)"):
        nn.Conv1d(2, 6, 3)(soma.randn(4, 2, 3, 3))
    with pytest.raises(TypeError, match="float32 parameters but got input of dtype float64"):
        nn.Conv2d(1, 1, 3)(soma.tensor(np.zeros((1, 1, 5, 5))))
    with pytest.raises(RuntimeError, match="smaller than the kernel"):
        F.conv2d(soma.randn(1, 1, 3, 3), soma.randn(1, 1, 5, 5))
    with pytest.raises(RuntimeError, match="groups=2 expects input with 4 channels"):
        F.conv2d(soma.randn(1, 3, 5, 5), soma.randn(2, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 6, 3, padding_mode="mirror")


def _with_nonfinite(shape, seed):
    x = random_array(shape, np.float32, seed=seed)
    x.flat[np.random.default_rng(seed).permutation(x.size)[:2]] = [np.nan, np.inf]
    return x


# (float32 without dilation or groups: PyTorch's oneDNN path, which sums over the output positions that exist; its
# float64/dilated/grouped path multiplies the padding too and gives NaN there; docs/pytorch-parity.md)
@pytest.mark.parametrize("kwargs", [dict(stride=2, padding=1, output_padding=1), dict(padding=1),
                                    dict(stride=3, padding=1), dict(stride=(1, 2), padding=(0, 1))])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conv_transpose2d_inf_input_weight_gradient_like_torch(kwargs, seed):
    # the weight gradient must not multiply the Inf by the cropped-off padding (0·Inf = NaN; PyTorch: Inf)
    x = _with_nonfinite((2, 4, 4, 5), seed)
    w = random_array((4, 3, 3, 3), np.float32, seed=seed + 5)
    with np.errstate(invalid="ignore"):
        check_against_torch(lambda a, b: F.conv_transpose2d(a, b, **kwargs),
                            lambda a, b: torch.nn.functional.conv_transpose2d(a, b, **kwargs), [x, w], atol=1e-5)


@pytest.mark.parametrize("transposed", [False, True])
def test_large_kernel_conv_keeps_a_nan_in_its_windows_like_torch(transposed):
    # a 7×7 kernel picks the FFT, which would spread a NaN over the whole output; soma computes that call by im2col
    x = _with_nonfinite((1, 2, 12, 12), 3)
    w = random_array((2, 2, 7, 7), np.float32, seed=4)
    fn = "conv_transpose2d" if transposed else "conv2d"
    with np.errstate(invalid="ignore"):
        out = check_against_torch(getattr(F, fn), getattr(torch.nn.functional, fn), [x, w], atol=1e-5)
    assert np.isfinite(out[0].detach().numpy()).any()


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape", [(2, 2, 4, 5, 5), (5, 5)])
def test_padding_mode_wrong_dimension_raises_not_implemented_like_torch(mode, shape):
    # PyTorch's F.pad refuses the dimension before the convolution sees it: NotImplementedError (a RuntimeError)
    with pytest.raises(NotImplementedError, match=r"Conv2d\(in_channels=4\) got input of shape"):
        nn.Conv2d(4, 4, 3, padding=1, padding_mode=mode)(soma.randn(*shape))
    with pytest.raises(NotImplementedError):
        torch.nn.Conv2d(4, 4, 3, padding=1, padding_mode=mode)(torch.randn(*shape))
    with pytest.raises(RuntimeError, match="in_channels=4"):  # the wrong channel count stays a RuntimeError
        nn.Conv2d(4, 4, 3, padding=1, padding_mode=mode)(soma.randn(1, 3, 5, 5))


@pytest.mark.parametrize("kwargs", [dict(stride=2, padding=1), dict(stride=(2, 3), padding=(2, 1), dilation=(1, 2)),
                                    dict(padding=1, groups=2), dict(stride=3, dilation=2, groups=2)])
def test_transposed_weight_gradient_over_existing_positions_equals_the_algorithms(kwargs):
    # the tap-by-tap weight gradient taken for non-finite inputs is the same sum as im2col's on finite ones
    from soma.nn.functional import conv as conv_ops
    from soma.nn.functional.conv_algorithms import ALGORITHMS, ConvGeometry, pad_input

    stride, padding = conv_ops._tuple(kwargs.get("stride", 1), 2, "t", "s"), conv_ops._tuple(kwargs.get("padding", 0), 2, "t", "p")
    dilation, groups = conv_ops._tuple(kwargs.get("dilation", 1), 2, "t", "d"), kwargs.get("groups", 1)
    x, w = random_array((2, 4, 4, 5), seed=1), random_array((4, 3, 3, 3), seed=2)
    out = F.conv_transpose2d(soma.tensor(x), soma.tensor(w), **kwargs)
    g = random_array(tuple(out.shape), seed=3)
    full = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(x.shape[2:], stride, dilation, w.shape[2:])]
    geom = ConvGeometry((2, 3 * groups, *full), w.shape, stride, dilation, groups)
    pads = tuple((p, f - n - p) for p, f, n in zip(padding, full, g.shape[2:]))
    expected = ALGORITHMS["im2col"].grad_weight(pad_input(g, pads), x, geom)
    np.testing.assert_allclose(conv_ops._transpose_grad_weight(x, g, geom, padding), expected, rtol=1e-10, atol=1e-10)
