"""Restricted Boltzmann machine with Bernoulli visible and hidden units, trained by CD-k.

    E(v, h) = −bᵀv − cᵀh − hᵀWv          (energy; no visible-visible or hidden-hidden links)
    P(hⱼ = 1 | v) = σ(cⱼ + Wⱼ·v),   P(vᵢ = 1 | h) = σ(bᵢ + W·ᵢᵀh)
    F(v) = −bᵀv − Σⱼ log(1 + e^(cⱼ + Wⱼ·v))        (free energy: P(v) ∝ e^(−F(v)))

Contrastive divergence (Hinton 2002) follows the gradient of the log-likelihood,
    ΔW = η (⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model),
estimating the model term after k Gibbs steps v → h → v′ → h′ started at the data
(CD-k), or at chains kept from the previous mini-batch (persistent CD, Tieleman 2008).
See notes 003, Q26 "What is a Boltzmann Machine?": the *restricted* machine has one
layer of feature detectors, which makes this sampling fast: each layer is sampled in
one matrix product given the other.

Names follow scikit-learn's ``BernoulliRBM``: ``components_`` is W (hidden × visible),
``intercept_hidden_`` is c, ``intercept_visible_`` is b.
"""

import numpy as np

from soma.classic._validation import check_inputs, check_random_state
from soma.ops.pointwise import stable_sigmoid

__all__ = ["RBM"]


