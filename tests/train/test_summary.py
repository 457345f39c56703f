"""summary(): parameter counts (numel sums, PyTorch's and Keras's totals), MACs, shapes."""

import numpy as np
import torch

import soma
import soma.nn as nn
from soma.train.summary import count_parameters, summary


def _keras_mnist_mlp(lib):
    """Keras's classic mnist_mlp example, 784-512-512-10 with dropout: 669,706 params in Keras."""
    return lib.Sequential(
        lib.Linear(784, 512),
        lib.ReLU(),
        lib.Dropout(0.2),
        lib.Linear(512, 512),
        lib.ReLU(),
        lib.Dropout(0.2),
        lib.Linear(512, 10),
    )


def test_parameter_counts_equal_the_sum_of_numel_and_keras_total():
    model = _keras_mnist_mlp(nn)
    result = summary(model, (784,), verbose=0)
    assert result.total_params == sum(p.numel() for p in model.parameters()) == 669_706
    assert result.trainable_params == 669_706 and result.non_trainable_params == 0
    assert [row[3] for row in result.rows] == [401_920, 0, 0, 262_656, 0, 0, 5_130]
    assert [row[2] for row in result.rows][-1] == "(None, 10)"


def test_mult_adds_of_dense_layers():
    result = summary(_keras_mnist_mlp(nn), (784,), batch_size=4, verbose=0)
    assert (
        result.total_mult_adds == 784 * 512 + 512 * 512 + 512 * 10
    )  # per sample, whatever the batch


def test_frozen_parameters_are_non_trainable():
    model = nn.Sequential(nn.Linear(10, 20), nn.Linear(20, 3))
    model[0].requires_grad_(False)
    result = summary(model, (10,), verbose=0)
    assert (result.trainable_params, result.non_trainable_params) == (63, 220)
    assert count_parameters(model, trainable_only=True) == 63


def test_recurrent_counts_match_pytorch_and_macs_follow_the_gate_formula():
    for soma_cls, torch_cls, gates in (
        (nn.LSTM, torch.nn.LSTM, 4),
        (nn.GRU, torch.nn.GRU, 3),
        (nn.RNN, torch.nn.RNN, 1),
    ):
        model = soma_cls(10, 32, num_layers=2, bidirectional=True)
        reference = torch_cls(10, 32, num_layers=2, bidirectional=True)
        seq, batch = 7, 1
        result = summary(model, input_data=soma.zeros(seq, batch, 10), verbose=0)
        assert result.total_params == sum(p.numel() for p in reference.parameters())
        per_step = 2 * gates * 32 * (10 + 32) + 2 * gates * 32 * (
            2 * 32 + 32
        )  # layer 0 + layer 1, both directions
        assert result.total_mult_adds == seq * per_step


def test_table_lists_layers_totals_and_restores_training_mode(capsys):
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    state = soma.get_rng_state().numpy().copy()
    summary(model, (4,))
    text = capsys.readouterr().out
    for expected in (
        "Layer (type)",
        "Output Shape",
        "0 (Linear)",
        "(None, 8)",
        "Total params: 58",
        "Trainable params: 58",
        "Mult-adds per sample: 48",
    ):
        assert expected in text
    assert model.training
    np.testing.assert_array_equal(soma.get_rng_state().numpy(), state)  # no random draws
