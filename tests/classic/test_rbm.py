"""RBM: free energy and pseudo-likelihood against brute-force enumeration, the CD-1 update,
training on digits (pseudo-likelihood rising, comparable to scikit-learn's BernoulliRBM),
features for a logistic regression."""

import itertools

import numpy as np
import pytest
from sklearn.neural_network import BernoulliRBM
from threadpoolctl import threadpool_limits

import soma
from soma import datasets
from soma.classic import RBM, LogisticRegression, alpha_from_C


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """These small GEMMs run faster, and far more steadily on a busy machine, on one BLAS thread."""
    with threadpool_limits(1):
        yield


def tiny_rbm(n_visible=4, n_hidden=3, seed=0):
    rng = np.random.default_rng(seed)
    rbm = RBM(n_components=n_hidden)
    rbm.components_ = rng.normal(0, 1, (n_hidden, n_visible))
    rbm.intercept_hidden_ = rng.normal(0, 1, n_hidden)
    rbm.intercept_visible_ = rng.normal(0, 1, n_visible)
    return rbm


def all_states(n):
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def energy(rbm, v, h):
    # E(v, h) = −bᵀv − cᵀh − hᵀWv
    return -v @ rbm.intercept_visible_ - h @ rbm.intercept_hidden_ - h @ rbm.components_ @ v


def test_free_energy_is_minus_log_sum_over_hidden_states():
    rbm = tiny_rbm()
    V, H = all_states(4), all_states(3)
    brute = np.array([-np.log(sum(np.exp(-energy(rbm, v, h)) for h in H)) for v in V])
    np.testing.assert_allclose(rbm.free_energy(V), brute, rtol=1e-12)


def test_pseudo_likelihood_against_enumeration():
    rbm = tiny_rbm()
    V = all_states(4)
    unnormalized = np.exp(-rbm.free_energy(V))  # P(v) ∝ e^(−F(v))
    index = {tuple(v): i for i, v in enumerate(V)}
    expected = []
    for v in V:
        total = 0.0
        for i in range(4):
            flipped = v.copy()
            flipped[i] = 1 - flipped[i]
            p, q = unnormalized[index[tuple(v)]], unnormalized[index[tuple(flipped)]]
            total += np.log(p / (p + q))  # log P(vᵢ | v₋ᵢ)
        expected.append(total)
    np.testing.assert_allclose(rbm.pseudo_likelihood(V, per_sample=True), expected, rtol=1e-12)
    assert rbm.pseudo_likelihood(V) == pytest.approx(np.mean(expected), rel=1e-12)
    # scikit-learn's stochastic estimate (one random flip, times D) averages to the same sum
    rbm.random_state = np.random.default_rng(0)  # a Generator: a fresh flip on every call
    estimates = np.mean([rbm.score_samples(V) for _ in range(3000)], axis=0)
    np.testing.assert_allclose(estimates, expected, rtol=0.05)


def test_conditionals_and_transform():
    rbm = tiny_rbm()
    V = all_states(4)
    H = all_states(3)
    # P(h_j = 1 | v) from the joint: Σ_h h_j e^(−E) / Σ_h e^(−E)
    weights = np.exp(-np.array([[energy(rbm, v, h) for h in H] for v in V]))
    expected = weights @ H / weights.sum(1, keepdims=True)
    np.testing.assert_allclose(rbm.transform(V), expected, rtol=1e-12)
    rbm.random_state = 1
    sample = rbm.gibbs(V, steps=3)
    assert sample.shape == V.shape and set(np.unique(sample)) <= {0.0, 1.0}


def test_cd1_update_formula():
    rbm = tiny_rbm()
    rbm.learning_rate, rbm.k, rbm.random_state = 0.1, 1, np.random.default_rng(7)
    W, b, c = rbm.components_.copy(), rbm.intercept_visible_.copy(), rbm.intercept_hidden_.copy()
    v0 = all_states(4)[[3, 5, 14]]
    rbm.partial_fit(v0)
    # the same step by hand with the same random numbers
    rng = np.random.default_rng(7)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    h0 = sig(v0 @ W.T + c)
    h_sample = (rng.random(h0.shape) < h0).astype(float)
    v1 = (rng.random(v0.shape) < sig(h_sample @ W + b)).astype(float)
    h1 = sig(v1 @ W.T + c)
    np.testing.assert_allclose(rbm.components_, W + 0.1 * (h0.T @ v0 - h1.T @ v1) / 3, rtol=1e-12)
    np.testing.assert_allclose(rbm.intercept_visible_, b + 0.1 * (v0 - v1).mean(0), rtol=1e-12)
    np.testing.assert_allclose(rbm.intercept_hidden_, c + 0.1 * (h0 - h1).mean(0), rtol=1e-12)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("persistent", [False, True])