def _softplus(x):
    """log(1 + eˣ) without overflow (1.7x faster than np.logaddexp(0, x))."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


class RBM:
    """Bernoulli-Bernoulli RBM trained by CD-k or persistent CD on mini-batches.

    Args:
        n_components: number of hidden units.
        learning_rate: η.
        batch_size: samples per mini-batch (each epoch visits them in a fresh random order).
        n_iter: epochs.
        k: Gibbs steps per update (CD-k).
        persistent: keep the negative chains between updates (PCD; scikit-learn's choice).
        random_state: ``None`` (soma's global generator), an int seed or a numpy Generator.
        verbose: print the pseudo-likelihood after every epoch.

    Attributes:
        components_: W, ``(n_components, n_features)``, initialized N(0, 0.01²).
        intercept_hidden_: c, ``(n_components,)``; intercept_visible_: b, ``(n_features,)``.
        history_: ``{"pseudo_likelihood": [...], "reconstruction_error": [...]}`` per epoch,
            both on the training data (see :meth:`pseudo_likelihood`).

    Inputs are values in [0, 1] (binary, or probabilities such as grey levels).

    Example:
        >>> X = (np.random.default_rng(0).random((100, 6)) < 0.5).astype(float)
        >>> rbm = RBM(n_components=4, n_iter=2, random_state=0).fit(X)
        >>> rbm.transform(X).shape
        (100, 4)
    """

    def __init__(
        self,
        n_components=256,
        learning_rate=0.1,
        batch_size=10,
        n_iter=10,
        k=1,
        persistent=False,
        random_state=None,
        verbose=False,
    ):
        if n_components < 1 or batch_size < 1 or k < 1 or n_iter < 0:
            raise ValueError(
                f"RBM: n_components, batch_size and k must be >= 1 and n_iter >= 0, got "
                f"{n_components}, {batch_size}, {k}, {n_iter}"
            )
        self.n_components, self.learning_rate, self.batch_size = (
            n_components,
            learning_rate,
            batch_size,
        )
        self.n_iter, self.k, self.persistent = n_iter, k, persistent
        self.random_state, self.verbose = random_state, verbose
        self.history_ = {"pseudo_likelihood": [], "reconstruction_error": []}

    # ---- the two conditionals ---------------------------------------------------------
    def _check(self, X):
        n_features = self.components_.shape[1] if hasattr(self, "components_") else None
        X = check_inputs(X, n_features, repr(self))
        if X.min() < 0 or X.max() > 1:
            raise ValueError(
                f"{self!r} takes values in [0, 1], got range [{X.min():g}, {X.max():g}]"
            )
        return X

    def _fitted(self):
        if not hasattr(self, "components_"):
            raise RuntimeError(f"{self!r} is not fitted: call fit or partial_fit first")

    def _hidden_probs(self, V):
        return stable_sigmoid(V @ self.components_.T + self.intercept_hidden_)

    def _visible_probs(self, H):
        return stable_sigmoid(H @ self.components_ + self.intercept_visible_)

    @staticmethod
    def _bernoulli(probs, rng):
        return (rng.random(probs.shape) < probs).astype(np.float64)

    def transform(self, X):
        """The hidden units' probabilities P(h = 1 | v) = σ(c + Wv): the learned features."""
        self._fitted()
        return self._hidden_probs(self._check(X))

    def reconstruct(self, X):
        """Mean-field reconstruction P(v = 1 | h = P(h = 1 | v)): one deterministic up-down pass."""
        return self._visible_probs(self.transform(X))

    def gibbs(self, v, steps=1):
        """Run ``steps`` Gibbs steps v → h ~ P(h|v) → v ~ P(v|h); returns the visible sample."""
        self._fitted()
        rng = check_random_state(self.random_state)
        v = self._check(v)
        for _ in range(steps):
            v = self._bernoulli(
                self._visible_probs(self._bernoulli(self._hidden_probs(v), rng)), rng
            )
        return v

    # ---- free energy and pseudo-likelihood ----------------------------------------------
    def free_energy(self, X):
        """F(v) = −bᵀv − Σⱼ log(1 + e^(cⱼ + Wⱼ·v)), one value per row."""
        self._fitted()
        X = self._check(X)
        return -X @ self.intercept_visible_ - _softplus(
            X @ self.components_.T + self.intercept_hidden_
        ).sum(1)

    def score_samples(self, X):
        """Stochastic pseudo-log-likelihood, scikit-learn's estimate: D · log σ(F(ṽ) − F(v)).

        ṽ is v with one randomly chosen unit i flipped (vᵢ → 1 − vᵢ); D is the number
        of visible units. Its expectation over i is :meth:`pseudo_likelihood`'s sum.
        """
        self._fitted()
        X = self._check(X)
        rng = check_random_state(self.random_state)
        flipped = X.copy()
        rows, columns = np.arange(len(X)), rng.integers(0, X.shape[1], len(X))
        flipped[rows, columns] = 1 - flipped[rows, columns]
        return X.shape[1] * -_softplus(self.free_energy(X) - self.free_energy(flipped))

    def pseudo_likelihood(self, X, per_sample=False):
        """Exact pseudo-log-likelihood Σᵢ log P(vᵢ | v₋ᵢ) = Σᵢ log σ(F(v⁽ⁱ⁾) − F(v)), row average.

        v⁽ⁱ⁾ flips unit i. All D flips are computed at once: flipping i moves the hidden
        pre-activations by (1 − 2vᵢ)·W·ᵢ, so no loop over units or samples is needed
        (rows are processed in chunks to bound memory). ``per_sample=True`` returns one
        value per row instead of the mean.
        """
        self._fitted()
        X = self._check(X)
        W, b, c = self.components_, self.intercept_visible_, self.intercept_hidden_
        chunk = max(1, 2**22 // (W.size + 1))
        out = np.empty(len(X))
        for start in range(0, len(X), chunk):  # chunks of rows, to bound memory
            V = X[start : start + chunk]
            pre = V @ W.T + c  # (n, H)
            delta = 1 - 2 * V  # (n, D): the change of each unit when flipped
            pre_flipped = pre[:, None, :] + delta[:, :, None] * W.T[None, :, :]  # (n, D, H)
            # F(v⁽ⁱ⁾) − F(v) = −δᵢbᵢ − Σⱼ [softplus(pre⁽ⁱ⁾) − softplus(pre)]
            gap = -delta * b - (_softplus(pre_flipped).sum(2) - _softplus(pre).sum(1)[:, None])
            out[start : start + chunk] = -_softplus(-gap).sum(1)  # log σ(gap) = −softplus(−gap)
        return out if per_sample else float(out.mean())

    # ---- learning -----------------------------------------------------------------------
    def _initialize(self, n_features, rng):
        self.components_ = rng.normal(0.0, 0.01, (self.n_components, n_features))
        self.intercept_hidden_ = np.zeros(self.n_components)
        self.intercept_visible_ = np.zeros(n_features)
        self.h_samples_ = np.zeros((self.batch_size, self.n_components))

    def partial_fit(self, X, y=None):
        """One CD-k (or PCD-k) update on the mini-batch ``X``; returns ``self``."""
        rng = check_random_state(self.random_state)
        if not hasattr(self, "components_"):
            self._initialize(check_inputs(X, None, repr(self)).shape[1], rng)
        self._update(self._check(X), rng)
        return self

    def _update(self, v_pos, rng):
        h_pos = self._hidden_probs(v_pos)
        h = self.h_samples_ if self.persistent else self._bernoulli(h_pos, rng)
        for _ in range(self.k):
            v_neg = self._bernoulli(self._visible_probs(h), rng)
            h_neg = self._hidden_probs(v_neg)
            h = self._bernoulli(h_neg, rng)
        if self.persistent:
            self.h_samples_ = h
        lr = self.learning_rate
        # ΔW = η(⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model), each average over its own rows
        self.components_ += lr * (h_pos.T @ v_pos / len(v_pos) - h_neg.T @ v_neg / len(v_neg))
        self.intercept_hidden_ += lr * (h_pos.mean(0) - h_neg.mean(0))
        self.intercept_visible_ += lr * (v_pos.mean(0) - v_neg.mean(0))

    def fit(self, X, y=None):
        """Train for ``n_iter`` epochs of shuffled mini-batches; returns ``self``.

        ``y`` is ignored (the RBM is unsupervised); it is accepted for the
        ``fit(X, y)`` convention of scikit-learn.
        """
        X = check_inputs(X, None, repr(self))
        rng = check_random_state(self.random_state)
        self._initialize(X.shape[1], rng)
        X = self._check(X)
        self.history_ = {"pseudo_likelihood": [], "reconstruction_error": []}
        for epoch in range(1, self.n_iter + 1):
            order = rng.permutation(len(X))
            for start in range(0, len(X), self.batch_size):  # mini-batches, each one vectorized
                self._update(X[order[start : start + self.batch_size]], rng)
            self.history_["pseudo_likelihood"].append(self.pseudo_likelihood(X))
            self.history_["reconstruction_error"].append(
                float(np.mean((X - self.reconstruct(X)) ** 2))
            )
            if self.verbose:
                print(
                    f"[RBM] epoch {epoch}: pseudo-likelihood "
                    f"{self.history_['pseudo_likelihood'][-1]:.2f}"
                )
        return self

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def __repr__(self):
        kind = "PCD" if self.persistent else "CD"
        return (
            f"RBM(n_components={self.n_components}, {kind}-{self.k}, "
            f"learning_rate={self.learning_rate:g})"
        )
