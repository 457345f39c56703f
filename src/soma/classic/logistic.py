"""Logistic regression: a sigmoid neuron fitted by minimizing binary cross-entropy.

    z = b + Σᵢ aᵢxᵢ,   p = σ(z) = 1 / (1 + e⁻ᶻ)                     (notes 002)
    J(a, b) = (1/N) Σₙ −[yₙ ln pₙ + (1 − yₙ) ln(1 − pₙ)] + λ·R(a)
    R(a) = Σᵢ aᵢ² (L2, ridge)  or  Σᵢ |aᵢ| (L1, lasso)           (notes 002: no ½ factor)
    ∇ₐJ = (1/N) Xᵀ(p − y) + 2λa (L2),   ∂J/∂b = mean(p − y)       (the bias is not penalized)

Built on plain NumPy, not on soma's autograd: the gradient above is one line, and the
Newton solver needs the Hessian (1/N) Xᵀ diag(p(1 − p)) X, which autograd does not
give; the tests check this loss against soma's ``nn.BCELoss``.

Solvers (all stop when the largest entry of the (proximal) gradient falls below ``tol``):

- ``"gd"``: the notes' gradient descent, w ← w − η∇J, with a soft-threshold
  (proximal) step for L1 so weights reach exactly zero. Slow on ill-conditioned data.
- ``"fista"`` (default): the same step with Nesterov momentum and restarts
  (FISTA; Beck & Teboulle 2009), step size 1/L from the data, so no ``lr`` to tune.
- ``"newton"``: Newton-Raphson (IRLS), a handful of iterations to machine precision;
  L2 or no penalty only (|a| has no second derivative at 0).

Same objective as scikit-learn: its ``C·Σ log-loss + ½‖a‖²`` divided by C·N is this J
with λ = 1/(2CN) for L2, and ``C·Σ log-loss + ‖a‖₁`` gives λ = 1/(CN) for L1
(:func:`alpha_from_C`). More than two classes are fitted one-vs-rest, one binary model
per class, all at once.
"""

import warnings

import numpy as np

from soma.classic._validation import ConvergenceWarning, check_inputs, check_targets
from soma.ops.pointwise import stable_sigmoid

__all__ = ["LogisticRegression", "alpha_from_C", "log_loss"]

_PENALTIES = (None, "l1", "l2")
_SOLVERS = ("gd", "fista", "newton")


def log_loss(y_true, y_prob, eps=1e-15):
    """Binary cross-entropy −[y ln P + (1 − y) ln(1 − P)], averaged over the samples.

    P is clipped to [eps, 1 − eps] so that ln never sees 0.

    Example (notes 002, spam email: y = 1, P = 0.8 and y = 0, P = 0.3):
        >>> round(log_loss([1], [0.8]), 4), round(log_loss([0], [0.3]), 4)
        (0.2231, 0.3567)
    """
    y = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.clip(np.asarray(y_prob, dtype=np.float64).reshape(-1), eps, 1 - eps)
    if y.shape != p.shape:
        raise ValueError(f"log_loss: y_true has shape {y.shape} but y_prob has {p.shape}")
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log1p(-p))))


def alpha_from_C(C, n_samples, penalty="l2"):
    """The λ (``alpha``) that gives scikit-learn's ``LogisticRegression(C=C)`` objective.

    L2: λ = 1/(2·C·N); L1: λ = 1/(C·N).

    Example:
        >>> alpha_from_C(1.0, 100, "l2")
        0.005
    """
    if penalty not in ("l1", "l2"):
        raise ValueError(f"alpha_from_C: penalty must be 'l1' or 'l2', got {penalty!r}")
    return 1.0 / (C * n_samples) / (2.0 if penalty == "l2" else 1.0)


