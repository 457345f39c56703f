"""Rosenblatt's perceptron: a step neuron and the perceptron learning rule.

    y = f(Σᵢ wᵢxᵢ + b),   f(z) = 1 if z ≥ 0 else 0          (notes 004, "Perceptron Model")
    e = d − y
    w ← w + η·e·x,   b ← b + η·e                            (one sample at a time)

The rule changes the weights only on a mistake (e = ±1). On linearly separable data
(AND, OR) it stops making mistakes after finitely many epochs (the perceptron
convergence theorem); on XOR, which no line separates, it never does.
"""

import warnings

import numpy as np

from soma.classic._linear_unit import LinearUnit
from soma.classic._validation import ConvergenceWarning, check_targets

__all__ = ["Perceptron"]


class Perceptron(LinearUnit):
    """A single step neuron trained online by the perceptron rule w ← w + η(d − y)x.

    Args:
        n_inputs: number of inputs.
        lr: learning rate η (default 1.0, the textbook's).
        weights: initial weights (default zeros).
        bias: initial bias b (default 0.0).

    Attributes:
        weights, bias: the current parameters (NumPy float64).
        converged_: after :meth:`fit`, whether an epoch made no mistake.
        n_epochs_: epochs run by the last :meth:`fit`.
        history_: ``{"weights": [...], "bias": [...], "errors": [...]}``, the
            weights and bias at the end of every epoch and the number of mistakes
            made during it.

    Example (the perceptron learns AND):
        >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]
        >>> p = Perceptron(2).fit(X, [0, 0, 0, 1])
        >>> p.converged_, p.predict(X)
        (True, array([0, 0, 0, 1]))
    """

    _metric = "errors"

    def __init__(self, n_inputs, lr=1.0, weights=None, bias=0.0):
        super().__init__(n_inputs, lr, weights, bias)

    def predict(self, X):
        """y = f(z): 1 where z ≥ 0, else 0."""
        return (self.net_input(X) >= 0).astype(np.int64)

    def update(self, x, d):
        """One step of the perceptron rule on one sample; returns the error e = d − y.

        Args:
            x: one input vector of ``n_inputs`` values.
            d: its desired output, 0 or 1.
        """
        x = self._check(x)[0]
        e = float(d) - float(x @ self.weights + self.bias >= 0)
        if e:
            self.weights += self.lr * e * x
            self.bias += self.lr * e
        return e

    def fit(self, X, y, epochs=100):
        """Cycle through the samples in order, updating after each, until an epoch is error-free.

        Stops early (``converged_ = True``) after the first epoch without a mistake;
        otherwise warns with :class:`ConvergenceWarning` after ``epochs`` epochs
        (as it must on XOR). Returns ``self``.
        """
        X = self._check(X)
        y = check_targets(y, X.shape[0], repr(self))
        if not np.all((y == 0) | (y == 1)):
            raise ValueError(f"{self!r} expects targets 0 or 1, got values {np.unique(y)}")
        self.history_ = {"weights": [], "bias": [], "errors": []}
        self.converged_ = False
        for self.n_epochs_ in range(1, epochs + 1):
            # online rule: each sample sees the weights its predecessor left
            mistakes = sum(self.update(x, d) != 0 for x, d in zip(X, y, strict=True))
            self.history_["weights"].append(self.weights.copy())
            self.history_["bias"].append(self.bias)
            self.history_["errors"].append(int(mistakes))
            if mistakes == 0:
                self.converged_ = True
                break
        if not self.converged_:
            warnings.warn(
                f"{self!r} made mistakes in every one of {epochs} epochs: the data may not be "
                "linearly separable (XOR is not)",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self
