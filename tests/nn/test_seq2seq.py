"""Seq2Seq: shapes, teacher forcing, greedy decoding, Bidirectional; learning to reverse digits."""

import numpy as np
import pytest

import soma
import soma.nn.functional as F
import soma.optim
from soma import nn


def _batch(rng, batch, length, vocab=10):
    src = rng.integers(1, vocab, (batch, length))  # 0 is <sos>
    return soma.tensor(src), soma.tensor(src[:, ::-1].copy())


@pytest.mark.parametrize("rnn", [nn.GRU, nn.LSTM])
def test_shapes_and_teacher_forcing_paths(rnn):
    model = nn.Seq2Seq(10, 12, embedding_dim=8, hidden_size=16, num_layers=2, rnn=rnn)
    src, tgt = _batch(np.random.default_rng(0), 3, 4)
    full = model(src, tgt, teacher_forcing_ratio=1.0)
    assert tuple(full.shape) == (3, 4, 12)
    # the fused all-forced path and the step-by-step path agree when every step is forced
    stepwise = model(src, tgt, teacher_forcing_ratio=0.999999999)
    np.testing.assert_allclose(
        full.detach().numpy(), stepwise.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    free = model(src, tgt, teacher_forcing_ratio=0.0)
    F.cross_entropy(free.reshape(-1, 12), tgt.reshape(-1)).backward()
    assert all(p.grad is not None for p in model.parameters())
    decoded = model.greedy_decode(src, max_len=6)
    assert tuple(decoded.shape) == (3, 6) and decoded.dtype == np.int64
    with pytest.raises(ValueError, match=r"src of shape \(batch, seq\)"):
        model.encode(soma.tensor([1, 2, 3]))


def test_bidirectional_wrapper():
    bi = nn.Bidirectional(nn.GRU(3, 5, batch_first=True))
    x = soma.randn(2, 7, 3)
    output, (h_f, h_b) = bi(x)
    assert tuple(output.shape) == (2, 7, 10)
    # the backward half at time t has read x_t .. x_T: equals its layer run on the flipped input
    out_b, last_b = bi.backward_layer(soma.flip(x, (1,)))
    np.testing.assert_allclose(
        output.detach().numpy()[:, ::-1, 5:], out_b.detach().numpy(), rtol=1e-6
    )
    np.testing.assert_allclose(h_b.detach().numpy(), last_b.detach().numpy())
    assert tuple(nn.Bidirectional(nn.RNN(3, 5), "sum")(soma.randn(7, 2, 3))[0].shape) == (7, 2, 5)
    with pytest.raises(ValueError, match="already bidirectional"):
        nn.Bidirectional(nn.LSTM(3, 5, bidirectional=True))


@pytest.mark.slow
def test_learns_to_reverse_digit_sequences():
    rng = np.random.default_rng(0)
    model = nn.Seq2Seq(10, 10, embedding_dim=16, hidden_size=96)
    optimizer = soma.optim.Adam(model.parameters(), lr=0.01)
    for step in range(500):
        src, tgt = _batch(rng, 64, 5)
        logits = model(src, tgt, teacher_forcing_ratio=0.5 if step > 300 else 1.0)
        loss = F.cross_entropy(logits.reshape(-1, 10), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    src, tgt = _batch(np.random.default_rng(1), 256, 5)
    predicted = model.greedy_decode(src, max_len=5).numpy()
    token_accuracy = (predicted == tgt.numpy()).mean()
    sequence_accuracy = (predicted == tgt.numpy()).all(1).mean()
    assert token_accuracy > 0.95, token_accuracy
    assert sequence_accuracy > 0.8, sequence_accuracy
