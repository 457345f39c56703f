"""soma.classic.DBN: greedy layer-wise RBM pretraining, the up-pass, and the unrolled MLP."""

import numpy as np
import pytest

import soma
import soma.nn.functional as F
from soma import nn
from soma.classic import DBN, RBM


def _data(n=60, d=12, seed=0):
    return (np.random.default_rng(seed).random((n, d)) < 0.4).astype(np.float64)


def test_each_rbm_is_trained_on_the_layer_below():
    X = _data()
    dbn = DBN((8, 5), n_iter=3, learning_rate=0.1, random_state=np.random.default_rng(0)).fit(X)
    rng = np.random.default_rng(0)  # the same draws, stacked by hand
    first = RBM(8, learning_rate=0.1, batch_size=10, n_iter=3, random_state=rng).fit(X)
    second = RBM(5, learning_rate=0.1, batch_size=10, n_iter=3, random_state=rng).fit(first.transform(X))
    np.testing.assert_array_equal(dbn.rbms_[0].components_, first.components_)
    np.testing.assert_array_equal(dbn.rbms_[1].components_, second.components_)
    np.testing.assert_array_equal(dbn.transform(X), second.transform(first.transform(X)))
    assert dbn.rbms_[1].history_["pseudo_likelihood"]  # each layer kept its own training history


def test_unrolled_mlp_computes_the_up_pass_and_fine_tunes():
    X = _data()
    dbn = DBN((8, 5), n_iter=2, random_state=0).fit(X)
    features = dbn.to_mlp(dtype=soma.float64)
    assert [type(m).__name__ for m in features] == ["Linear", "Sigmoid", "Linear", "Sigmoid"]
    with soma.no_grad():
        np.testing.assert_allclose(features(soma.tensor(X)).numpy(), dbn.transform(X), rtol=1e-12)
    mlp = dbn.to_mlp(n_outputs=3, dtype=soma.float64)
    y = soma.tensor(np.arange(len(X)) % 3)
    loss = F.cross_entropy(mlp(soma.tensor(X)), y)
    loss.backward()
    assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0 for p in mlp.parameters())
    assert isinstance(mlp[-1], nn.Linear) and mlp[-1].out_features == 3


def test_errors():
    with pytest.raises(ValueError, match="hidden_sizes"):
        DBN(())
    with pytest.raises(RuntimeError, match="not fitted"):
        DBN((4,)).transform(_data())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        DBN((4,), n_iter=1).fit(_data() * 3)
