"""Forecasting a noisy sine wave with a GRU.

The series is y(t) = sin(2π t / 50) + 0.5 sin(2π t / 17) + noise. From a window of the
last ``WINDOW`` values the model predicts the next one (notes 003: an RNN reads a
sequence and keeps a summary of it in its hidden state). The script compares the
test error with two baselines — repeating the last value, and the noise floor
(the noise variance, which no model can beat) — and then forecasts 50 steps ahead
by feeding its own predictions back in.

Run: python examples/time_series.py   (well under a minute on 2 cores)
"""

import numpy as np

import soma
import soma.nn.functional as F
import soma.optim
from soma import nn

WINDOW, HIDDEN, STEPS, NOISE = 40, 32, 400, 0.1


def series(n, rng):
    t = np.arange(n)
    clean = np.sin(2 * np.pi * t / 50) + 0.5 * np.sin(2 * np.pi * t / 17)
    return clean, clean + NOISE * rng.standard_normal(n)


def windows(values, start, stop):
    idx = np.arange(start, stop)[:, None] + np.arange(WINDOW)[None, :]
    x = values[idx][..., None].astype(np.float32)
    y = values[np.arange(start, stop) + WINDOW][:, None].astype(np.float32)
    return soma.tensor(x), soma.tensor(y)


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, x):
        output, _ = self.gru(x)
        return self.head(output[:, -1])


def main():
    soma.manual_seed(0)
    rng = np.random.default_rng(0)
    clean, noisy = series(3000, rng)
    train_x, train_y = windows(noisy, 0, 2000)
    test_x, test_y = windows(noisy, 2000, 3000 - WINDOW)
    model = Forecaster()
    optimizer = soma.optim.Adam(model.parameters(), lr=0.01)
    for step in range(1, STEPS + 1):
        batch = rng.integers(0, len(train_y), 64)
        loss = F.mse_loss(model(train_x[batch]), train_y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step:4d}  train mse {loss.item():.4f}")
    with soma.no_grad():
        test_mse = F.mse_loss(model(test_x), test_y).item()
    last_value_mse = float(np.mean((test_x.numpy()[:, -1, 0] - test_y.numpy()[:, 0]) ** 2))
    print(
        f"test mse {test_mse:.4f}   repeat-last-value {last_value_mse:.4f}"
        f"   noise floor {NOISE**2:.4f}"
    )

    # Forecast 50 steps past the end of the data, feeding predictions back in.
    history = list(noisy[-WINDOW:])
    with soma.no_grad():
        for _ in range(50):
            x = soma.tensor(np.array(history[-WINDOW:], np.float32).reshape(1, WINDOW, 1))
            history.append(model(x).item())
    forecast = np.array(history[WINDOW:])
    truth = np.sin(2 * np.pi * np.arange(3000, 3050) / 50) + 0.5 * np.sin(
        2 * np.pi * np.arange(3000, 3050) / 17
    )
    print(f"50-step forecast, mse against the clean signal: {np.mean((forecast - truth) ** 2):.4f}")
    print("t+k   forecast   clean")
    for k in range(0, 50, 10):
        print(f"{k + 1:3d}   {forecast[k]:8.3f}  {truth[k]:6.3f}")
    return test_mse, last_value_mse


if __name__ == "__main__":
    main()
