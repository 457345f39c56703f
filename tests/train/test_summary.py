"""summary(): parameter counts (numel sums, PyTorch's and Keras's totals), MACs, shapes."""

import numpy as np
import pytest
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


def _nested():
    return nn.Sequential(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Linear(8, 2))


def test_torchinfo_input_size_with_the_batch_gives_the_keras_numbers():
    model = _nested()
    keras = summary(model, (4,), batch_size=16, verbose=0)
    torchinfo = summary(model, input_size=(16, 4), verbose=0)
    assert torchinfo.total_mult_adds == keras.total_mult_adds == 4 * 8 + 8 * 2
    assert [row[2] for row in torchinfo.rows] == ["(16, 8)", "(16, 8)", "(16, 8)", "(16, 2)"]
    assert [row[2] for row in keras.rows][-1] == "(None, 2)"
    with pytest.raises(ValueError, match="give one of input_shape"):
        summary(model, (4,), input_size=(1, 4), verbose=0)
    with pytest.raises(ValueError, match="input_size must hold positive integer sizes"):
        summary(model, input_size=(0, 4), verbose=0)


def test_depth_folds_nested_modules_into_their_row():
    model = _nested()
    deep = summary(model, (4,), verbose=0)
    assert [(row[0], row[3], row[4], row[7]) for row in deep.rows] == [
        ("0", None, 0, 1), ("0.0", 40, 32, 2), ("0.1", 0, 0, 2), ("1", 18, 16, 1)
    ]
    shallow = summary(model, (4,), depth=1, verbose=0)
    assert [(row[0], row[3], row[4]) for row in shallow.rows] == [("0", 40, 32), ("1", 18, 16)]
    assert shallow.total_mult_adds == deep.total_mult_adds == 48
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        summary(model, (4,), depth=0, verbose=0)


def test_memory_columns_and_totals_count_bytes_as_torchinfo_does():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).double()
    result = summary(model, input_size=(10, 4), verbose=0)
    assert [row[5] for row in result.rows] == [(32 + 8) * 8, 0, 18 * 8]
    assert [row[6] for row in result.rows] == [10 * 8 * 8, 10 * 8 * 8, 10 * 2 * 8]
    assert result.params_bytes == 58 * 8 and result.input_bytes == 10 * 4 * 8
    assert result.forward_backward_bytes == 2 * (640 + 640 + 160)
    assert result.total_bytes == 58 * 8 + 320 + 2880
    text = str(result)
    assert "Param mem" in text and "Output mem" in text and "Estimated Total Size (MB): 0.00" in text


def test_a_notebook_shows_a_printed_summary_once(capsys, monkeypatch):
    import sys
    import types

    shown = []
    shell = types.SimpleNamespace(execution_count=5)
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    display = types.ModuleType("IPython.display")
    display.display = lambda data, raw: shown.append(data)
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    result = summary(_nested(), (4,))  # the last line of cell 5: printed, then IPython displays the value
    assert capsys.readouterr().out.count("Total params") == 1
    result._ipython_display_()
    assert shown == []  # not a second time
    shell.execution_count = 6  # `result` alone in a later cell shows it
    result._ipython_display_()
    assert len(shown) == 1 and "Total params: 58" in shown[0]["text/plain"] and shown[0]["text/html"].startswith("<pre>")
    quiet = summary(_nested(), (4,), verbose=0)  # not printed: displayed at once
    quiet._ipython_display_()
    assert len(shown) == 2
