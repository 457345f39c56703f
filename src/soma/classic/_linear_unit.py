"""The single linear neuron that the perceptron and ADALINE share: z = Σᵢ wᵢxᵢ + b."""

import numpy as np

from soma.classic._validation import check_inputs


class LinearUnit:
    """Weights w, bias b, a learning rate η and a per-epoch history; subclasses add the rule.

    ``history_`` records the weights and bias after every epoch and one more quantity
    named by the subclass's ``_metric`` (the perceptron's mistakes, ADALINE's MSE).
    """

    _metric = "errors"

    def __init__(self, n_inputs, lr, weights=None, bias=0.0):
        name = type(self).__name__
        if n_inputs < 1:
            raise ValueError(f"{name}: n_inputs must be >= 1, got {n_inputs}")
        if lr <= 0:
            raise ValueError(f"{name}: lr must be positive, got {lr}")
        self.n_inputs = n_inputs
        self.lr = float(lr)
        if weights is None:
            self.weights = np.zeros(n_inputs)
        else:
            self.weights = np.array(weights, dtype=np.float64).reshape(-1)
            if self.weights.size != n_inputs:
                raise ValueError(
                    f"{name}(n_inputs={n_inputs}) expects {n_inputs} weights, "
                    f"got {self.weights.size}"
                )
        self.bias = float(bias)
        self.converged_ = False
        self.n_epochs_ = 0
        self.history_ = {"weights": [], "bias": [], self._metric: []}

    def _check(self, X):
        return check_inputs(X, self.n_inputs, repr(self))

    def net_input(self, X):
        """z = Σᵢ wᵢxᵢ + b (= wᵀx + b) for each row of ``X``."""
        return self._check(X) @ self.weights + self.bias

    def score(self, X, y):
        """Fraction of samples whose prediction equals the target (0/1 or ±1, as ``predict`` gives)."""
        return float(np.mean(self.predict(X) == np.asarray(y).reshape(-1)))

    def __repr__(self):
        return f"{type(self).__name__}(n_inputs={self.n_inputs}, lr={self.lr:g})"
