"""The McCulloch-Pitts neuron (1943): boolean inputs, a fixed threshold, no learning.

    S = Σᵢ wᵢxᵢ        (the sum g over the excitatory inputs)
    y = 1 if S ≥ θ and no inhibitory input is on, else 0

See notes 004, "McCulloch-Pitts Neuron": an inhibitory input "has maximum effect on
the decision making irrespective of other inputs": when it is 1 the neuron never
fires. The neuron has no training algorithm; one chooses θ by analysis, e.g. with
the rule θ ≥ n·w − p (:func:`threshold_rule`).
"""

import itertools

import numpy as np

from soma.classic._validation import check_inputs

__all__ = ["McCullochPitts", "threshold_rule"]


def threshold_rule(n, w, p=0.0):
    """The smallest threshold allowed by notes 004's rule θ ≥ n·w − p.

    With ``n`` excitatory inputs of weight ``w`` and inhibitory weight ``p``, a
    neuron with θ = n·w − p fires only when every excitatory input is on: that is
    the M-P AND neuron. (The notes first print the rule as θ > n·w − p; only the
    ≥ form agrees with their worked example, where θ = 2 fires on (1, 1).)

    Args:
        n: number of excitatory inputs.
        w: weight of each excitatory input.
        p: weight of the inhibitory inputs (0 when there are none).

    Example:
        >>> threshold_rule(n=2, w=1, p=0)   # notes 004: θ ≥ 2 × 1 − 0
        2.0
    """
    if n < 1:
        raise ValueError(f"threshold_rule: n (number of excitatory inputs) must be >= 1, got {n}")
    return float(n * w - p)


class McCullochPitts:
    """A McCulloch-Pitts neuron: y = 1 if Σᵢ wᵢxᵢ ≥ θ and no inhibitory input is on.

    Args:
        weights: one weight per input (the notes use 1 for every excitatory input).
            The weights of inhibitory inputs do not enter the sum: an active
            inhibitory input vetoes firing on its own.
        threshold: θ; the neuron fires when the excitatory sum reaches it.
        inhibitory: indices of the inhibitory inputs.

    Attributes:
        weights, threshold, inhibitory, n_inputs.

    Example (notes 004: w₁ = w₂ = 1, θ = 1.5 is an AND neuron):
        >>> neuron = McCullochPitts([1, 1], threshold=1.5)
        >>> neuron.predict([[0, 0], [0, 1], [1, 0], [1, 1]])
        array([0, 0, 0, 1])
    """

    def __init__(self, weights, threshold, inhibitory=()):
        self.weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        self.threshold = float(threshold)
        self.n_inputs = self.weights.size
        self.inhibitory = tuple(sorted({int(i) for i in inhibitory}))
        bad = [i for i in self.inhibitory if not 0 <= i < self.n_inputs]
        if bad:
            raise ValueError(
                f"McCullochPitts(n_inputs={self.n_inputs}): inhibitory indices {bad} "
                "are out of range"
            )
        self._excitatory = np.ones(self.n_inputs, dtype=bool)
        self._excitatory[list(self.inhibitory)] = False

    # The notes' logic neurons ---------------------------------------------------------
    @classmethod
    def AND(cls, n_inputs=2):
        """Fires when all inputs are on: weights 1, θ = n·1 − 0 (notes 004)."""
        return cls(np.ones(n_inputs), threshold_rule(n_inputs, 1.0))

    @classmethod
    def OR(cls, n_inputs=2):
        """Fires when any input is on: weights 1, θ = 1."""
        return cls(np.ones(n_inputs), 1.0)

    @classmethod
    def NOT(cls):
        """One inhibitory input and θ = 0: fires unless the input is on."""
        return cls([1.0], 0.0, inhibitory=(0,))

    # The neuron ------------------------------------------------------------------------
    def _check(self, X):
        X = check_inputs(X, self.n_inputs, repr(self))
        if not np.all((X == 0) | (X == 1)):
            raise ValueError(f"{self!r} takes boolean inputs (0 or 1), got values {np.unique(X)}")
        return X

    def net_input(self, X):
        """S = Σᵢ wᵢxᵢ over the excitatory inputs, one value per row of ``X``."""
        X = self._check(X)
        return X[:, self._excitatory] @ self.weights[self._excitatory]

    def predict(self, X):
        """y = 1 if S ≥ θ and every inhibitory input is 0, else 0, for each row of ``X``."""
        X = self._check(X)
        inhibited = X[:, ~self._excitatory].any(axis=1)
        fires = (X[:, self._excitatory] @ self.weights[self._excitatory]) >= self.threshold
        return (fires & ~inhibited).astype(np.int64)

    def truth_table(self):
        """Every boolean input and the output: an int array of shape (2ⁿ, n + 1).

        Rows are in binary counting order (0…0 first); the last column is y.

        Example:
            >>> McCullochPitts.OR().truth_table()
            array([[0, 0, 0],
                   [0, 1, 1],
                   [1, 0, 1],
                   [1, 1, 1]])
        """
        inputs = np.array(list(itertools.product((0, 1), repeat=self.n_inputs)), dtype=np.int64)
        return np.column_stack([inputs, self.predict(inputs)])

    def __repr__(self):
        inhibitory = f", inhibitory={self.inhibitory}" if self.inhibitory else ""
        return f"McCullochPitts(n_inputs={self.n_inputs}, threshold={self.threshold:g}{inhibitory})"
