"""Bahdanau (additive) and Luong (dot, general) attention, alone against PyTorch formulas with the same
weights, and inside nn.Seq2Seq (fused and step-by-step paths agree, decoding, learning)."""

import numpy as np
import pytest
import torch

import soma
import soma.nn.functional as F
import soma.optim
from helpers import random_array
from soma import nn
from soma.autograd import gradcheck

N, T, S, H = 3, 4, 5, 6


def _torch_params(module):
    return {n: torch.tensor(p.detach().numpy(), requires_grad=True) for n, p in module.named_parameters()}


def _additive_torch(p, q, k, mask):
    e = (torch.tanh((q @ p["query_proj.weight"].T).unsqueeze(2) + (k @ p["key_proj.weight"].T
                    + p["key_proj.bias"]).unsqueeze(1)) @ p["v.weight"].T).squeeze(-1)
    e = e.masked_fill(mask.unsqueeze(1), float("-inf"))
    a = torch.softmax(e, -1)
    return a @ k, a


def _luong_torch(p, q, k, mask):
    e = q @ (k if "weight.weight" not in p else k @ p["weight.weight"].T).transpose(1, 2)
    a = torch.softmax(e.masked_fill(mask.unsqueeze(1), float("-inf")), -1)
    return a @ k, a


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
@pytest.mark.parametrize("single_query", [False, True])
def test_attention_against_torch(kind, single_query):
    module = (nn.AdditiveAttention(H, H, 7, dtype=np.float64) if kind == "additive"
              else nn.LuongAttention(H, H, kind, dtype=np.float64))
    q_np, k_np = random_array((N, T, H), seed=1), random_array((N, S, H), seed=2)
    mask_np = np.zeros((N, S), bool)
    mask_np[0, -2:] = True
    p = _torch_params(module)
    q, k = soma.tensor(q_np, requires_grad=True), soma.tensor(k_np, requires_grad=True)
    tq, tk = torch.tensor(q_np, requires_grad=True), torch.tensor(k_np, requires_grad=True)
    reference = _additive_torch if kind == "additive" else _luong_torch
    if single_query:
        context, weights = module(q[:, 0], k, soma.tensor(mask_np))
        want_c, want_w = (t[:, 0] for t in reference(p, tq[:, :1], tk, torch.tensor(mask_np)))
    else:
        context, weights = module(q, k, soma.tensor(mask_np))
        want_c, want_w = reference(p, tq, tk, torch.tensor(mask_np))
    np.testing.assert_allclose(weights.detach().numpy(), want_w.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(context.detach().numpy(), want_c.detach().numpy(), rtol=1e-12)
    assert np.all(weights.detach().numpy()[0, ..., -2:] == 0)
    g = random_array(tuple(context.shape), seed=3)
    (context * soma.tensor(g)).sum().backward()
    (want_c * torch.tensor(g)).sum().backward()
    for got, want, name in [(q.grad, tq.grad, "query"), (k.grad, tk.grad, "keys")] + [
            (param.grad, p[n].grad, n) for n, param in module.named_parameters()]:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)


def test_gradcheck_additive():
    module = nn.AdditiveAttention(3, 4, 5, dtype=np.float64)
    q = soma.tensor(random_array((2, 3)), requires_grad=True)
    k = soma.tensor(random_array((2, 4, 4), seed=1), requires_grad=True)
    assert gradcheck(lambda q, k: module(q, k)[0], (q, k))


@pytest.mark.parametrize("attention", ["additive", "dot", "general"])
@pytest.mark.parametrize("rnn", [nn.GRU, nn.LSTM])
def test_seq2seq_with_attention(attention, rnn):
    model = nn.Seq2Seq(10, 12, embedding_dim=8, hidden_size=16, rnn=rnn, attention=attention, dtype=np.float64)
    rng = np.random.default_rng(0)
    src, tgt = soma.tensor(rng.integers(1, 10, (3, 7))), soma.tensor(rng.integers(1, 12, (3, 4)))
    full = model(src, tgt)
    stepwise = model(src, tgt, teacher_forcing_ratio=0.999999999)  # every step forced, one step at a time
    np.testing.assert_allclose(full.detach().numpy(), stepwise.detach().numpy(), rtol=1e-10)
    F.cross_entropy(model(src, tgt, 0.0).reshape(-1, 12), tgt.reshape(-1)).backward()
    assert all(p.grad is not None for p in model.parameters())
    tokens, weights = model.greedy_decode(src, max_len=5, return_attention=True)
    assert tuple(tokens.shape) == (3, 5) and tuple(weights.shape) == (3, 5, 7)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1, rtol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="attention must be"):
        nn.Seq2Seq(5, 5, attention="bilinear")
    with pytest.raises(ValueError, match="return_attention"):
        nn.Seq2Seq(5, 5).greedy_decode(soma.tensor([[1, 2]]), 3, return_attention=True)
    with pytest.raises(ValueError, match="query_size == key_size"):
        nn.LuongAttention(3, 4, "dot")


@pytest.mark.slow
def test_attention_learns_to_reverse_long_sequences():
    rng = np.random.default_rng(0)
    soma.manual_seed(0)
    model = nn.Seq2Seq(10, 10, embedding_dim=16, hidden_size=48, attention="general")
    optimizer = soma.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(200):
        src = rng.integers(1, 10, (32, 12))
        tgt = soma.tensor(src[:, ::-1].copy())
        loss = F.cross_entropy(model(soma.tensor(src), tgt).reshape(-1, 10), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    src = np.random.default_rng(1).integers(1, 10, (128, 12))
    tokens, weights = model.greedy_decode(soma.tensor(src), max_len=12, return_attention=True)
    assert (tokens.numpy() == src[:, ::-1]).mean() > 0.9
    # output t looks mostly at source position S - 1 - t, the anti-diagonal (or its neighbour: a
    # one-direction encoder's h_j also carries x_(j-1))
    assert (np.abs(weights.numpy().argmax(-1) - np.arange(11, -1, -1)) <= 1).mean() > 0.9
