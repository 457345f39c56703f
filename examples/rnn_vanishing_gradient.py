"""The vanishing gradient, made visible: the adding problem, plain RNN against LSTM and GRU.

Each input is a sequence of T pairs (value, marker): values are uniform in [0, 1], and
exactly two markers are 1, one in the first half of the sequence and one in the
second. The target is the sum of the two marked values. A model that ignores the
inputs can do no better than predicting the mean, 1.0, with mean squared error
Var(U1 + U2) = 1/6 ≈ 0.167.

The first marker is about T/2 steps before the end, so its value must survive that
many steps of the recurrence. In a plain tanh RNN the gradient that reaches step t is
a product of T - t factors W_h·tanh'(·) (notes 003, "vanishing gradients"), and it
shrinks geometrically; the LSTM's cell state carries it through f_t ≈ 1 instead.
The script prints both learning curves and then ‖∂loss/∂x_t‖ per time step.

Run: python examples/rnn_vanishing_gradient.py   (about a minute on 2 cores)
"""

import numpy as np

import soma
import soma.nn.functional as F
import soma.optim
from soma import nn

T, BATCH, HIDDEN, STEPS = 40, 64, 32, 600


def adding_batch(rng, batch=BATCH, length=T):
    values = rng.uniform(0, 1, (batch, length))
    markers = np.zeros((batch, length))
    first = rng.integers(0, length // 2, batch)
    second = rng.integers(length // 2, length, batch)
    markers[np.arange(batch), first] = 1
    markers[np.arange(batch), second] = 1
    x = np.stack([values, markers], -1).astype(np.float32)
    y = (values * markers).sum(1, keepdims=True).astype(np.float32)
    return soma.tensor(x), soma.tensor(y)


class Regressor(nn.Module):
    """A recurrent layer reads the sequence; a linear head maps its last state to the sum."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.head(output[:, -1])


def train(name, model, seed=0):
    rng = np.random.default_rng(seed)
    optimizer = soma.optim.Adam(model.parameters(), lr=0.01)
    curve = []
    for step in range(1, STEPS + 1):
        x, y = adding_batch(rng)
        loss = F.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        curve.append(loss.item())
        if step % 100 == 0:
            print(f"  {name:>4} step {step:4d}  mse {np.mean(curve[-100:]):.4f}")
    return curve


def gradient_per_step(model, seed=1):
    """‖∂loss/∂x_t‖ averaged over a batch: how much each time step can still be learned from."""
    x, y = adding_batch(np.random.default_rng(seed), 256)
    x.requires_grad_()
    F.mse_loss(model(x), y).backward()
    return np.linalg.norm(x.grad.numpy(), axis=2).mean(0)


def lstm_with_open_forget_gate():
    """An LSTM whose forget gate starts near 1 (bias 1), the usual init for long memory."""
    lstm = nn.LSTM(2, HIDDEN, batch_first=True)
    with soma.no_grad():
        lstm.bias_ih_l0._array[HIDDEN : 2 * HIDDEN] = 1.0  # gate order i, f, g, o: f is the 2nd block
        lstm.bias_hh_l0._array[HIDDEN : 2 * HIDDEN] = 0.0
    return lstm


def main():
    soma.manual_seed(0)
    models = {
        "RNN": Regressor(nn.RNN(2, HIDDEN, batch_first=True)),
        "LSTM": Regressor(lstm_with_open_forget_gate()),
        "GRU": Regressor(nn.GRU(2, HIDDEN, batch_first=True)),
    }
    print(f"adding problem, T = {T}; predicting the mean gives mse {1 / 6:.3f}")
    print("gradient norm per time step at initialization (t = 0 is the oldest input):")
    for name, model in models.items():
        g = gradient_per_step(model)
        print(
            f"  {name:>4} "
            + "  ".join(f"t={t}:{g[t]:.1e}" for t in range(0, T, 10))
            + f"  t={T - 1}:{g[-1]:.1e}"
        )
    curves = {name: train(name, model) for name, model in models.items()}
    print("final mse (mean of the last 100 steps):")
    for name, curve in curves.items():
        verdict = "solved" if np.mean(curve[-100:]) < 0.05 else "fails (no better than the mean)"
        print(f"  {name:>4} {np.mean(curve[-100:]):.4f}  {verdict}")
    print("gradient norm per time step after training:")
    for name, model in models.items():
        g = gradient_per_step(model)
        print(
            f"  {name:>4} oldest/newest = {g[0] / g[-1]:.1e}  "
            + "  ".join(f"t={t}:{g[t]:.1e}" for t in range(0, T, 10))
        )
    return curves


if __name__ == "__main__":
    main()
