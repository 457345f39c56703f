"""Input checks shared by the textbook models, so every one fails early and the same way.

A bad call names the model and the expected and received shapes, e.g.
``Perceptron(n_inputs=2) expects X of shape (n_samples, 2), got (4, 3)``.
"""

import numpy as np

__all__ = ["ConvergenceWarning", "check_inputs", "check_random_state", "check_targets"]


class ConvergenceWarning(UserWarning):
    """A learning rule stopped at its epoch limit before it converged."""


def check_inputs(X, n_features, model, dtype=np.float64):
    """``X`` as a 2-D float array ``(n_samples, n_features)``; a single sample becomes one row.

    Args:
        X: array-like of shape ``(n_samples, n_features)`` or ``(n_features,)``.
        n_features: the number of inputs the model was built for (``None``: any).
        model: the model's name with its size, used in the error message.
    """
    X = np.asarray(X, dtype=dtype)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or (n_features is not None and X.shape[1] != n_features):
        expected = "n_features" if n_features is None else n_features
        raise ValueError(f"{model} expects X of shape (n_samples, {expected}), got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{model} got no samples: X has shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{model} got non-finite values (NaN or inf) in X")
    return X


def check_targets(y, n_samples, model, dtype=np.float64):
    """``y`` as a 1-D array with one target per sample."""
    y = np.asarray(y, dtype=dtype).reshape(-1) if np.ndim(y) <= 1 else np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(f"{model} expects y of shape ({n_samples},) to match X, got {np.shape(y)}")
    return y


def check_random_state(random_state):
    """A NumPy Generator: soma's global one for ``None``, a fresh one for an int seed.

    Models with their own randomness accept ``random_state`` scikit-learn style; by
    default they draw from :func:`soma.random.generator`, so ``soma.manual_seed``
    makes them repeatable.
    """
    if random_state is None:
        from soma.random import generator

        return generator()
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(int(random_state))