def test_cdk_runs_exactly_k_gibbs_steps(k, persistent):
    """CD-k/PCD-k by hand with the same random numbers: k full steps h → v′ → h′, the positive phase on
    the data's probabilities, the negative one on the last step's visible sample and hidden probabilities."""
    rbm = tiny_rbm()
    rbm.learning_rate, rbm.k, rbm.persistent, rbm.batch_size = 0.1, k, persistent, 3
    v0 = all_states(4)[[3, 5, 14]]
    rng = np.random.default_rng(11)
    chains = (rng.random((3, 3)) < 0.5).astype(float)
    rbm.random_state = np.random.default_rng(7)
    rbm.h_samples_ = chains.copy()
    W, b, c = rbm.components_.copy(), rbm.intercept_visible_.copy(), rbm.intercept_hidden_.copy()
    rbm.partial_fit(v0)
    rng = np.random.default_rng(7)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    h0 = sig(v0 @ W.T + c)
    h = chains if persistent else (rng.random(h0.shape) < h0).astype(float)
    for _ in range(k):
        v = (rng.random(v0.shape) < sig(h @ W + b)).astype(float)
        hk = sig(v @ W.T + c)
        h = (rng.random(hk.shape) < hk).astype(float)
    np.testing.assert_allclose(rbm.components_, W + 0.1 * (h0.T @ v0 - hk.T @ v) / 3, rtol=1e-12)
    np.testing.assert_allclose(rbm.intercept_visible_, b + 0.1 * (v0 - v).mean(0), rtol=1e-12)
    np.testing.assert_allclose(rbm.intercept_hidden_, c + 0.1 * (h0 - hk).mean(0), rtol=1e-12)
    if persistent:
        np.testing.assert_array_equal(rbm.h_samples_, h)  # the chains carry on from the last sample


@pytest.fixture(scope="module")
def digits():
    (X, y), (X_test, y_test) = datasets.digits()
    return X.astype(np.float64), y, X_test.astype(np.float64), y_test


@pytest.fixture(scope="module")
def trained(digits):
    X = digits[0]
    settings = dict(n_components=64, learning_rate=0.05, batch_size=10, n_iter=10, random_state=0)
    ours = RBM(persistent=True, **settings).fit(X)
    theirs = BernoulliRBM(**settings).fit(X)
    return ours, theirs


def test_pseudo_likelihood_rises_during_training(trained):
    history = trained[0].history_["pseudo_likelihood"]
    assert len(history) == 10
    assert history[-1] > history[0] + 2  # measured: -25.0 -> -21.0
    assert np.mean(history[-3:]) > np.mean(history[:3])
    errors = trained[0].history_["reconstruction_error"]
    assert errors[-1] < errors[0]


def test_pseudo_likelihood_comparable_with_sklearn(trained, digits):
    ours, theirs = trained
    X = digits[0]
    mirror = RBM(n_components=64)
    mirror.components_ = theirs.components_
    mirror.intercept_hidden_, mirror.intercept_visible_ = (
        theirs.intercept_hidden_,
        theirs.intercept_visible_,
    )
    # the same (exact) measure for both, and scikit-learn's own estimate for both
    exact_ours, exact_theirs = ours.pseudo_likelihood(X), mirror.pseudo_likelihood(X)
    assert abs(exact_ours - exact_theirs) < 0.1 * abs(exact_theirs)  # measured: -21.0 vs -21.3
    assert abs(ours.score_samples(X).mean() - theirs.score_samples(X).mean()) < 0.15 * abs(
        exact_theirs
    )
    # an untrained RBM is far worse
    untrained = RBM(n_components=64, n_iter=0, random_state=0).fit(X)
    assert untrained.pseudo_likelihood(X) < exact_ours - 10


def test_features_for_logistic_regression(trained, digits):
    ours, theirs = trained
    X, y, X_test, y_test = digits
    alpha = alpha_from_C(10.0, len(X), "l2")
    scores = {}
    for name, rbm in (("ours", ours), ("sklearn", theirs)):
        clf = LogisticRegression("l2", alpha, solver="newton").fit(rbm.transform(X), y)
        scores[name] = clf.score(rbm.transform(X_test), y_test)
    assert scores["ours"] > 0.85  # measured about 0.92
    assert scores["ours"] > scores["sklearn"] - 0.05


def test_repeatable_with_manual_seed():
    X = (np.random.default_rng(0).random((50, 5)) < 0.5).astype(float)
    soma.manual_seed(3)
    first = RBM(n_components=4, n_iter=2, k=2).fit(X).components_
    soma.manual_seed(3)
    second = RBM(n_components=4, n_iter=2, k=2).fit(X).components_
    np.testing.assert_array_equal(first, second)


def test_bad_inputs():
    with pytest.raises(RuntimeError, match="not fitted"):
        RBM(4).transform(np.zeros((2, 3)))
    rbm = RBM(n_components=2, n_iter=1, random_state=0).fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(n_samples, 3\), got \(2, 5\)"):
        rbm.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm.transform(np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="n_components"):
        RBM(n_components=0)
