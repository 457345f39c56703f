"""Pooling and nearest upsampling against PyTorch: values, gradients, indices; gradchecks."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import soma
import soma.nn as nn
import soma.nn.functional as F
from helpers import check_against_torch, random_array
from soma.autograd import gradcheck

MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), padding=(1, 1)),
    dict(kernel_size=2, stride=3, ceil_mode=True),  # stride > kernel
    dict(kernel_size=3, stride=1),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", MAX_CASES)
def test_max_pool2d_matches_torch(kwargs, dtype):
    x = random_array((2, 3, 9, 11), dtype)
    check_against_torch(lambda t: F.max_pool2d(t, **kwargs), lambda t: TF.max_pool2d(t, **kwargs), [x])
    module = nn.MaxPool2d(**kwargs, return_indices=True)
    out, index = module(soma.tensor(x))
    ref_out, ref_index = TF.max_pool2d(torch.tensor(x), **kwargs, return_indices=True)
    np.testing.assert_array_equal(index.numpy(), ref_index.numpy())
    assert index.dtype == np.int64 and not index.requires_grad
    np.testing.assert_array_equal(out.numpy(), ref_out.numpy())


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_like_torch():
    x = np.maximum(random_array((2, 2, 6, 6)), 0)  # ReLU output: windows of equal zeros
    x[0, 0, :2, :2] = 1.5
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        check_against_torch(lambda t, k=kwargs: F.max_pool2d(t, **k), lambda t, k=kwargs: TF.max_pool2d(t, **k), [x])


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=2, dilation=2), dict(kernel_size=(2, 3), stride=1, padding=(1, 1), ceil_mode=True),
])
@pytest.mark.parametrize("fill", ["constant", "few-values", "nan"])
def test_max_pool_tie_indices_are_torchs(kwargs, fill):
    """With ties PyTorch picks the first maximal element in the window's scan order (rows, then columns):
    all-equal windows, and overlapping windows that share a repeated maximum; with NaNs, the last NaN."""
    rng = np.random.default_rng(3)
    x = np.full((2, 2, 7, 7), 0.5) if fill == "constant" else rng.integers(0, 3, (2, 2, 7, 7)).astype(np.float64)
    if fill == "nan":
        x[rng.random(x.shape) < 0.15] = np.nan
    for pool, ref, data in ((F.max_pool2d, TF.max_pool2d, x), (F.max_pool1d, TF.max_pool1d, x[:, :, 0])):
        k1 = {key: (v[0] if isinstance(v, tuple) else v) for key, v in kwargs.items()} if data.ndim == 3 else kwargs
        out, index = pool(soma.tensor(data), return_indices=True, **k1)
        ref_out, ref_index = ref(torch.tensor(data), return_indices=True, **k1)
        np.testing.assert_array_equal(index.numpy(), ref_index.numpy())
        np.testing.assert_array_equal(out.numpy(), ref_out.numpy())
        check_against_torch(lambda t, k=k1, f=pool: f(t, **k), lambda t, k=k1, f=ref: f(t, **k), [data])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True),
])
def test_avg_pool2d_matches_torch(kwargs, count_include_pad, dtype):
    x = random_array((2, 3, 9, 11), dtype)
    check_against_torch(lambda t: F.avg_pool2d(t, count_include_pad=count_include_pad, **kwargs),
                        lambda t: TF.avg_pool2d(t, count_include_pad=count_include_pad, **kwargs), [x])


def test_avg_pool2d_divisor_override():
    x = random_array((1, 2, 6, 6))
    check_against_torch(lambda t: nn.AvgPool2d(3, 2, 1, divisor_override=4)(t),
                        lambda t: torch.nn.AvgPool2d(3, 2, 1, divisor_override=4)(t), [x])


def test_pool1d_match_torch():
    x = random_array((2, 3, 13))
    check_against_torch(lambda t: nn.MaxPool1d(3, 2, 1)(t), lambda t: torch.nn.MaxPool1d(3, 2, 1)(t), [x])
    check_against_torch(lambda t: nn.MaxPool1d(2, dilation=2, ceil_mode=True)(t),
                        lambda t: torch.nn.MaxPool1d(2, dilation=2, ceil_mode=True)(t), [x])
    check_against_torch(lambda t: nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False)(t),
                        lambda t: torch.nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False)(t), [x])


def test_unbatched_inputs_match_torch():
    x = random_array((3, 7, 8))
    check_against_torch(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x])
    check_against_torch(lambda t: F.avg_pool1d(t, 3), lambda t: TF.avg_pool1d(t, 3), [x])


@pytest.mark.parametrize("output_size", [1, (3, 4), (5, 7), (4, None), (9, 11)])
def test_adaptive_avg_pool2d_matches_torch(output_size):
    x = random_array((2, 3, 9, 11))
    check_against_torch(lambda t: nn.AdaptiveAvgPool2d(output_size)(t),
                        lambda t: torch.nn.AdaptiveAvgPool2d(output_size)(t), [x])
    check_against_torch(lambda t: F.adaptive_avg_pool2d(t, output_size),
                        lambda t: TF.adaptive_avg_pool2d(t, output_size), [x.astype(np.float32)])


def test_adaptive_avg_pool1d_matches_torch():
    x = random_array((2, 3, 10))
    check_against_torch(lambda t: nn.AdaptiveAvgPool1d(4)(t), lambda t: torch.nn.AdaptiveAvgPool1d(4)(t), [x])


@pytest.mark.parametrize("kwargs", [
    dict(scale_factor=2), dict(size=(5, 7)), dict(scale_factor=1.7), dict(size=(20, 23)), dict(scale_factor=(0.5, 3)),
])
def test_interpolate_nearest_matches_torch(kwargs):
    for dtype in (np.float64, np.float32):
        x = random_array((2, 3, 9, 11), dtype)
        check_against_torch(lambda t: F.interpolate(t, **kwargs), lambda t: TF.interpolate(t, **kwargs), [x])
    check_against_torch(lambda t: nn.Upsample(**kwargs)(t), lambda t: torch.nn.Upsample(**kwargs)(t), [x])


def test_interpolate_1d_matches_torch():
    x = random_array((2, 3, 7))
    check_against_torch(lambda t: F.interpolate(t, size=12), lambda t: TF.interpolate(t, size=12), [x])
    check_against_torch(lambda t: F.interpolate(t, scale_factor=3), lambda t: TF.interpolate(t, scale_factor=3), [x])


@pytest.mark.parametrize("fn", [
    lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True),
    lambda t: F.max_pool2d(t, 2, 1, dilation=2),
    lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False),
    lambda t: F.adaptive_avg_pool2d(t, (3, 2)),
    lambda t: F.adaptive_avg_pool2d(t, (4, 5)),  # overlapping bins
    lambda t: F.adaptive_avg_pool1d(t[0], 4),
    lambda t: F.interpolate(t, scale_factor=1.5),
])
def test_pooling_gradcheck(fn):
    x = soma.tensor(random_array((2, 2, 7, 6)), requires_grad=True)
    assert gradcheck(fn, (x,))


def test_pooling_bad_inputs_fail_early():
    with pytest.raises(RuntimeError, match=r"max_pool2d: expected a 3-D or 4-D input, got input of shape \(5, 5\)"):
        F.max_pool2d(soma.randn(5, 5), 2)
    with pytest.raises(ValueError, match="at most half of the kernel"):
        F.max_pool2d(soma.randn(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        F.avg_pool2d(soma.randn(1, 1, 2, 2), 3)
    with pytest.raises(NotImplementedError, match="mode 'bogus' is not supported"):
        nn.Upsample(scale_factor=2, mode="bogus")(soma.randn(1, 1, 2, 2))
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3), dict(kernel_size=2, stride=1, padding=1),
                                    dict(kernel_size=3, ceil_mode=True, padding=1, count_include_pad=False),
                                    dict(kernel_size=2, divisor_override=3)])
def test_avg_pool_int64_averages_into_int64_like_torch(kwargs):
    x = np.random.default_rng(0).integers(-9, 9, (2, 3, 5, 7))  # negative sums: the quotient truncates toward 0
    check_against_torch(lambda t: F.avg_pool2d(t, **kwargs), lambda t: TF.avg_pool2d(t, **kwargs), [x])
    kwargs.pop("divisor_override", None)
    check_against_torch(lambda t: F.avg_pool1d(t, **kwargs), lambda t: TF.avg_pool1d(t, **kwargs), [x[0]])
    check_against_torch(lambda t: nn.AvgPool2d(**kwargs)(t), lambda t: torch.nn.AvgPool2d(**kwargs)(t), [x])


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.bool_])
def test_avg_pool_other_integers_raise_like_torch(dtype):
    x = soma.tensor(np.ones((1, 2, 4, 4), dtype))
    with pytest.raises(NotImplementedError, match="avg_pool2d: not implemented for dtype"):
        F.avg_pool2d(x, 2)
    with pytest.raises(NotImplementedError, match="avg_pool1d: not implemented for dtype"):
        F.avg_pool1d(x[0], 2)


@pytest.mark.parametrize("size, output_size", [((5, 7), (2, 3)), ((6, 4), (3, 2)), ((5, 4), 2), ((7, 9), (7, 4))])
def test_adaptive_avg_pool_nan_and_inf_reach_only_their_bins_like_torch(size, output_size):
    x = random_array((2, 2) + size, np.float32)
    x[0, 0, 1, 2], x[1, 1, -1, 0], x[1, 0, 0, 0], x[1, 0, 0, 1] = np.nan, np.inf, np.inf, -np.inf
    check_against_torch(lambda t: F.adaptive_avg_pool2d(t, output_size),
                        lambda t: TF.adaptive_avg_pool2d(t, output_size), [x])
    length = output_size[-1] if isinstance(output_size, tuple) else output_size
    check_against_torch(lambda t: nn.AdaptiveAvgPool1d(length)(t), lambda t: torch.nn.AdaptiveAvgPool1d(length)(t),
                        [x[:, :, 0]])


def test_max_pool_backward_keeps_a_nan_gradient_at_the_winner():
    """NaN upstream reaches only each window's winner, as torch's (NaN·0 used to fill every cell)."""
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    g = np.ones((1, 1, 2, 2))
    g[0, 0, 0, 1] = np.nan
    for kernel, stride in ((2, 2), (3, 1)):
        gs = np.ones((1, 1, 2, 2)) if stride == 1 else g
        if stride == 1:
            gs[0, 0, 0, 1] = np.nan
        xs, xt = soma.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        soma.nn.functional.max_pool2d(xs, kernel, stride).backward(soma.tensor(gs))
        torch.nn.functional.max_pool2d(xt, kernel, stride).backward(torch.tensor(gs))
        np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("channels", [6, 16])
def test_conv_pool_flatten_chain_in_mixed_memory_orders_matches_torch(channels):
    """A conv's output is channels-last in memory from 16 channels on; its pooling then meets an NCHW gradient
    from Flatten (converted to the maps' order) and ties from a ReLU. The numbers must not depend on any of it."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2, 9, 9))
    w = rng.standard_normal((channels, 2, 3, 3))
    w[:, :, 1] = 0  # many equal outputs after the ReLU: ties inside the 2×2 windows

    def chain(F_, t, weight):
        return F_.max_pool2d(F_.relu(F_.conv2d(t, weight, padding=1)), 2).flatten(1) * 3

    check_against_torch(lambda t, u: chain(F, t, u), lambda t, u: chain(TF, t, u), [x, w])
