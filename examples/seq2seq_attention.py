"""Attention in the encoder-decoder: reversing sequences of 30 digits, with and without attention.

The plain encoder-decoder (notes 003) squeezes the whole source into its final state and
must unpack 30 digits from it; with attention (notes 002/003, "Attention Model") the decoder
looks back at every encoder output at every step, so it only has to learn *where* to look:
for reversal, at source position S − 1 − t when writing token t.

Three models, the same GRU sizes and training (teacher forcing, Adam, 400 steps of 32 sequences):
    plain      the fixed context
    Bahdanau   additive attention, e_tj = vᵀ tanh(W_q s_{t−1} + W_k h_j)
    Luong      multiplicative ("general") attention, e_tj = o_tᵀ W_a h_j

Run: python examples/seq2seq_attention.py   (about a minute on 2 cores)
"""

import time

import numpy as np

import soma
import soma.nn.functional as F
import soma.optim
from soma import nn

try:  # small matrices: one BLAS thread is faster, and steadier on a busy machine
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

LENGTH, VOCAB, STEPS, BATCH = 30, 10, 400, 32


def batch(rng, n):
    src = rng.integers(1, VOCAB, (n, LENGTH))  # 0 is <sos>
    return soma.tensor(src), soma.tensor(src[:, ::-1].copy())


def train(model, rng):
    optimizer = soma.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(STEPS):
        src, tgt = batch(rng, BATCH)
        loss = F.cross_entropy(model(src, tgt).reshape(-1, VOCAB), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return loss.item()


def main():
    src, tgt = batch(np.random.default_rng(1), 256)
    for name, attention in (("plain", None), ("Bahdanau", "additive"), ("Luong", "general")):
        soma.manual_seed(0)
        model = nn.Seq2Seq(VOCAB, VOCAB, embedding_dim=16, hidden_size=64, attention=attention)
        start = time.perf_counter()
        loss = train(model, np.random.default_rng(0))
        predicted = model.greedy_decode(src, LENGTH).numpy()
        hits = predicted == tgt.numpy()
        print(f"{name:9s} final training loss {loss:.3f}  greedy decoding on 256 new sequences: token accuracy "
              f"{hits.mean():.3f}, whole sequences right {hits.all(1).mean():.3f}  "
              f"({time.perf_counter() - start:.0f} s)")
        if attention is not None:
            _, weights = model.greedy_decode(src[:1], LENGTH, return_attention=True)
            where = weights.numpy()[0].argmax(-1)
            print(f"          where output t looks (argmax_j a_tj), t = 0..9: {where[:10].tolist()}")


if __name__ == "__main__":
    main()
