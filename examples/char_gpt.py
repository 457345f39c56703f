"""A character-level GPT: a causal Transformer trained on a short text that ships with soma.

``examples/data/keeper.txt`` (9 KB, written for soma) is cut into a training part (the first
90%) and a validation part (the rest). The model reads 64 characters and predicts, at every
position t, the character t + 1 from characters 0..t only:

    h⁰ = Embedding(chars) + PE            (sinusoidal positions)
    hˡ = TransformerEncoderLayer(hˡ⁻¹, causal mask)   for l = 1, 2   (pre-norm, GELU)
    p(next char) = softmax(W · LayerNorm(h²) + b)

The causal mask (``nn.Transformer.generate_square_subsequent_mask``) is what makes it a
language model: position t cannot see t + 1. After training, the model writes text one
character at a time, each sampled from its predicted distribution.

Run: python examples/char_gpt.py   (about a minute on 2 cores)
"""

import math
import pathlib
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

CONTEXT, BATCH, D_MODEL, HEADS, LAYERS, STEPS = 64, 16, 64, 4, 2, 600
TEXT = pathlib.Path(__file__).parent / "data" / "keeper.txt"


class CharGPT(nn.Module):
    def __init__(self, vocab_size, d_model=D_MODEL, heads=HEADS, layers=LAYERS, context=CONTEXT, dropout=0.1):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.position = nn.PositionalEncoding(d_model, context, batch_first=True)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, tokens):
        length = tokens.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(length)
        h = self.blocks(self.position(self.embedding(tokens)), mask=mask, is_causal=True)
        return self.head(self.norm(h))


def batches(data, rng):
    start = rng.integers(0, len(data) - CONTEXT - 1, BATCH)
    window = np.stack([data[s:s + CONTEXT + 1] for s in start])
    return soma.tensor(window[:, :-1]), soma.tensor(window[:, 1:])


def loss_on(model, data, rng, n=8):
    with soma.no_grad():
        losses = []
        for _ in range(n):
            x, y = batches(data, rng)
            losses.append(F.cross_entropy(model(x).reshape(-1, model.head.out_features), y.reshape(-1)).item())
    return float(np.mean(losses))


def sample(model, chars, prompt, length=300, temperature=0.7, seed=0):
    rng = np.random.default_rng(seed)
    index = {c: i for i, c in enumerate(chars)}
    tokens = [index[c] for c in prompt]
    model.eval()
    with soma.no_grad():
        for _ in range(length):
            logits = model(soma.tensor(np.array([tokens[-CONTEXT:]])))[0, -1].numpy() / temperature
            p = np.exp(logits - logits.max())
            tokens.append(int(rng.choice(len(chars), p=p / p.sum())))
    model.train()
    return "".join(chars[t] for t in tokens)


def main():
    soma.manual_seed(0)
    rng = np.random.default_rng(0)
    text = TEXT.read_text(encoding="utf-8")
    chars = sorted(set(text))
    data = np.array([chars.index(c) for c in text])
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    model = CharGPT(len(chars))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(text)} characters, vocabulary {len(chars)}, {n_params:,} parameters; "
          f"uniform guessing: loss {math.log(len(chars)):.3f}")
    optimizer = soma.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    scheduler = soma.optim.lr_scheduler.CosineAnnealingLR(optimizer, STEPS)
    start = time.perf_counter()
    for step in range(1, STEPS + 1):
        x, y = batches(train, rng)
        loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % 100 == 0:
            model.eval()
            val_loss = loss_on(model, val, np.random.default_rng(1))
            model.train()
            print(f"step {step:4d}  train loss {loss.item():.3f}  validation loss {val_loss:.3f}  "
                  f"({time.perf_counter() - start:.0f} s)")
    print("\nsample (temperature 0.7):")
    print(sample(model, chars, "On the eighth morning "))


if __name__ == "__main__":
    main()
