"""A character-level language model on the Zen of Python, trained with truncated BPTT.

The text ships with every Python (``import this``). An LSTM reads it one character at
a time and learns to predict the next one:

    x_t = Embedding(char_t),  h_t, c_t = LSTM(x_t, (h_{t-1}, c_{t-1})),
    p(char_{t+1}) = softmax(W h_t + b)

Training uses truncated backpropagation through time (notes 003): the text is cut
into chunks of ``BPTT`` characters, the state is carried from chunk to chunk, and
``detach_state`` cuts the graph at each boundary so each backward goes ``BPTT``
steps back. Then the model writes new text by sampling one character at a time.

Run: python examples/char_rnn.py   (well under a minute on 2 cores)
"""

import codecs
import contextlib
import io

import numpy as np

import soma
import soma.nn.functional as F
import soma.optim
from soma import nn
from soma.nn.utils.rnn import detach_state

BATCH, BPTT, HIDDEN, EPOCHS = 16, 32, 128, 80


def zen_text():
    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13")


class CharLM(nn.Module):
    def __init__(self, vocab_size, hidden_size=HIDDEN):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 32)
        self.lstm = nn.LSTM(32, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state=None):
        output, state = self.lstm(self.embedding(tokens), state)
        return self.head(output), state


def sample(model, chars, start, length=300, temperature=0.6, seed=0):
    """Feed ``start``, then draw each next character from softmax(logits / temperature)."""
    index = {c: i for i, c in enumerate(chars)}
    rng = np.random.default_rng(seed)
    text, state = start, None
    tokens = soma.tensor([[index[c] for c in start]])
    with soma.no_grad():
        for _ in range(length):
            logits, state = model(tokens, state)
            p = F.softmax(logits[0, -1] / temperature, -1).numpy().astype(np.float64)
            nxt = rng.choice(len(chars), p=p / p.sum())
            text += chars[nxt]
            tokens = soma.tensor([[nxt]])
    return text


def main():
    soma.manual_seed(0)
    text = zen_text()
    chars = sorted(set(text))
    data = np.array([chars.index(c) for c in text])
    print(f"{len(text)} characters, {len(chars)} distinct")
    # BATCH parallel streams through the text, each read in BPTT-long chunks.
    per_stream = (len(data) - 1) // BATCH
    streams = data[: per_stream * BATCH + 1]
    inputs = np.stack([streams[b * per_stream : (b + 1) * per_stream] for b in range(BATCH)])
    targets = np.stack(
        [streams[b * per_stream + 1 : (b + 1) * per_stream + 1] for b in range(BATCH)]
    )
    model = CharLM(len(chars))
    optimizer = soma.optim.Adam(model.parameters(), lr=0.005)
    for epoch in range(1, EPOCHS + 1):
        state, losses = None, []
        for start in range(0, per_stream, BPTT):
            x = soma.tensor(inputs[:, start : start + BPTT])
            y = soma.tensor(targets[:, start : start + BPTT])
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            state = detach_state(state)  # truncated BPTT: keep the values, drop the history
            losses.append(loss.item())
        if epoch % 10 == 0 or epoch == 1:
            print(
                f"epoch {epoch:3d}  loss {np.mean(losses):.3f} nats/char"
                f"  (uniform: {np.log(len(chars)):.3f})"
            )
    print("\nsampled text:\n")
    print(sample(model, chars, "Beautiful is "))
    return float(np.mean(losses))


if __name__ == "__main__":
    main()
