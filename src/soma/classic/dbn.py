"""Deep belief network: RBMs stacked and trained one layer at a time, then unrolled into an MLP.

Hinton, Osindero and Teh (2006), notes 000: train an RBM on the data; its hidden units'
probabilities P(h¹ = 1 | v) = σ(c¹ + W¹v) become the "data" of a second RBM, and so on
(greedy layer-wise pretraining, each layer unsupervised, by contrastive divergence). The
stack is then read as a feed-forward network ::

    h¹ = σ(W¹x + c¹),   h² = σ(W²h¹ + c²),   ...,   logits = W_out h^L + b_out

whose weights start at the RBMs' instead of at random; backpropagation fine-tunes all of
them on the labels (:meth:`DBN.to_mlp`).
"""

import numpy as np

from soma.classic._validation import check_inputs, check_random_state
from soma.classic.rbm import RBM

__all__ = ["DBN"]


class DBN:
    """A stack of Bernoulli RBMs (soma.classic.RBM) pretrained greedily, layer by layer.

    Args:
        hidden_sizes: the number of hidden units of each RBM, bottom to top (e.g. ``(128, 64)``).
        learning_rate, batch_size, n_iter, k, persistent: passed to every :class:`RBM`.
        random_state: ``None`` (soma's global generator), an int seed or a numpy Generator; one
            generator is shared by all layers.
        verbose: print each layer's pseudo-likelihood as it trains.

    Attributes:
        rbms_: the trained RBMs, bottom first (``rbms_[i].components_`` is Wⁱ⁺¹).

    Example:
        >>> X = (np.random.default_rng(0).random((100, 16)) < 0.5).astype(float)
        >>> dbn = DBN((8, 4), n_iter=2, random_state=0).fit(X)
        >>> dbn.transform(X).shape
        (100, 4)
        >>> mlp = dbn.to_mlp(n_outputs=3)     # Linear(16, 8), Sigmoid, Linear(8, 4), Sigmoid, Linear(4, 3)
    """

    def __init__(self, hidden_sizes, learning_rate=0.05, batch_size=10, n_iter=10, k=1, persistent=False,
                 random_state=None, verbose=False):
        hidden_sizes = tuple(int(h) for h in hidden_sizes)
        if not hidden_sizes or min(hidden_sizes) < 1:
            raise ValueError(f"DBN: hidden_sizes must be a non-empty list of positive sizes, got {hidden_sizes}")
        self.hidden_sizes = hidden_sizes
        self.rbm_params = dict(learning_rate=learning_rate, batch_size=batch_size, n_iter=n_iter, k=k,
                               persistent=persistent, verbose=verbose)
        self.random_state = random_state

    def fit(self, X, y=None):
        """Greedy layer-wise pretraining: RBM i is trained on the hidden probabilities of RBM i − 1."""
        X = check_inputs(X, None, repr(self))
        rng = check_random_state(self.random_state)
        self.rbms_ = []
        data = X
        for size in self.hidden_sizes:
            rbm = RBM(n_components=size, random_state=rng, **self.rbm_params).fit(data)
            self.rbms_.append(rbm)
            data = rbm.transform(data)
        return self

    def _fitted(self):
        if not hasattr(self, "rbms_"):
            raise RuntimeError(f"{self!r} is not fitted: call fit first")

    def transform(self, X):
        """The top layer's probabilities after one deterministic up-pass through every RBM."""
        self._fitted()
        for rbm in self.rbms_:
            X = rbm.transform(X)
        return X

    def to_mlp(self, n_outputs=None, dtype=None):
        """The stack as an ``nn.Sequential`` of Linear + Sigmoid layers initialized from the RBMs
        (weight Wⁱ, bias cⁱ), plus a randomly initialized ``Linear(top, n_outputs)`` when given."""
        from soma import nn  # classic models are NumPy-only until asked for a soma network

        self._fitted()
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        layers = []
        for rbm in self.rbms_:
            linear = nn.Linear(rbm.components_.shape[1], rbm.components_.shape[0], dtype=dtype)
            linear.weight._array[...] = rbm.components_
            linear.bias._array[...] = rbm.intercept_hidden_
            layers += [linear, nn.Sigmoid()]
        if n_outputs is not None:
            layers.append(nn.Linear(self.hidden_sizes[-1], n_outputs, dtype=dtype))
        return nn.Sequential(*layers)

    def __repr__(self):
        return f"DBN(hidden_sizes={self.hidden_sizes})"
