"""F.unfold/F.fold (nn.Unfold/Fold), F.interpolate's modes (nn.Upsample), F.pixel_shuffle/unshuffle
(nn.PixelShuffle/Unshuffle) against PyTorch: values, input gradients, float64 gradchecks, errors."""

import numpy as np
import pytest
import torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from helpers import check_against_torch, random_array
from soma.autograd import gradcheck

TF = torch.nn.functional

FOLDS = [
    dict(kernel_size=3),
    dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 3)),
    dict(kernel_size=2, stride=2),
    dict(kernel_size=(1, 4), padding=1, dilation=2),
]


@pytest.mark.parametrize("kwargs", FOLDS, ids=range(len(FOLDS)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unfold_and_fold_match_torch(kwargs, dtype):
    x = random_array((2, 3, 7, 6), dtype=dtype)
    cols = check_against_torch(lambda t: F.unfold(t, **kwargs), lambda t: TF.unfold(t, **kwargs), [x])[0]
    blocks = random_array(tuple(cols.shape), dtype=dtype, seed=1)
    check_against_torch(lambda t: F.fold(t, (7, 6), **kwargs), lambda t: TF.fold(t, (7, 6), **kwargs), [blocks])
    check_against_torch(lambda t: nn.Unfold(**kwargs)(t), lambda t: torch.nn.Unfold(**kwargs)(t), [x])
    check_against_torch(lambda t: nn.Fold((7, 6), **kwargs)(t), lambda t: torch.nn.Fold((7, 6), **kwargs)(t),
                        [blocks])


def test_unbatched_inputs_and_gradcheck():
    x = random_array((3, 5, 4))
    check_against_torch(lambda t: F.unfold(t, 2, padding=1), lambda t: TF.unfold(t, 2, padding=1), [x])
    cols = random_array((12, 30), seed=2)
    check_against_torch(lambda t: F.fold(t, (5, 4), 2, padding=1), lambda t: TF.fold(t, (5, 4), 2, padding=1),
                        [cols])
    assert gradcheck(lambda t: F.unfold(t, (2, 3), stride=(1, 2), padding=1),
                     (soma.tensor(random_array((1, 2, 4, 5)), requires_grad=True),))
    assert gradcheck(lambda t: F.fold(t, (4, 5), (2, 3), stride=(1, 2), padding=1),
                     (soma.tensor(random_array((1, 12, 15)), requires_grad=True),))


def test_convolution_is_a_matrix_product_of_the_unfolded_input():
    """The notes' convolution: unfold, multiply by the flattened kernels, reshape."""
    conv = nn.Conv2d(3, 4, 3, padding=1).double()
    x = soma.tensor(random_array((2, 3, 6, 5)))
    cols = nn.Unfold(3, padding=1)(x)
    y = (conv.weight.view(4, -1) @ cols).view(2, 4, 6, 5) + conv.bias.view(1, 4, 1, 1)
    np.testing.assert_allclose(y.detach().numpy(), conv(x).detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call,error,match", [
    (lambda: F.unfold(soma.randn(2, 3), 2), RuntimeError, "3-D .unbatched. or 4-D"),
    (lambda: F.unfold(soma.randn(1, 1, 2, 2), 3), RuntimeError, "no complete block"),
    (lambda: F.unfold(soma.randn(1, 1, 4, 4), 2, stride=0), RuntimeError, "stride must be positive"),
    (lambda: F.fold(soma.randn(1, 5, 4), (3, 3), 2), RuntimeError, "divisible by the product of kernel_size"),
    (lambda: F.fold(soma.randn(1, 4, 5), (3, 3), 2), RuntimeError, "number of sliding blocks 2 \\* 2 = 4"),
])
def test_fold_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


MODES = [
    ((2, 3, 5, 7), dict(size=(8, 4), mode="bilinear")),
    ((2, 3, 5, 7), dict(size=(8, 4), mode="bilinear", align_corners=True)),
    ((2, 3, 5, 7), dict(scale_factor=1.7, mode="bilinear")),
    ((2, 3, 5, 7), dict(scale_factor=(0.5, 1.5), mode="bilinear", recompute_scale_factor=True)),
    ((2, 3, 5, 7), dict(scale_factor=(2.3, 0.6), mode="bicubic")),
    ((2, 3, 5, 7), dict(size=(9, 3), mode="bicubic", align_corners=True)),
    ((2, 3, 4, 4), dict(scale_factor=2, mode="bicubic")),
    ((2, 3, 6), dict(size=11, mode="linear")),
    ((2, 3, 6), dict(scale_factor=0.5, mode="linear", align_corners=True)),
    ((1, 2, 3, 4, 5), dict(size=(5, 2, 7), mode="trilinear")),
    ((2, 3, 5, 7), dict(scale_factor=1.7, mode="nearest")),
    ((2, 3, 5, 7), dict(size=(9, 4), mode="nearest-exact")),
    ((2, 3, 5, 7), dict(size=(3, 2), mode="area")),
    ((2, 3, 1, 7), dict(size=(4, 7), mode="bilinear", align_corners=True)),
    ((2, 3, 5, 7), dict(size=(1, 1), mode="bicubic", align_corners=True)),
]


@pytest.mark.parametrize("shape,kwargs", MODES, ids=[f"{k['mode']}-{i}" for i, (_, k) in enumerate(MODES)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_interpolate_matches_torch(shape, kwargs, dtype):
    x = random_array(shape, dtype=dtype)
    check_against_torch(lambda t: F.interpolate(t, **kwargs), lambda t: TF.interpolate(t, **kwargs), [x])
    mode, rest = kwargs["mode"], {k: v for k, v in kwargs.items() if k not in ("mode", "recompute_scale_factor")}
    if "size" in rest or "scale_factor" in rest:
        check_against_torch(lambda t: nn.Upsample(mode=mode, **rest)(t),
                            lambda t: torch.nn.Upsample(mode=mode, **rest)(t), [x])


@pytest.mark.parametrize("mode,shape", [("bilinear", (1, 2, 3, 4)), ("bicubic", (1, 2, 3, 4)), ("linear", (1, 2, 5)),
                                        ("trilinear", (1, 1, 2, 3, 2))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_gradcheck(mode, shape, align_corners):
    x = soma.tensor(random_array(shape), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode=mode, align_corners=align_corners), (x,))


def test_upsampling_bilinear2d_is_align_corners():
    x = random_array((1, 2, 3, 4))
    check_against_torch(lambda t: nn.UpsamplingBilinear2d(scale_factor=2)(t),
                        lambda t: torch.nn.UpsamplingBilinear2d(scale_factor=2)(t), [x])


@pytest.mark.parametrize("call,error,match", [
    (lambda x: F.interpolate(x, size=4, mode="bilinear"), NotImplementedError, "3D input, but bilinear mode needs 4D"),
    (lambda x: F.interpolate(x, size=4, mode="nearest", align_corners=True), ValueError, "align_corners option"),
    (lambda x: F.interpolate(x, size=4, scale_factor=2), ValueError, "exactly one"),
    (lambda x: F.interpolate(x, mode="linear"), ValueError, "exactly one"),
    (lambda x: F.interpolate(x, size=(4, 4), mode="linear"), ValueError, "spatial dimensions"),
    (lambda x: F.interpolate(x, scale_factor=0.1, mode="linear"), ValueError, "must be positive"),
    (lambda x: F.interpolate(x, size=4, mode="cubic"), NotImplementedError, "mode 'cubic' is not supported"),
    (lambda x: F.interpolate(x, size=4, mode="linear", antialias=True), NotImplementedError, "antialias"),
    (lambda x: F.interpolate(x.numpy(), size=4), TypeError, "must be Tensor"),
])
def test_interpolate_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(soma.randn(1, 2, 5))


@pytest.mark.parametrize("shape,r", [((2, 8, 3, 4), 2), ((9, 2, 3), 3), ((2, 1, 4, 2, 2), 2)])
def test_pixel_shuffle_and_unshuffle_match_torch(shape, r):
    x = random_array(shape)
    y = check_against_torch(lambda t: nn.PixelShuffle(r)(t), lambda t: torch.nn.PixelShuffle(r)(t), [x])[0]
    check_against_torch(lambda t: nn.PixelUnshuffle(r)(t), lambda t: torch.nn.PixelUnshuffle(r)(t),
                        [y.detach().numpy()])
    np.testing.assert_array_equal(F.pixel_unshuffle(y, r).detach().numpy(), x)


def test_pixel_shuffle_errors():
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(soma.randn(1, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match="divisible by downscale_factor"):
        F.pixel_unshuffle(soma.randn(1, 1, 3, 4), 2)
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(soma.randn(4, 4), 2)
    with pytest.raises(ValueError, match="positive integer"):
        nn.PixelShuffle(0)(soma.randn(1, 4, 2, 2))


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 2, 6), dict(scale_factor=2.5, mode="linear")),
    ((2, 2, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((2, 2, 4, 5), dict(scale_factor=1.5, mode="bicubic", align_corners=True)),
    ((1, 2, 3, 4, 3), dict(scale_factor=2, mode="trilinear")),
])
def test_interpolate_nan_and_inf_reach_only_their_taps_like_torch(shape, kwargs):
    # (a dense resize-matrix product would multiply them by the matrix's zeros and spread NaN over the whole axis)
    x = random_array(shape, np.float32)
    x.flat[[1, x.size // 2]] = [np.nan, np.inf]
    with np.errstate(invalid="ignore"):
        out = check_against_torch(lambda t: F.interpolate(t, **kwargs), lambda t: TF.interpolate(t, **kwargs), [x],
                                  atol=1e-5)
    assert np.isfinite(out[0].detach().numpy()).mean() > 0.3


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8])
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "area"])
def test_interpolate_integers_raise_not_implemented_like_torch(dtype, mode):
    x = soma.tensor(np.ones((1, 2, 3, 4), dtype))
    with pytest.raises(NotImplementedError, match="interpolate: mode .* not implemented for dtype"):
        F.interpolate(x, scale_factor=2, mode=mode)
    with pytest.raises(NotImplementedError):
        TF.interpolate(torch.ones(1, 2, 3, 4, dtype=getattr(torch, np.dtype(dtype).name)), scale_factor=2, mode=mode)
    check_against_torch(lambda t: F.interpolate(t, scale_factor=2), lambda t: TF.interpolate(t, scale_factor=2),
                        [np.arange(24, dtype=np.uint8).reshape(1, 2, 3, 4)])  # uint8 resizes by nearest


def test_interpolate_checks_the_size_before_the_mode_like_torch():
    with pytest.raises(ValueError, match="1 spatial dimensions but size has 2"):  # not the mode's 4-D rule
        F.interpolate(soma.randn(2, 3, 4), size=(5, 7), mode="bilinear")
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        TF.interpolate(torch.randn(2, 3, 4), size=(5, 7), mode="bilinear")


@pytest.mark.parametrize("call", [lambda x: F.unfold(x, 2), lambda x: F.fold(x.reshape(1, 8, 3), (2, 4), 2)])
def test_fold_and_unfold_refuse_integers_like_torch(call):
    with pytest.raises(NotImplementedError, match="fold: not implemented for dtype int64"):
        call(soma.tensor(np.ones((1, 2, 2, 6), np.int64)))
