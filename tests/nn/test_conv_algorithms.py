"""The three convolution algorithms (im2col, fft, direct): same values and gradients, and gradchecks."""

import numpy as np
import pytest

import soma
import soma.nn.functional as F
from soma.autograd import gradcheck
from soma.nn.functional.conv_algorithms import ConvGeometry, Im2col

ALGORITHMS = ["im2col", "fft", "direct"]

# (input shape, weight shape, keyword arguments): odd sizes, stride > kernel, dilation, groups
CASES = [
    ((2, 3, 7, 9), (4, 3, 3, 2), {}),
    ((2, 4, 9, 8), (6, 2, 3, 3), dict(stride=2, padding=(1, 2), dilation=(2, 1), groups=2)),
    ((1, 16, 9, 8), (5, 16, 3, 3), dict(stride=(3, 4), padding=1)),  # channels-last im2col layout
    ((2, 3, 9, 8), (6, 3, 4, 3), dict(padding="same", dilation=2)),
    ((3, 2, 11, 10), (2, 2, 2, 2), dict(stride=3)),  # stride > kernel: rows never read
    ((2, 4, 6, 7), (4, 1, 3, 3), dict(padding=1, groups=4)),  # depthwise
]


def _run(algorithm, x, w, b, kwargs, grad):
    xs, ws, bs = (soma.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xs, ws, bs, algorithm=algorithm, **kwargs)
    (out * soma.tensor(grad)).sum().backward()
    return out.detach().numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CASES)
def test_algorithms_agree_float64(x_shape, w_shape, kwargs):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    shape = F.conv2d(soma.tensor(x), soma.tensor(w), **kwargs).shape
    grad = rng.standard_normal(shape)
    results = {name: _run(name, x, w, b, kwargs, grad) for name in ALGORITHMS}
    for name in ("fft", "direct"):
        for got, want, what in zip(results[name], results["im2col"], ("output", "dx", "dw", "db")):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=f"{name} {what}")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_algorithms_agree_float32_with_float64(algorithm):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 10, 10)), rng.standard_normal((5, 3, 3, 3))
    want = F.conv2d(soma.tensor(x), soma.tensor(w), padding=1, algorithm="direct").numpy()
    got = F.conv2d(soma.tensor(x.astype(np.float32)), soma.tensor(w.astype(np.float32)), padding=1,
                   algorithm=algorithm)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1, dilation=2), dict(groups=2, padding=(0, 1))])
def test_conv2d_gradcheck(algorithm, kwargs):
    rng = np.random.default_rng(3)
    x = soma.tensor(rng.standard_normal((2, 4, 7, 6)), requires_grad=True)
    w = soma.tensor(rng.standard_normal((4, 4 // kwargs.get("groups", 1), 3, 2)), requires_grad=True)
    b = soma.tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, algorithm=algorithm, **kwargs), (x, w, b))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_conv_transpose2d_gradcheck(algorithm):
    rng = np.random.default_rng(4)
    x = soma.tensor(rng.standard_normal((2, 4, 4, 3)), requires_grad=True)
    w = soma.tensor(rng.standard_normal((4, 3, 3, 2)), requires_grad=True)
    b = soma.tensor(rng.standard_normal(6), requires_grad=True)
    fn = lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2,  # noqa: E731
                                            algorithm=algorithm)
    assert gradcheck(fn, (x, w, b))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_conv1d_gradcheck(algorithm):
    rng = np.random.default_rng(5)
    x = soma.tensor(rng.standard_normal((2, 3, 11)), requires_grad=True)
    w = soma.tensor(rng.standard_normal((4, 3, 3)), requires_grad=True)
    assert gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=2, dilation=2, algorithm=algorithm), (x, w))


def test_im2col_is_one_strided_view():
    """The windows are a view of the input (no copy) with the receptive field of each output."""
    x = np.arange(2 * 3 * 5 * 6, dtype=np.float64).reshape(2, 3, 5, 6)
    geom = ConvGeometry(x.shape, (4, 3, 2, 3), stride=(2, 1), dilation=(1, 2), groups=1)
    windows = Im2col.windows(x, geom)
    assert np.shares_memory(windows, x)
    assert windows.shape == (2, 3, 2, 2, 2, 3)
    np.testing.assert_array_equal(windows[1, 2, 1, 0], x[1, 2, 2:4, 0:5:2])


def test_auto_uses_fft_for_large_kernels_and_gives_same_numbers():
    from soma.nn.functional.conv import _pick
    from soma.nn.functional.conv_algorithms import FFT, Im2col

    assert _pick("auto", (7, 7), (1, 1), "conv2d") is FFT
    assert _pick("auto", (7, 7), (2, 2), "conv2d") is Im2col
    assert _pick("auto", (3, 3), (1, 1), "conv2d") is Im2col
    rng = np.random.default_rng(6)
    x, w = soma.tensor(rng.standard_normal((1, 2, 20, 20))), soma.tensor(rng.standard_normal((3, 2, 7, 7)))
    np.testing.assert_allclose(F.conv2d(x, w).numpy(), F.conv2d(x, w, algorithm="im2col").numpy(), rtol=1e-10)


def test_unknown_algorithm_is_rejected():
    with pytest.raises(ValueError, match="algorithm must be"):
        F.conv2d(soma.randn(1, 1, 4, 4), soma.randn(1, 1, 2, 2), algorithm="winograd")
