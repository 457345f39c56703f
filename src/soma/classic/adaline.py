"""ADALINE (adaptive linear neuron) trained by the LMS (Widrow-Hoff) rule.

    y = wᵀx + b            (linear output: no threshold while learning)
    e = d − y
    w ← w + η·e·x,   b ← b + η·e                            (one sample at a time)

See notes 004, "Least Mean Squares (LMS) Algorithm": each step is gradient descent
on ½e², so the rule drives the mean squared error towards its least-squares minimum.
Unlike the perceptron, ADALINE learns from the size of the error, not only from
mistakes, and it keeps moving even when every sign is already right. To classify,
threshold the linear output: class +1 if y ≥ 0 else −1 (bipolar targets, as in the
notes' example).
"""

import warnings

import numpy as np

from soma.classic._linear_unit import LinearUnit
from soma.classic._validation import ConvergenceWarning, check_targets

__all__ = ["Adaline"]


class Adaline(LinearUnit):
    """A linear neuron trained online by the LMS rule w ← w + η(d − wᵀx − b)x.

    Args:
        n_inputs: number of inputs.
        lr: learning rate η (default 0.1).
        weights: initial weights (default zeros).
        bias: initial bias b (default 0.0).

    Attributes:
        weights, bias: the current parameters (NumPy float64).
        converged_: after :meth:`fit` with ``tol``, whether the MSE settled.
        n_epochs_: epochs run by the last :meth:`fit`.
        history_: ``{"weights": [...], "bias": [...], "mse": [...]}``, the
            parameters at the end of every epoch and the mean squared error of the
            linear outputs over all samples with those parameters.

    Example (notes 004: bipolar AND, w = (0.2, −0.3), b = 0.1, η = 0.1):
        >>> model = Adaline(2, lr=0.1, weights=[0.2, -0.3], bias=0.1)
        >>> e = model.update([1, 1], 1)      # y = 0, e = 1
        >>> model.weights.round(6), round(model.bias, 6)
        (array([ 0.3, -0.2]), 0.2)
    """

    _metric = "mse"

    def __init__(self, n_inputs, lr=0.1, weights=None, bias=0.0):
        super().__init__(n_inputs, lr, weights, bias)

    def predict(self, X):
        """The class by the sign of the linear output: +1 where y ≥ 0, else −1."""
        return np.where(self.net_input(X) >= 0, 1, -1)

    def mse(self, X, y):
        """Mean squared error of the linear outputs, (1/N) Σ (d − y)²."""
        d = check_targets(y, self._check(X).shape[0], repr(self))
        return float(np.mean((d - self.net_input(X)) ** 2))

    def update(self, x, d):
        """One LMS step on one sample; returns the error e = d − y of the linear output."""
        x = self._check(x)[0]
        e = float(d) - float(x @ self.weights + self.bias)
        self.weights += self.lr * e * x
        self.bias += self.lr * e
        return e

    def fit(self, X, y, epochs=100, tol=None):
        """Cycle through the samples in order, one LMS step each, for up to ``epochs`` epochs.

        Args:
            X: inputs ``(n_samples, n_inputs)``.
            y: desired outputs ``(n_samples,)`` (any real values; ±1 for classes).
            epochs: most epochs to run.
            tol: stop when the epoch's MSE changes by less than ``tol`` (``None``:
                run all epochs). Warns with :class:`ConvergenceWarning` and stops
                when the MSE blows up (η too large: the rule diverges), and warns
                when ``tol`` is not reached.

        Returns ``self``.
        """
        X = self._check(X)
        d = check_targets(y, X.shape[0], repr(self))
        self.history_ = {"weights": [], "bias": [], "mse": []}
        self.converged_ = False
        previous = self.mse(X, d)
        start = previous
        for self.n_epochs_ in range(1, epochs + 1):
            for x, target in zip(X, d, strict=True):  # online rule: one update per sample
                self.update(x, target)
            current = self.mse(X, d)
            self.history_["weights"].append(self.weights.copy())
            self.history_["bias"].append(self.bias)
            self.history_["mse"].append(current)
            if not np.isfinite(current) or current > 1e6 * max(start, 1.0):
                warnings.warn(
                    f"{self!r} diverged (MSE {current:.3g} after epoch {self.n_epochs_}): lower lr",
                    ConvergenceWarning,
                    stacklevel=2,
                )
                return self
            if tol is not None and abs(previous - current) < tol:
                self.converged_ = True
                break
            previous = current
        if tol is not None and not self.converged_:
            warnings.warn(
                f"{self!r}: MSE still changing by more than tol={tol:g} after {epochs} epochs",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self
