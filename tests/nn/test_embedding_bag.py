"""F.embedding_bag / nn.EmbeddingBag and F.channel_shuffle / nn.ChannelShuffle, against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from tests.helpers import check_against_torch

import soma
import soma.nn as nn
import soma.nn.functional as F
from soma.autograd import gradcheck

INDICES = np.array([1, 2, 4, 5, 4, 3, 2, 9, 4, 4])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets, include_last_offset", [([0, 4, 4, 7], False), ([0, 3, 10], True), ([0], False),
                                                          ([0, 4, 4], True), ([0, 10], False)])
@pytest.mark.parametrize("padding_idx", [None, 4, -6])
def test_1d_bags_match_torch(mode, offsets, include_last_offset, padding_idx):
    table = np.random.default_rng(0).standard_normal((10, 3))
    kwargs = dict(mode=mode, include_last_offset=include_last_offset, padding_idx=padding_idx)
    check_against_torch(lambda w: F.embedding_bag(soma.tensor(INDICES), w, soma.tensor(offsets), **kwargs),
                        lambda w: TF.embedding_bag(torch.tensor(INDICES), w, torch.tensor(offsets), **kwargs), [table])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_2d_bags_match_torch(mode, dtype):
    rng = np.random.default_rng(1)
    table, index = rng.standard_normal((10, 4)).astype(dtype), rng.integers(0, 10, (5, 3))
    check_against_torch(lambda w: F.embedding_bag(soma.tensor(index), w, mode=mode),
                        lambda w: TF.embedding_bag(torch.tensor(index), w, mode=mode), [table])


def test_per_sample_weights_get_gradients_and_padding_is_left_out():
    rng = np.random.default_rng(2)
    table, weights = rng.standard_normal((10, 3)), rng.standard_normal(INDICES.shape)
    offsets = [0, 4, 4, 7]
    check_against_torch(
        lambda w, s: F.embedding_bag(soma.tensor(INDICES), w, soma.tensor(offsets), mode="sum", per_sample_weights=s,
                                     padding_idx=4),
        lambda w, s: TF.embedding_bag(torch.tensor(INDICES), w, torch.tensor(offsets), mode="sum",
                                      per_sample_weights=s, padding_idx=4), [table, weights])
    assert gradcheck(lambda w, s: F.embedding_bag(soma.tensor(INDICES), w, soma.tensor(offsets), mode="sum",
                                                  per_sample_weights=s),
                     (soma.tensor(table, requires_grad=True), soma.tensor(weights, requires_grad=True)))
    assert gradcheck(lambda w: F.embedding_bag(soma.tensor(INDICES), w, soma.tensor(offsets), mode="mean"),
                     soma.tensor(table, requires_grad=True))


def test_the_module_as_torch():
    ours, theirs = nn.EmbeddingBag(10, 3, mode="max", padding_idx=2), torch.nn.EmbeddingBag(10, 3, mode="max",
                                                                                          padding_idx=2)
    assert repr(ours) == repr(theirs) and ours.weight[2].abs().sum().item() == 0
    assert repr(nn.EmbeddingBag(10, 3, max_norm=1.0, norm_type=3, scale_grad_by_freq=True)) == repr(
        torch.nn.EmbeddingBag(10, 3, max_norm=1.0, norm_type=3, scale_grad_by_freq=True))
    table = np.random.default_rng(3).standard_normal((10, 3)).astype(np.float32)
    ours = nn.EmbeddingBag.from_pretrained(soma.tensor(table), freeze=False, mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), freeze=False, mode="sum")
    out_ours, out_theirs = ours(soma.tensor(INDICES), soma.tensor([0, 5])), theirs(torch.tensor(INDICES),
                                                                                  torch.tensor([0, 5]))
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(), rtol=1e-6)
    out_ours.sum().backward(), out_theirs.sum().backward()
    np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())
    assert not nn.EmbeddingBag.from_pretrained(soma.tensor(table)).weight.requires_grad
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


def test_bad_input_fails_as_torch():
    table, index = soma.randn(10, 3), soma.tensor(INDICES)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(index, table, soma.tensor([1, 4]))
    with pytest.raises(RuntimeError, match="offsets\\[-1\\] can not be greater than input's length 10"):
        F.embedding_bag(index, table, soma.tensor([0, 11]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(index, table)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(index.reshape(2, 5), table, soma.tensor([0, 5]))
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(index, table, soma.tensor([0]), per_sample_weights=soma.ones(10))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(index, table, soma.tensor([0]), mode="min")
    with pytest.raises(TypeError, match="integer"):
        F.embedding_bag(index.float(), table, soma.tensor([0]))
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding_bag(soma.tensor([11]), table, soma.tensor([0]))
    assert F.embedding_bag(soma.tensor(np.zeros(0, np.int64)), table, soma.tensor([0, 0])).tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 3), ((1, 8, 2, 2), 2), ((2, 4, 1, 2, 3), 4)])
def test_channel_shuffle_matches_torch(shape, groups):
    x = np.random.default_rng(4).standard_normal(shape)
    check_against_torch(lambda t: F.channel_shuffle(t, groups), lambda t: TF.channel_shuffle(t, groups), [x])
    check_against_torch(nn.ChannelShuffle(groups), torch.nn.ChannelShuffle(groups), [x])
    assert repr(nn.ChannelShuffle(groups)) == repr(torch.nn.ChannelShuffle(groups))


def test_channel_shuffle_errors_as_torch():
    with pytest.raises(RuntimeError, match="Got 6 channels and 4 groups"):
        F.channel_shuffle(soma.zeros(1, 6, 2), 4)
    with pytest.raises(RuntimeError, match=r"expects input with > 2 dims, but got input with sizes \[2, 6\]"):
        F.channel_shuffle(soma.zeros(2, 6), 2)
    with pytest.raises(RuntimeError, match="must be positive. Value of groups:0"):
        F.channel_shuffle(soma.zeros(1, 6, 2), 0)
