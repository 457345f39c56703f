"""The perceptron learning rule w ← w + η(d − y)x on AND, OR and XOR (notes 004).

Watch the weights after every epoch: the rule stops once an epoch makes no
mistake (AND, OR); on XOR it never does, because no line separates XOR's classes.
"""

import warnings

import numpy as np

from soma.classic import ConvergenceWarning, Perceptron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
targets = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}

for name, y in targets.items():
    p = Perceptron(n_inputs=2, lr=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        p.fit(X, y, epochs=10)
    print(f"\n{name}: targets {y}")
    print("  epoch   w1    w2     b   mistakes")
    for epoch, (w, b, errors) in enumerate(
        zip(p.history_["weights"], p.history_["bias"], p.history_["errors"], strict=True), 1
    ):
        print(f"  {epoch:5d}  {w[0]:4g}  {w[1]:4g}  {b:4g}   {errors}")
    verdict = "converged" if p.converged_ else "did NOT converge (not linearly separable)"
    print(f"  {verdict}; predictions {p.predict(X).tolist()}, accuracy {p.score(X, y):.2f}")
