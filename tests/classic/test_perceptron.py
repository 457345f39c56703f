"""Perceptron rule: a hand-traced run on AND, convergence on AND/OR, no convergence on XOR."""

import numpy as np
import pytest

from soma.classic import ConvergenceWarning, Perceptron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
AND, OR, XOR = [0, 0, 0, 1], [0, 1, 1, 1], [0, 1, 1, 0]


def test_update_is_the_perceptron_rule():
    p = Perceptron(2, lr=0.5, weights=[0.2, -0.4], bias=0.1)
    # z = 0.2 - 0.4 + 0.1 = -0.1 -> y = 0; d = 1 so e = 1, w += 0.5*x, b += 0.5
    assert p.update([1, 1], 1) == 1.0
    np.testing.assert_allclose(p.weights, [0.7, 0.1])
    assert p.bias == pytest.approx(0.6)
    # a correct answer changes nothing
    assert p.update([1, 1], 1) == 0.0
    np.testing.assert_allclose(p.weights, [0.7, 0.1])
    # step f(z) = 1 if z >= 0 (notes 001: Z = 5 -> 1, Z = -2 -> 0; z = 0 gives 1)
    q = Perceptron(1, weights=[1.0], bias=0.0)
    np.testing.assert_array_equal(q.predict([[5], [-2], [0]]), [1, 0, 1])


def test_and_hand_trace():
    # traced by hand: w = 0, b = 0, η = 1, samples in table order
    p = Perceptron(2).fit(X, AND, epochs=20)
    assert p.converged_ and p.n_epochs_ == 6
    assert p.history_["errors"] == [2, 3, 3, 2, 1, 0]
    np.testing.assert_array_equal(p.history_["weights"][0], [1, 1])
    assert p.history_["bias"][0] == 0
    np.testing.assert_array_equal(p.weights, [2, 1])
    assert p.bias == -3
    np.testing.assert_array_equal(p.predict(X), AND)


@pytest.mark.parametrize("target", [AND, OR, [1, 1, 1, 0], [1, 0, 0, 0]])
def test_converges_on_linearly_separable_gates(target):
    p = Perceptron(2, lr=0.1, weights=np.random.default_rng(1).normal(size=2)).fit(X, target)
    assert p.converged_
    assert p.history_["errors"][-1] == 0
    assert p.score(X, target) == 1.0
    assert len(p.history_["weights"]) == p.n_epochs_


def test_xor_does_not_converge():
    p = Perceptron(2)
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        p.fit(X, XOR, epochs=50)
    assert not p.converged_
    assert p.n_epochs_ == 50
    assert min(p.history_["errors"]) > 0
    assert p.score(X, XOR) <= 0.75  # no line gets all four right


def test_linearly_separable_cloud():
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (200, 3))
    labels = (points @ [1.0, -2.0, 0.5] + 0.3 > 0).astype(int)
    p = Perceptron(3).fit(points, labels, epochs=1000)
    assert p.converged_ and p.score(points, labels) == 1.0


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"Perceptron\(n_inputs=2.*\(n_samples, 2\).*\(4, 3\)"):
        Perceptron(2).fit(np.zeros((4, 3)), AND)
    with pytest.raises(ValueError, match=r"y of shape \(4,\)"):
        Perceptron(2).fit(X, [0, 1])
    with pytest.raises(ValueError, match="0 or 1"):
        Perceptron(2).fit(X, [-1, 1, 1, 1])
    with pytest.raises(ValueError, match="expects 2 weights"):
        Perceptron(2, weights=[1, 2, 3])
