"""End to end: a Transformer encoder learns a task only attention can solve.

Every position must output the sequence's first token. A position-wise network sees only its
own token (and position), so it can do no better than chance (1/V) at positions 1..L-1; one
attention layer can look the first token up from everywhere.
"""

import numpy as np
import pytest

import soma
import soma.nn.functional as F
from soma import nn, optim

V, L, D = 6, 6, 16


class CopyFirst(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, D)
        self.position = nn.PositionalEncoding(D, L, batch_first=True)
        self.encoder = nn.TransformerEncoderLayer(D, 2, 32, dropout=0.0, batch_first=True, norm_first=True)
        self.norm = nn.RMSNorm(D)
        self.head = nn.Linear(D, V)

    def forward(self, tokens):
        return self.head(self.norm(self.encoder(self.position(self.embed(tokens)))))


def _batch(rng, n):
    x = rng.integers(0, V, (n, L))
    return soma.tensor(x), soma.tensor(np.repeat(x[:, :1], L, axis=1))


def _accuracy(model, rng):
    x, y = _batch(rng, 512)
    with soma.no_grad():
        hits = model(x).argmax(-1).numpy() == y.numpy()
    return hits[:, 1:].mean()  # position 0 can copy itself without attention


@pytest.mark.slow
def test_encoder_learns_to_copy_the_first_token():
    soma.manual_seed(0)
    rng = np.random.default_rng(0)
    model = CopyFirst()
    before = _accuracy(model, rng)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(120):
        x, y = _batch(rng, 32)
        loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = _accuracy(model, rng)
    assert before < 0.4
    assert after > 0.95, f"accuracy after training {after:.3f}"
