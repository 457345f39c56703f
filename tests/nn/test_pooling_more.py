"""Adaptive max pooling, max unpooling and power-average pooling, against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from tests.helpers import check_against_torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from soma.autograd import gradcheck


def _ties_and_nan(shape, dtype, seed, nan=False):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    x[..., 0, 0] = x[..., 0, 1]  # a tie: the first maximum wins
    x[..., -1, :2] = x.max()  # another, across rows
    if nan:
        x[0, 0, 1, 1] = x[0, 0, 2, 0] = np.nan  # the last NaN of its bin wins
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, size", [((2, 3, 8, 6), (4, 3)), ((2, 3, 6, 8), (2, 4)), ((2, 3, 7, 5), (3, 2)), ((3, 7, 5), (None, 2)),
                                         ((1, 2, 5, 5), (7, 6)), ((2, 2, 3, 4), 1), ((2, 1, 4, 4), (4, 4))])
def test_adaptive_max_pool2d_matches_torch(shape, size, dtype):
    x = _ties_and_nan(shape, dtype, seed=sum(shape))
    check_against_torch(lambda t: F.adaptive_max_pool2d(t, size, return_indices=True),
                        lambda t: TF.adaptive_max_pool2d(t, size, return_indices=True), [x])


def test_adaptive_max_pool2d_nan_picks_the_last_nan_of_a_bin():
    x = _ties_and_nan((1, 2, 6, 6), np.float64, seed=0, nan=True)
    for size in [(1, 1), (2, 2), (4, 5), (3, 3)]:
        ours = F.adaptive_max_pool2d(soma.tensor(x), size, return_indices=True)
        theirs = TF.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
        np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


@pytest.mark.parametrize("shape, size", [((2, 3, 9), 4), ((3, 8), 4), ((2, 2, 5), 7), ((1, 2, 6), (3,))])
def test_adaptive_max_pool1d_matches_torch(shape, size):
    x = np.random.default_rng(1).standard_normal(shape)
    x[..., 1] = x[..., 0]
    check_against_torch(lambda t: F.adaptive_max_pool1d(t, size, return_indices=True),
                        lambda t: TF.adaptive_max_pool1d(t, size, return_indices=True), [x])
    check_against_torch(lambda t: F.adaptive_max_pool1d_with_indices(t, size)[0],
                        lambda t: TF.adaptive_max_pool1d_with_indices(t, size)[0], [x])


def test_adaptive_max_pool_modules_and_gradcheck():
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6))
    ours, theirs = nn.AdaptiveMaxPool2d((3, None), return_indices=True), torch.nn.AdaptiveMaxPool2d((3, None), True)
    assert repr(ours) == repr(theirs)
    check_against_torch(ours, theirs, [x])
    check_against_torch(nn.AdaptiveMaxPool1d(4), torch.nn.AdaptiveMaxPool1d(4), [x[0]])
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 4)), soma.tensor(x, requires_grad=True))
    assert gradcheck(lambda t: F.adaptive_max_pool1d(t, 4), soma.tensor(x[0], requires_grad=True))


def test_adaptive_max_pool_bad_input_fails_as_torch():
    with pytest.raises(RuntimeError, match=r"Expected 3D or 4D tensor, but got: \[4, 4\]"):
        F.adaptive_max_pool2d(soma.zeros(4, 4), 2)
    with pytest.raises(RuntimeError, match="non-zero size for non-batch dimensions.*dimension 2 being empty"):
        F.adaptive_max_pool2d(soma.zeros(1, 1, 0, 4), 2)
    with pytest.raises(RuntimeError, match="Expected 2D or 3D tensor"):
        F.adaptive_max_pool1d(soma.zeros(1, 1, 1, 4), 2)
    with pytest.raises((TypeError, RuntimeError, NotImplementedError)):
        F.adaptive_max_pool2d(soma.zeros(1, 1, 4, 4, dtype=soma.int64), 2)
    empty = F.adaptive_max_pool2d(soma.zeros(0, 3, 4, 4), 2, return_indices=True)
    assert tuple(empty[0].shape) == tuple(empty[1].shape) == (0, 3, 2, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, stride, padding, hw, output_size", [
    (2, None, 0, (6, 8), None), (2, None, 0, (7, 7), (7, 7)), (3, 2, 1, (9, 7), None), ((2, 3), (2, 1), 0, (6, 9), None),
    (2, None, 0, (6, 7), [2, 3, 6, 7])])
def test_max_unpool2d_inverts_max_pool2d_as_torch(kernel, stride, padding, hw, output_size, dtype):
    x = np.random.default_rng(3).standard_normal((2, 3, *hw)).astype(dtype)
    values, indices = TF.max_pool2d(torch.tensor(x), kernel, stride, padding, return_indices=True)
    check_against_torch(lambda v, i: F.max_unpool2d(v, i, kernel, stride, padding, output_size),
                        lambda v, i: TF.max_unpool2d(v, i, kernel, stride, padding, output_size),
                        [values.numpy(), indices.numpy()])


def test_max_unpool1d_and_modules():
    x = np.random.default_rng(4).standard_normal((2, 3, 10))
    values, indices = TF.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    for output_size in [(10,), (2, 3, 10)]:
        check_against_torch(lambda v, i, size=output_size: F.max_unpool1d(v, i, 3, 2, 1, size),
                            lambda v, i, size=output_size: TF.max_unpool1d(v, i, 3, 2, 1, size),
                            [values.numpy(), indices.numpy()])
    ours, theirs = nn.MaxUnpool1d(3, stride=2, padding=1), torch.nn.MaxUnpool1d(3, stride=2, padding=1)
    assert repr(ours) == repr(theirs) and repr(nn.MaxUnpool2d(2)) == repr(torch.nn.MaxUnpool2d(2))
    check_against_torch(lambda v, i: ours(v, i, output_size=[10]), lambda v, i: theirs(v, i, output_size=[10]),
                        [values.numpy()[0], indices.numpy()[0]])  # unbatched
    pooled, where = nn.MaxPool2d(2, return_indices=True)(soma.tensor(x.reshape(2, 3, 2, 5)[..., :4]))
    assert gradcheck(lambda v: F.max_unpool2d(v, where, 2), pooled.detach().requires_grad_())


def test_max_unpool_bad_input_fails_as_torch():
    values, indices = soma.ones(1, 1, 2, 2), soma.tensor([[[[0, 3], [8, 16]]]])
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: 16 \(output volumes are of size 4x4\)"):
        F.max_unpool2d(values, indices, 2)
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: 9 \(output volumes are of size 9x1\)"):
        F.max_unpool1d(soma.ones(1, 5), soma.tensor([[0, 2, 4, 6, 9]]), 3, 2, 1)
    with pytest.raises(ValueError, match=r'invalid output_size "\(7, 7\)" \(dim 0 must be between 2 and 6\)'):
        F.max_unpool2d(values, soma.tensor([[[[0, 3], [8, 15]]]]), 2, output_size=(7, 7))
    with pytest.raises(ValueError, match="output_size should be a sequence containing 2 or 4 elements"):
        F.max_unpool2d(values, soma.tensor([[[[0, 3], [8, 15]]]]), 2, output_size=(1, 4, 4))
    with pytest.raises(RuntimeError, match=r"indices \(1, 1, 2\)"):
        F.max_unpool2d(values, soma.tensor([[[0, 3]]]), 2)


@pytest.mark.parametrize("norm_type", [1, 2, 3, 1.5, float("inf"), -float("inf")])
@pytest.mark.parametrize("stride, ceil_mode", [(None, False), (1, True), ((2, 1), True)])
def test_lp_pool2d_matches_torch(norm_type, stride, ceil_mode):
    x = np.random.default_rng(5).standard_normal((2, 2, 5, 6))
    if norm_type in (1.5, 3):
        x = np.abs(x)  # a negative window sum to a fractional power is NaN in both; keep the numbers finite
    check_against_torch(lambda t: F.lp_pool2d(t, norm_type, (2, 3), stride, ceil_mode),
                        lambda t: TF.lp_pool2d(t, norm_type, (2, 3), stride, ceil_mode), [x])


def test_lp_pool1d_modules_and_gradcheck():
    x = np.random.default_rng(6).standard_normal((2, 3, 9))
    for p in (1, 2):
        check_against_torch(lambda t, p=p: F.lp_pool1d(t, p, 3, 2), lambda t, p=p: TF.lp_pool1d(t, p, 3, 2), [x])
    ours, theirs = nn.LPPool1d(2, 3, stride=2), torch.nn.LPPool1d(2, 3, stride=2)
    assert repr(ours) == repr(theirs) and repr(nn.LPPool2d(2, 3)) == repr(torch.nn.LPPool2d(2, 3))
    check_against_torch(ours, theirs, [x])
    check_against_torch(nn.LPPool2d(2, 2), torch.nn.LPPool2d(2, 2), [x.reshape(2, 3, 3, 3)])
    assert gradcheck(lambda t: F.lp_pool2d(t, 2, 2), soma.tensor(x.reshape(2, 3, 3, 3), requires_grad=True))


def test_max_pool_with_indices_always_returns_the_pair():
    x = soma.tensor(np.random.default_rng(7).standard_normal((2, 2, 6, 6)))
    for ours, pool in [(F.max_pool2d_with_indices, F.max_pool2d), (F.max_pool1d_with_indices, F.max_pool1d)]:
        values, indices = ours(x[0], 2)
        expected = pool(x[0], 2, return_indices=True)
        np.testing.assert_array_equal(values.numpy(), expected[0].numpy())
        np.testing.assert_array_equal(indices.numpy(), expected[1].numpy())
