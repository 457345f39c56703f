"""ADALINE / LMS: notes 004's step (and the rest of its epoch), convergence to least squares."""

import numpy as np
import pytest

from soma.classic import Adaline, ConvergenceWarning

# notes 004, bipolar AND in table order
X = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=float)
D = np.array([1, -1, -1, -1], dtype=float)


def notes_model():
    return Adaline(2, lr=0.1, weights=[0.2, -0.3], bias=0.1)


def test_notes_004_first_step():
    model = notes_model()
    assert model.net_input(X[0])[0] == pytest.approx(0.0, abs=1e-12)  # y = 0.2 - 0.3 + 0.1
    e = model.update(X[0], D[0])
    assert e == pytest.approx(1.0)
    np.testing.assert_allclose(model.weights, [0.3, -0.2], atol=1e-12)
    assert model.bias == pytest.approx(0.2, abs=1e-12)


def test_notes_004_rest_of_epoch():
    # docs/notes-examples.md [extension]: the steps the notes skip
    model = notes_model()
    errors = [model.update(x, d) for x, d in zip(X, D, strict=True)]
    np.testing.assert_allclose(errors, [1, -1.7, -0.87, -0.843], atol=1e-12)
    np.testing.assert_allclose(model.weights, [0.3013, -0.0327], atol=1e-12)
    assert model.bias == pytest.approx(-0.1413, abs=1e-12)


def test_notes_004_two_epochs_history():
    model = notes_model().fit(X, D, epochs=2)
    assert model.n_epochs_ == 2
    np.testing.assert_allclose(model.history_["weights"][0], [0.3013, -0.0327], atol=1e-12)
    np.testing.assert_allclose(model.history_["mse"], [0.70191667, 0.444639777664], atol=1e-8)
    np.testing.assert_allclose(model.weights, [0.36465333, 0.13865393], atol=1e-8)
    assert model.bias == pytest.approx(-0.28610733, abs=1e-8)


def test_converges_near_least_squares_solution():
    # least squares for bipolar AND: w = (0.5, 0.5), b = -0.5, MSE 0.25
    model = notes_model().fit(X, D, epochs=500, tol=1e-10)
    assert model.converged_
    mse = model.history_["mse"]
    assert mse[-1] < mse[0]
    assert mse[-1] == pytest.approx(0.25, abs=0.01)  # online LMS with η = 0.1 hovers near it
    np.testing.assert_allclose(np.r_[model.weights, model.bias], [0.5, 0.5, -0.5], atol=0.1)
    np.testing.assert_array_equal(model.predict(X), D)
    assert model.score(X, D) == 1.0
    # with a small step size it gets closer to the least-squares minimum
    slow = notes_model()
    slow.lr = 0.005
    slow.fit(X, D, epochs=3000, tol=1e-13)
    solution, *_ = np.linalg.lstsq(np.c_[X, np.ones(4)], D, rcond=None)
    np.testing.assert_allclose(np.r_[slow.weights, slow.bias], solution, atol=0.01)


def test_linear_regression_data():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(100, 3))
    targets = inputs @ [1.5, -2.0, 0.5] + 0.7
    model = Adaline(3, lr=0.01).fit(inputs, targets, epochs=200, tol=1e-14)
    np.testing.assert_allclose(model.weights, [1.5, -2.0, 0.5], atol=1e-5)
    assert model.bias == pytest.approx(0.7, abs=1e-5)


def test_divergence_and_tol_warnings():
    with pytest.warns(ConvergenceWarning, match="diverged"):
        Adaline(2, lr=5.0).fit(X * 10, D, epochs=50)
    with pytest.warns(ConvergenceWarning, match="tol"):
        notes_model().fit(X, D, epochs=2, tol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"Adaline\(n_inputs=2.*\(n_samples, 2\).*\(3,\s*5\)"):
        Adaline(2).net_input(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"y of shape \(4,\)"):
        Adaline(2).fit(X, D[:3])
