"""soma.train.metrics against scikit-learn on random labels, plus hand-made cases."""

import numpy as np
import pytest

from soma.train import metrics

sk = pytest.importorskip("sklearn.metrics")  # the optional extra "data"

SEEDS = range(8)


def random_labels(seed, n=60, k=5):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.5, y_true, rng.integers(0, k, n))  # about half right
    return y_true, y_pred


@pytest.mark.parametrize("seed", SEEDS)
def test_accuracy_and_confusion_matrix_match_sklearn(seed):
    y_true, y_pred = random_labels(seed)
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    expected = sk.confusion_matrix(y_true, y_pred, labels=range(5))
    matrix = metrics.confusion_matrix(y_true, y_pred, num_classes=5)
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
def test_precision_recall_f1_match_sklearn(seed, average):
    y_true, y_pred = random_labels(seed, n=30, k=6)  # small: some classes get no predictions
    expected = sk.precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
    got = metrics.precision_recall_f1(y_true, y_pred, average=average)
    for value, reference in zip(got, expected[:3], strict=True):
        np.testing.assert_allclose(value, reference, rtol=1e-12)


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_averages_skip_classes_absent_from_both_sides_like_sklearn(average):
    y_true, y_pred = np.array([0, 0, 3, 3, 3, 1]), np.array([0, 3, 3, 3, 1, 1])  # no class 2
    expected = sk.precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
    got = metrics.precision_recall_f1(y_true, y_pred, average=average)
    np.testing.assert_allclose(got, expected[:3], rtol=1e-12)


def test_binary_average_reports_the_positive_class():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    expected = sk.precision_recall_fscore_support(y_true, y_pred, average="binary")
    got = metrics.precision_recall_f1(y_true, y_pred, average="binary")
    np.testing.assert_allclose(got, expected[:3], rtol=1e-12)
    with pytest.raises(ValueError, match="2 classes"):
        metrics.precision_recall_f1([0, 1, 2], [0, 1, 2], average="binary")


def test_zero_division_counts_as_zero():
    # class 1 is never predicted (precision 0/0) and class 2 never occurs (recall 0/0)
    precision, recall, f1 = metrics.precision_recall_f1([0, 1, 0], [0, 0, 2], average=None)
    np.testing.assert_allclose(precision, [0.5, 0.0, 0.0])
    np.testing.assert_allclose(recall, [0.5, 0.0, 0.0])
    np.testing.assert_allclose(f1, [0.5, 0.0, 0.0])


def test_scores_are_argmaxed_and_one_hot_targets_accepted():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(40, 4))
    y_true = rng.integers(0, 4, 40)
    one_hot = np.eye(4)[y_true]
    expected = np.mean(scores.argmax(1) == y_true)
    assert metrics.accuracy(y_true, scores) == pytest.approx(expected)
    assert metrics.accuracy(one_hot, scores) == pytest.approx(expected)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, scores, num_classes=4),
        metrics.confusion_matrix(y_true, scores.argmax(1), num_classes=4),
    )
    assert metrics.accuracy([0, 1], [[0.1, 0.9], [0.2, 0.8]]) == 0.5  # lists work too


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_accuracy_matches_sklearn(k):
    rng = np.random.default_rng(k)
    scores = rng.normal(size=(100, 6))
    y_true = rng.integers(0, 6, 100)
    expected = sk.top_k_accuracy_score(y_true, scores, k=k, labels=range(6))
    assert metrics.top_k_accuracy(y_true, scores, k=k) == pytest.approx(expected)


def test_top_k_counts_ties_in_favour():
    scores = np.array([[0.5, 0.5, 0.0]])
    assert metrics.top_k_accuracy([1], scores, k=1) == 1.0
    assert metrics.top_k_accuracy([2], scores, k=2) == 0.0


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="samples"):
        metrics.accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="threshold"):
        metrics.accuracy([0, 1], [[0.2], [0.9]])
    with pytest.raises(ValueError, match="integer class labels"):
        metrics.accuracy([0, 1], [0.2, 0.9])
    with pytest.raises(ValueError, match="out of range"):
        metrics.confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match="average"):
        metrics.precision_recall_f1([0], [0], average="samples")


@pytest.mark.parametrize("shape", [(50,), (50, 3)])
def test_regression_metrics_match_sklearn(shape):
    rng = np.random.default_rng(2)
    y_true = rng.normal(size=shape)
    y_pred = y_true + rng.normal(scale=0.5, size=shape)
    assert metrics.mean_absolute_error(y_true, y_pred) == pytest.approx(
        sk.mean_absolute_error(y_true, y_pred)
    )
    assert metrics.mean_squared_error(y_true, y_pred) == pytest.approx(
        sk.mean_squared_error(y_true, y_pred)
    )
    assert metrics.r2_score(y_true, y_pred) == pytest.approx(sk.r2_score(y_true, y_pred))


def test_r2_of_constant_target_and_perfect_fit():
    assert metrics.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == 1.0
    assert metrics.r2_score([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]) == 0.0
    assert metrics.r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 1.0
    y = np.array([1.0, 2.0, 3.0])
    assert metrics.r2_score(y, np.full(3, y.mean())) == 0.0
