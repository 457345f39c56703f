"""ADALINE and the LMS rule w ← w + η·e·x on the notes' bipolar AND (notes 004).

The notes start from w = (0.2, −0.3), b = 0.1, η = 0.1 and do the first step by
hand: y = 0, e = 1, w = (0.3, −0.2), b = 0.2. This script does that step, the rest
of the epoch, and then trains until the mean squared error settles close to its
least-squares minimum 0.25 (w = (0.5, 0.5), b = −0.5). With a fixed η the online
rule keeps stepping after each sample, so it hovers near the minimum, not on it.
"""

import numpy as np

from soma.classic import Adaline

X = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=float)
d = np.array([1, -1, -1, -1], dtype=float)

model = Adaline(n_inputs=2, lr=0.1, weights=[0.2, -0.3], bias=0.1)
print("epoch 1, one sample at a time:")
print("  x           d     y        e        w after              b after")
for x, target in zip(X, d, strict=True):
    y = model.net_input(x)[0]
    e = model.update(x, target)
    print(
        f"  ({x[0]:+.0f}, {x[1]:+.0f})  {target:+.0f}  {y:+.4f}  {e:+.4f}  "
        f"{np.round(model.weights, 4)}  {model.bias:+.4f}"
    )
print(f"  MSE after epoch 1: {model.mse(X, d):.8f}")

model = Adaline(n_inputs=2, lr=0.1, weights=[0.2, -0.3], bias=0.1).fit(X, d, epochs=200, tol=1e-9)
print(f"\ntraining until the MSE changes by < 1e-9: {model.n_epochs_} epochs")
for epoch in (1, 2, 5, 10, 20, model.n_epochs_):
    w, b, mse = (model.history_[key][epoch - 1] for key in ("weights", "bias", "mse"))
    print(f"  epoch {epoch:3d}: w = {np.round(w, 4)}, b = {b:+.4f}, MSE = {mse:.6f}")
solution, *_ = np.linalg.lstsq(np.c_[X, np.ones(4)], d, rcond=None)
print(f"least-squares solution (w1, w2, b) = {np.round(solution, 4)}, MSE 0.25")
print(f"predictions sign(y): {model.predict(X).tolist()} (targets {d.astype(int).tolist()})")
