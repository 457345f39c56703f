"""Logistic regression, p = σ(b + Σ aᵢxᵢ), trained on binary cross-entropy (notes 002).

1. The notes' forward pass (z = 0.19, p = 0.5474) and BCE examples (0.2231, 0.3567).
2. Gradient descent on the breast-cancer data (standardized): the loss per iteration.
3. The same objective as scikit-learn's LogisticRegression(C=1): coefficients side by
   side for L2 and L1 (λ = 1/(2CN) and 1/(CN)); L1 sets some weights exactly to zero.
"""

import numpy as np

from soma.classic import LogisticRegression, alpha_from_C, log_loss

model = LogisticRegression()
model.coef_, model.intercept_ = np.array([[0.01, 0.02, 0.03]]), np.array([0.05])
x = [[1.0, 2.0, 3.0]]
z, p = model.decision_function(x)[0], model.predict_proba(x)[0, 1]
print(
    f"notes 002: z = 0.05 + 0.01·1 + 0.02·2 + 0.03·3 = {z:.2f}, p = σ(z) = {p:.4f}, "
    f"class {model.predict(x)[0]}"
)
print(
    f"BCE(y=1, P=0.8) = {log_loss([1], [0.8]):.4f}   BCE(y=0, P=0.3) = {log_loss([0], [0.3]):.4f}"
)

try:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
except ImportError:  # scikit-learn is the optional extra soma[data]
    raise SystemExit('the rest needs scikit-learn: pip install "soma[data]"') from None

X, y = load_breast_cancer(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)
N = len(X)

gd = LogisticRegression("l2", alpha_from_C(1.0, N, "l2"), solver="gd", lr=1.0).fit(X, y)
print(f"\ngradient descent (lr 1.0): {gd.n_iter_} iterations to |gradient| < 1e-8")
for it in (1, 10, 100, 1000, gd.n_iter_):
    print(f"  iteration {it:5d}: J = {gd.history_['loss'][it - 1]:.8f}")
fast = LogisticRegression("l2", alpha_from_C(1.0, N, "l2"), solver="newton").fit(X, y)
print(
    f"Newton's method reaches the same point in {fast.n_iter_} iterations; training accuracy "
    f"{fast.score(X, y):.4f}"
)

sk_l2 = SkLogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(X, y)
# liblinear penalizes the intercept too; a large intercept_scaling makes that negligible
sk_l1 = SkLogisticRegression(
    C=1.0, l1_ratio=1.0, solver="liblinear", tol=1e-12, max_iter=100000, intercept_scaling=1e4
).fit(X, y)
l1 = LogisticRegression("l1", alpha_from_C(1.0, N, "l1"), tol=1e-10).fit(X, y)
print("\nfirst 8 coefficients, soma vs scikit-learn (C = 1):")
print("  L2 soma    ", np.round(fast.coef_[0, :8], 4))
print("  L2 sklearn ", np.round(sk_l2.coef_[0, :8], 4))
print("  L1 soma    ", np.round(l1.coef_[0, :8], 4) + 0.0)  # + 0.0: no "-0."
print("  L1 sklearn ", np.round(sk_l1.coef_[0, :8], 4) + 0.0)
print(
    f"max |difference|: L2 {np.abs(fast.coef_ - sk_l2.coef_).max():.1e}, "
    f"L1 {np.abs(l1.coef_ - sk_l1.coef_).max():.1e}"
)
print(
    f"L1 zeroes {(l1.coef_ == 0).sum()} of {X.shape[1]} weights "
    f"(scikit-learn: {(sk_l1.coef_ == 0).sum()})"
)