class LogisticRegression:
    """Binary (and one-vs-rest) logistic regression p = σ(b + Σᵢ aᵢxᵢ), BCE + λ·penalty.

    Args:
        penalty: ``"l2"`` (default), ``"l1"`` or ``None``.
        alpha: λ, the penalty strength (the notes' λ; see :func:`alpha_from_C`).
        solver: ``"fista"`` (default), ``"gd"`` or ``"newton"`` (see the module doc).
        lr: step η of ``"gd"`` (the other solvers choose their own).
        max_iter: most iterations.
        tol: stop when max |(proximal) gradient| < tol.
        fit_intercept: learn the bias b.

    Attributes (scikit-learn's names):
        classes_: the class labels, sorted.
        coef_: ``(1, n_features)`` for two classes, ``(n_classes, n_features)`` otherwise.
        intercept_: ``(1,)`` or ``(n_classes,)``.
        n_iter_: iterations run.
        history_: ``{"loss": [...]}``, the objective J at every iteration (at the
            point where the gradient was taken).

    Example (notes 002: x = (1, 2, 3), a = (0.01, 0.02, 0.03), b = 0.05):
        >>> model = LogisticRegression()
        >>> model.coef_, model.intercept_ = np.array([[0.01, 0.02, 0.03]]), np.array([0.05])
        >>> model.decision_function([[1.0, 2.0, 3.0]]).round(4)
        array([0.19])
        >>> model.predict_proba([[1.0, 2.0, 3.0]])[:, 1].round(4)
        array([0.5474])
    """

    def __init__(
        self,
        penalty="l2",
        alpha=1e-3,
        solver="fista",
        lr=0.1,
        max_iter=10000,
        tol=1e-8,
        fit_intercept=True,
    ):
        if penalty not in _PENALTIES:
            raise ValueError(
                f"LogisticRegression: penalty must be one of {_PENALTIES}, got {penalty!r}"
            )
        if solver not in _SOLVERS:
            raise ValueError(
                f"LogisticRegression: solver must be one of {_SOLVERS}, got {solver!r}"
            )
        if solver == "newton" and penalty == "l1":
            raise ValueError(
                "LogisticRegression: solver='newton' needs a smooth penalty (l2 or None), not l1"
            )
        if alpha < 0:
            raise ValueError(f"LogisticRegression: alpha must be >= 0, got {alpha}")
        self.penalty, self.alpha, self.solver = penalty, float(alpha), solver
        self.lr, self.max_iter, self.tol, self.fit_intercept = lr, max_iter, tol, fit_intercept
        self.classes_ = np.array([0, 1])
        self.history_ = {"loss": []}
        self.n_iter_ = 0

    # ---- prediction -------------------------------------------------------------------
    def _check(self, X):
        n_features = np.shape(self.coef_)[-1] if hasattr(self, "coef_") else None
        return check_inputs(X, n_features, repr(self))

    def decision_function(self, X):
        """z = b + Σᵢ aᵢxᵢ: ``(n_samples,)`` for two classes, else ``(n_samples, n_classes)``."""
        if not hasattr(self, "coef_"):
            raise RuntimeError(f"{self!r} is not fitted: call fit or set coef_ and intercept_")
        coef = np.atleast_2d(self.coef_)
        z = self._check(X) @ coef.T + np.reshape(self.intercept_, -1)
        return z[:, 0] if coef.shape[0] == 1 else z

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, n_classes)``: [1 − p, p] for two classes,
        one-vs-rest probabilities normalized to sum to 1 otherwise."""
        p = stable_sigmoid(self.decision_function(X))
        if p.ndim == 1:
            return np.column_stack([1 - p, p])
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class (p ≥ 0.5 for two classes)."""
        z = self.decision_function(X)
        index = (z >= 0).astype(np.int64) if z.ndim == 1 else z.argmax(axis=1)
        return np.asarray(self.classes_)[index]

    def score(self, X, y):
        """Accuracy: the fraction of samples predicted right."""
        return float(np.mean(self.predict(X) == np.asarray(y).reshape(-1)))

    # ---- the objective ----------------------------------------------------------------
    def _penalty(self, W):
        if self.penalty == "l2":
            return self.alpha * np.sum(W[:, :-1] ** 2, axis=1)
        if self.penalty == "l1":
            return self.alpha * np.sum(np.abs(W[:, :-1]), axis=1)
        return 0.0

    def _smooth(self, W, Xb, Y):
        """Per-class objective without the L1 term, and its gradient (W holds [a | b])."""
        Z = Xb @ W.T
        loss = np.mean(np.logaddexp(0.0, Z) - Y * Z, axis=0)  # BCE from logits, stable
        grad = (stable_sigmoid(Z) - Y).T @ Xb / Xb.shape[0]
        if self.penalty == "l2":
            loss = loss + self._penalty(W)
            grad[:, :-1] += 2 * self.alpha * W[:, :-1]
        return loss, grad

    def _prox(self, W, step):
        """L1's proximal step: soft-threshold the weights (not the bias) by step·λ."""
        if self.penalty == "l1":
            W[:, :-1] = np.sign(W[:, :-1]) * np.maximum(np.abs(W[:, :-1]) - step * self.alpha, 0.0)
        if not self.fit_intercept:
            W[:, -1] = 0.0
        return W

    def loss(self, X, y):
        """The objective J (mean BCE + λ·penalty) of the current weights on (X, y)."""
        X = self._check(X)
        Y = self._targets(check_targets(y, X.shape[0], repr(self), dtype=None), fit=False)
        W = np.column_stack([np.atleast_2d(self.coef_), np.reshape(self.intercept_, -1)])
        smooth, _ = self._smooth(W, np.column_stack([X, np.ones(len(X))]), Y)
        total = smooth + (self._penalty(W) if self.penalty == "l1" else 0.0)
        return float(np.mean(total))

    # ---- fitting ----------------------------------------------------------------------
    def _targets(self, y, fit):
        if fit:
            self.classes_ = np.unique(y)
            if self.classes_.size < 2:
                raise ValueError(f"{self!r} needs at least two classes, got {self.classes_}")
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"{self!r}: labels {np.unique(y[unknown])} are not in classes_ {self.classes_}"
            )
        columns = self.classes_[1:] if self.classes_.size == 2 else self.classes_
        return (y[:, None] == columns[None, :]).astype(np.float64)

    def fit(self, X, y):
        """Minimize J on (X, y) with the chosen solver; returns ``self``."""
        X = check_inputs(X, None, repr(self))
        Y = self._targets(check_targets(y, X.shape[0], repr(self), dtype=None), fit=True)
        Xb = np.column_stack([X, np.ones(len(X)) if self.fit_intercept else np.zeros(len(X))])
        W = np.zeros((Y.shape[1], Xb.shape[1]))
        self.history_ = {"loss": []}
        W, converged = getattr(self, "_solve_" + self.solver)(W, Xb, Y)
        if not converged:
            warnings.warn(
                f"{self!r} did not reach tol={self.tol:g} in {self.max_iter} iterations",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.coef_, self.intercept_ = W[:, :-1].copy(), W[:, -1].copy()
        return self

    def _record(self, loss, W):
        total = loss + (self._penalty(W) if self.penalty == "l1" else 0.0)
        self.history_["loss"].append(float(np.mean(total)))

    def _solve_gd(self, W, Xb, Y, step=None, momentum=False):
        step = self.lr if step is None else step
        Z, t = W.copy(), 1.0  # Z: the point where the gradient is taken (= W without momentum)
        for iteration in range(1, self.max_iter + 1):
            self.n_iter_ = iteration
            loss, grad = self._smooth(Z, Xb, Y)
            self._record(loss, Z)
            new = self._prox(Z - step * grad, step)
            mapping = (Z - new) / step  # the (proximal) gradient at Z
            if momentum:
                if np.sum((Z - new) * (new - W)) > 0:  # moving uphill: restart the momentum
                    t = 1.0
                t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
                Z, W, t = new + (t - 1) / t_next * (new - W), new, t_next
            else:
                Z = W = new
            if np.max(np.abs(mapping)) < self.tol:
                return new, True
        return W, False

    def _solve_fista(self, W, Xb, Y):
        # L: Lipschitz constant of the BCE gradient, ¼·σ_max(X)²/N, plus the L2 term's 2λ
        lipschitz = 0.25 * np.linalg.norm(Xb, 2) ** 2 / Xb.shape[0]
        if self.penalty == "l2":
            lipschitz += 2 * self.alpha
        return self._solve_gd(W, Xb, Y, step=1.0 / lipschitz, momentum=True)

    def _solve_newton(self, W, Xb, Y):
        ridge = np.full(Xb.shape[1], 2 * self.alpha if self.penalty == "l2" else 0.0)
        ridge[-1] = 0.0 if self.fit_intercept else 1.0  # a dead intercept column stays at 0
        for iteration in range(1, self.max_iter + 1):
            self.n_iter_ = iteration
            loss, grad = self._smooth(W, Xb, Y)
            self._record(loss, W)
            if np.max(np.abs(grad)) < self.tol:
                return W, True
            P = stable_sigmoid(Xb @ W.T)
            for k in range(W.shape[0]):  # one Newton system per class (not per sample)
                hessian = (Xb * (P[:, k] * (1 - P[:, k]))[:, None]).T @ Xb / Xb.shape[0]
                direction = np.linalg.solve(hessian + np.diag(ridge), grad[k])
                W[k] = self._line_search(W[k], direction, loss[k], Xb, Y[:, k : k + 1])
        return W, False

    def _line_search(self, w, direction, loss, Xb, y):
        """Newton step, halved until J does not increase (pure Newton can overshoot)."""
        step = 1.0
        for _ in range(30):
            candidate = w - step * direction
            if self._smooth(candidate[None, :], Xb, y)[0][0] <= loss + 1e-12:
                return candidate
            step /= 2
        return candidate

    def __repr__(self):
        return (
            f"LogisticRegression(penalty={self.penalty!r}, alpha={self.alpha:g}, "
            f"solver={self.solver!r})"
        )
