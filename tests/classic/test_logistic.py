"""Logistic regression: notes 002's forward pass and BCE values, gradients vs soma autograd,
coefficients vs scikit-learn with the same objective (L2: λ = 1/(2CN), L1: λ = 1/(CN))."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import soma
from soma.classic import ConvergenceWarning, LogisticRegression, alpha_from_C, log_loss


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """These small GEMMs run faster, and far more steadily on a busy machine, on one BLAS thread."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_notes_002_forward_pass():
    # x = (1, 2, 3), a = (0.01, 0.02, 0.03), b = 0.05: z = 0.19, p = 0.5474, class 1
    model = LogisticRegression()
    model.coef_, model.intercept_ = np.array([[0.01, 0.02, 0.03]]), np.array([0.05])
    x = [[1.0, 2.0, 3.0]]
    assert model.decision_function(x)[0] == pytest.approx(0.19, abs=1e-15)
    assert model.predict_proba(x)[0, 1] == pytest.approx(0.547357618143, abs=1e-12)
    assert model.predict(x)[0] == 1


def test_notes_002_bce_examples():
    assert log_loss([1], [0.8]) == pytest.approx(0.223143551314, abs=1e-12)  # notes 0.2231
    assert log_loss([0], [0.3]) == pytest.approx(0.356674943939, abs=1e-12)  # notes 0.3567
    assert log_loss([1, 0], [0.8, 0.3]) == pytest.approx(0.289909247626, abs=1e-12)
    assert np.isfinite(log_loss([1, 0], [0.0, 1.0]))  # clipped, no log(0)
    with pytest.raises(ValueError, match="shape"):
        log_loss([1, 0], [0.5])


def test_objective_and_gradient_match_soma_autograd():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    a, b, lam = rng.normal(size=3), 0.3, 0.05
    model = LogisticRegression(penalty="l2", alpha=lam)
    model.coef_, model.intercept_ = a[None, :], np.array([b])
    # the same J written with soma ops, differentiated by soma's autograd
    w = soma.tensor(a, requires_grad=True)
    bias = soma.tensor(np.array(b), requires_grad=True)
    p = soma.sigmoid(soma.tensor(X) @ w + bias)
    t = soma.tensor(y.astype(np.float64))
    J = -(t * soma.log(p) + (1 - t) * soma.log(1 - p)).mean() + lam * (w * w).sum()
    J.backward()
    assert model.loss(X, y) == pytest.approx(J.item(), rel=1e-12)
    _, grad = model._smooth(np.r_[a, b][None, :], np.c_[X, np.ones(20)], y[:, None].astype(float))
    np.testing.assert_allclose(grad[0], np.r_[w.grad.numpy(), bias.grad.item()], rtol=1e-10)


@pytest.mark.parametrize("solver", ["fista", "newton", "gd"])
@pytest.mark.parametrize("C", [1.0, 0.1])
def test_l2_matches_sklearn(cancer, solver, C):
    X, y = cancer
    sk = SkLogisticRegression(C=C, tol=1e-12, max_iter=100000).fit(X, y)
    model = LogisticRegression("l2", alpha_from_C(C, len(X), "l2"), solver=solver, lr=1.0).fit(X, y)
    # stated tolerance: 1e-4 absolute on every coefficient (measured: about 5e-6)
    np.testing.assert_allclose(model.coef_, sk.coef_, atol=1e-4)
    np.testing.assert_allclose(model.intercept_, sk.intercept_, atol=1e-4)
    np.testing.assert_allclose(model.predict_proba(X), sk.predict_proba(X), atol=1e-5)
    assert model.score(X, y) == sk.score(X, y)
    assert model.history_["loss"][-1] < model.history_["loss"][0]


def test_l1_matches_sklearn(cancer):
    X, y = cancer
    C = 1.0
    # liblinear penalizes the intercept; a large intercept_scaling makes that penalty negligible
    sk = SkLogisticRegression(
        C=C, l1_ratio=1.0, solver="liblinear", tol=1e-12, max_iter=100000, intercept_scaling=1e4
    ).fit(X, y)
    model = LogisticRegression("l1", alpha_from_C(C, len(X), "l1"), tol=1e-10).fit(X, y)
    # same sparsity pattern: exact zeros from the soft-threshold step
    np.testing.assert_array_equal(model.coef_ == 0, sk.coef_ == 0)
    assert (model.coef_ == 0).sum() >= 10
    # the L1 objective is flat along some directions:
    # coefficients within 2e-3, objective within 1e-9
    np.testing.assert_allclose(model.coef_, sk.coef_, atol=2e-3)
    reference = LogisticRegression("l1", model.alpha)
    reference.coef_, reference.intercept_ = sk.coef_, sk.intercept_
    assert model.loss(X, y) <= reference.loss(X, y) + 1e-9


def test_one_vs_rest_matches_sklearn():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    sk = OneVsRestClassifier(SkLogisticRegression(C=1.0, tol=1e-12, max_iter=100000)).fit(X, y)
    model = LogisticRegression("l2", alpha_from_C(1.0, len(X), "l2"), solver="newton").fit(X, y)
    assert model.coef_.shape == (3, 4)
    sk_coef = np.vstack([e.coef_ for e in sk.estimators_])
    np.testing.assert_allclose(model.coef_, sk_coef, atol=1e-4)
    np.testing.assert_allclose(model.predict_proba(X), sk.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(model.predict(X), sk.predict(X))


def test_string_labels_and_no_penalty():
    X = np.array([[-2.0], [-1.0], [0.5], [1.0], [-0.2], [2.0]])
    y = np.array(["no", "no", "yes", "yes", "yes", "no"])
    model = LogisticRegression(penalty=None, solver="newton").fit(X, y)
    assert list(model.classes_) == ["no", "yes"]
    assert set(model.predict(X)) <= {"no", "yes"}
    # at the unpenalized optimum the gradient is zero: mean(p - y) = 0
    p = model.predict_proba(X)[:, 1]
    assert np.mean(p - (y == "yes")) == pytest.approx(0.0, abs=1e-8)


def test_gd_warns_when_it_runs_out_of_iterations(cancer):
    X, y = cancer
    with pytest.warns(ConvergenceWarning, match="tol"):
        LogisticRegression("l2", 1e-3, solver="gd", lr=0.01, max_iter=20).fit(X, y)


def test_bad_calls():
    with pytest.raises(ValueError, match="newton"):
        LogisticRegression(penalty="l1", solver="newton")
    with pytest.raises(ValueError, match="penalty"):
        LogisticRegression(penalty="elasticnet")
    with pytest.raises(RuntimeError, match="not fitted"):
        LogisticRegression().predict([[1.0]])
    model = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    with pytest.raises(ValueError, match=r"\(n_samples, 2\), got \(1, 3\)"):
        model.predict([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="two classes"):
        LogisticRegression().fit([[0.0], [1.0]], [1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert alpha_from_C(2.0, 50, "l1") == pytest.approx(0.01)
