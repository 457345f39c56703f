"""Logic-gate networks: the notes' hand-set AND/OR/NOT/XNOR (step) and XOR (sigmoid) networks
with their numbers, an MLP learning XOR, and why a single layer cannot."""

import numpy as np
import pytest
import torch

import soma
from soma import nn
from soma.classic import gates


def test_notes_001_step_function():
    # Z = 5 -> 1, Z = -2 -> 0 (threshold 0); Z = 0 -> 1
    out = nn.Step()(soma.tensor([5.0, -2.0, 0.0])).numpy()
    np.testing.assert_array_equal(out, [1, 0, 1])


def test_notes_000_and_or_not_neurons():
    inputs, out = gates.truth_table(gates.and_gate())
    np.testing.assert_array_equal(inputs, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(out, [0, 0, 0, 1])
    np.testing.assert_array_equal(gates.truth_table(gates.or_gate())[1], [0, 1, 1, 1])
    np.testing.assert_array_equal(gates.truth_table(gates.not_gate())[1], [1, 0])
    # the net inputs of the notes' table: AND -1.5, -0.5, -0.5, 0.5; OR -0.5, 0.5, 0.5, 1.5
    linear = gates.and_gate()[0]
    np.testing.assert_allclose(
        linear(soma.tensor(inputs)).detach().numpy()[:, 0], [-1.5, -0.5, -0.5, 0.5]
    )
    linear = gates.or_gate()[0]
    np.testing.assert_allclose(
        linear(soma.tensor(inputs)).detach().numpy()[:, 0], [-0.5, 0.5, 0.5, 1.5]
    )
    np.testing.assert_allclose(
        gates.not_gate()[0](soma.tensor([[0.0], [1.0]])).detach().numpy()[:, 0], [1, -1]
    )


def test_notes_000_xnor_network():
    net = gates.xnor_network()
    inputs, out = gates.truth_table(net)
    np.testing.assert_array_equal(out, [1, 0, 0, 1])
    # hidden layer: a1 nets 0.5, -0.5, -0.5, -1.5 -> 1, 0, 0, 0; a2 = AND -> 0, 0, 0, 1
    hidden_net = net[0](soma.tensor(inputs)).detach().numpy()
    np.testing.assert_allclose(hidden_net[:, 0], [0.5, -0.5, -0.5, -1.5])
    hidden = net[1](net[0](soma.tensor(inputs))).detach().numpy()
    np.testing.assert_array_equal(hidden, [[1, 0], [0, 0], [0, 0], [0, 1]])
    # output nets 0.5, -0.5, -0.5, 0.5
    np.testing.assert_allclose(
        net[2](soma.tensor(hidden)).detach().numpy()[:, 0], [0.5, -0.5, -0.5, 0.5]
    )


def test_notes_004_xor_sigmoid_network_exact_values():
    net = gates.xor_network(dtype=soma.float64)
    inputs, y = gates.truth_table(net)
    np.testing.assert_allclose(
        y, [4.54391048765e-05, 0.999954519621, 0.999954519621, 4.54391048765e-05], rtol=1e-10
    )
    h = net[1](net[0](soma.tensor(inputs))).detach().numpy()
    np.testing.assert_allclose(
        h[:, 0], [4.53978687024e-05, 0.999954602131, 0.999954602131, 1 - 9.35e-14], rtol=1e-10
    )
    np.testing.assert_allclose(h[:, 1], h[::-1, 0], rtol=1e-12)
    y_net = net[2](soma.tensor(h)).detach().numpy()[:, 0]
    np.testing.assert_allclose(
        y_net, [-9.99909204263, 9.99818408525, 9.99818408525, -9.99909204263], rtol=1e-10
    )
    # float32 (the default) agrees to the design's tolerance
    np.testing.assert_allclose(gates.truth_table(gates.xor_network())[1], y, rtol=1e-5)


def test_xor_network_matches_torch():
    net = gates.xor_network(dtype=soma.float64)
    reference = torch.nn.Sequential(
        torch.nn.Linear(2, 2), torch.nn.Sigmoid(), torch.nn.Linear(2, 1), torch.nn.Sigmoid()
    ).double()
    reference.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in net.state_dict().items()}
    )
    X, _ = gates.xor_data(np.float64)
    expected = reference(torch.from_numpy(X)).detach().numpy()[:, 0]
    np.testing.assert_allclose(gates.truth_table(net)[1], expected, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_learns_xor_from_random_initialization(seed):
    soma.manual_seed(seed)
    model, losses = gates.train_xor_mlp(hidden=4, epochs=500)
    _, out = gates.truth_table(model)
    np.testing.assert_array_equal(out.round(), [0, 1, 1, 0])
    assert losses[-1] < 0.01 < losses[0]
    # different seeds start from different weights
    soma.manual_seed(seed + 10)
    other, _ = gates.train_xor_mlp(hidden=4, epochs=1)
    assert not np.allclose(other[0].weight.detach().numpy(), model[0].weight.detach().numpy())


def test_single_layer_cannot_learn_xor():
    result = gates.single_layer_xor(epochs=30, steps=1000)
    assert result["perceptron_converged"] is False
    assert len(result["perceptron_errors"]) == 30 and min(result["perceptron_errors"]) > 0
    assert result["best_accuracy"] == 0.75
    # the best a sigmoid neuron can do under BCE on XOR is p = 0.5 everywhere
    np.testing.assert_allclose(result["sigmoid_outputs"], 0.5, atol=1e-3)


def test_best_single_layer_accuracy():
    X, y = gates.xor_data()
    assert gates.best_single_layer_accuracy(X, y) == 0.75
    assert gates.best_single_layer_accuracy(X, [0, 0, 0, 1]) == 1.0  # AND
    assert gates.best_single_layer_accuracy(X, [0, 1, 1, 1]) == 1.0  # OR
    assert gates.best_single_layer_accuracy(X, [1, 0, 0, 1]) == 0.75  # XNOR


def test_step_neuron_shapes_and_dtype():
    neuron = gates.step_neuron([1.0, 1.0, 1.0], -2.5)
    assert neuron[0].weight.shape == (1, 3) and neuron[0].weight.dtype == soma.float32
    _, out = gates.truth_table(neuron)
    np.testing.assert_array_equal(out, [0] * 7 + [1])  # 3-input AND
