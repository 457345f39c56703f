"""A restricted Boltzmann machine on the 8×8 digits, side by side with scikit-learn's.

Trains a Bernoulli RBM (64 hidden units, persistent CD-1, the same settings as
scikit-learn's BernoulliRBM), prints the pseudo-log-likelihood after every epoch,
compares it with scikit-learn's model on the same exact measure, then uses the
hidden units' probabilities as features for a logistic regression.
"""

import time

import numpy as np

import soma
from soma import datasets
from soma.classic import RBM, LogisticRegression, alpha_from_C

try:  # small matrices: one BLAS thread is faster, and steadier on a busy machine
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

soma.manual_seed(0)
(X, y), (X_test, y_test) = datasets.digits()
X, X_test = X.astype(np.float64), X_test.astype(np.float64)
settings = dict(n_components=64, learning_rate=0.05, batch_size=10, n_iter=20)

start = time.perf_counter()
rbm = RBM(persistent=True, **settings).fit(X)
print(f"soma RBM, PCD-1, {settings}: {time.perf_counter() - start:.1f} s")
print("epoch  pseudo-log-likelihood  reconstruction MSE")
for epoch, (pl, err) in enumerate(
    zip(rbm.history_["pseudo_likelihood"], rbm.history_["reconstruction_error"], strict=True), 1
):
    print(f"{epoch:5d}  {pl:21.3f}  {err:18.4f}")
print(f"test pseudo-log-likelihood: {rbm.pseudo_likelihood(X_test):.3f} per image")

try:
    from sklearn.neural_network import BernoulliRBM
except ImportError:
    BernoulliRBM = None
if BernoulliRBM is not None:
    theirs = BernoulliRBM(random_state=0, **settings).fit(X)
    mirror = RBM(n_components=64)  # scikit-learn's weights inside a soma RBM, for the same measure
    mirror.components_ = theirs.components_
    mirror.intercept_hidden_ = theirs.intercept_hidden_
    mirror.intercept_visible_ = theirs.intercept_visible_
    print("\nexact pseudo-log-likelihood on the test images (higher is better):")
    print(f"  soma RBM     {rbm.pseudo_likelihood(X_test):.3f}")
    print(f"  scikit-learn {mirror.pseudo_likelihood(X_test):.3f}")
    print("scikit-learn's own stochastic estimate (score_samples), mean over test images:")
    print(f"  soma RBM     {rbm.score_samples(X_test).mean():.3f}")
    print(f"  scikit-learn {theirs.score_samples(X_test).mean():.3f}")

alpha = alpha_from_C(10.0, len(X), "l2")
raw = LogisticRegression("l2", alpha, solver="newton").fit(X, y)
features = LogisticRegression("l2", alpha, solver="newton").fit(rbm.transform(X), y)
print("\nlogistic regression (one-vs-rest) test accuracy:")
print(f"  on the 64 raw pixels:         {raw.score(X_test, y_test):.3f}")
print(f"  on the 64 RBM hidden features: {features.score(rbm.transform(X_test), y_test):.3f}")

samples = rbm.gibbs(X_test[:5], steps=1000)
print("\n5 test digits after 1000 Gibbs steps (rows of the 8×8 image, # = on):")
for row in range(8):
    print("   ".join("".join("#" if v else "." for v in s.reshape(8, 8)[row]) for s in samples))
