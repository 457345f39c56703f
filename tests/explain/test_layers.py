"""Layer-level reports (conv, pool, flatten) next to neuron-level dense layers, and anomaly mode."""

import copy

import numpy as np
import pytest

import soma
from soma import explain, nn


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8, 3),
        nn.Sigmoid(),
        nn.Linear(3, 2),
    )


def test_small_cnn_report_contains_every_parameter_and_autograd_values():
    model, x, t = small_cnn(), soma.randn(1, 1, 6, 6), soma.randn(1, 2)
    report = explain.step(model, x, t, nn.MSELoss(), lr=0.1)
    text = str(report)
    reference = copy.deepcopy(model)
    nn.MSELoss()(reference(x), t).backward()
    for name, parameter in reference.named_parameters():
        assert name in text, name
        np.testing.assert_array_equal(report.values[f"dE/d{name}"], parameter.grad._array)
        np.testing.assert_array_equal(
            report.values[f"{name}'"], model.state_dict()[name]._array - 0.1 * parameter.grad._array
        )
    assert "input (1, 1, 6, 6) → output (1, 2, 4, 4)" in text and "W[c, k, p, q]" in text
    assert "max over the k×k window" in text
    # the dense tail is still written neuron by neuron, fed by the flattened features a1..a8
    assert "net_h1 = w1·a1 + w2·a2" in text and "dE/dw30 = " in text
    np.testing.assert_array_equal(report.values["0.output"], reference[0](x)._array)


def test_layer_level_statistics_are_those_of_the_arrays():
    model, x, t = small_cnn(), soma.randn(1, 1, 6, 6), soma.randn(1, 2)
    report = explain.step(model, x, t, nn.MSELoss(), lr=0.1, digits=4)
    grad = report.values["dE/d0.weight"].astype(np.float64)
    assert f"‖·‖₂ {explain.format_number(np.sqrt((grad * grad).sum()), 4)}" in str(report)


def test_detect_anomaly_names_the_forward_op_and_its_input_shapes():
    x = soma.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"^Log produced nan in its forward pass.*shape=\(1, 3\)"
    ):
        with soma.autograd.detect_anomaly(), np.errstate(invalid="ignore"):
            soma.log(x).sum()
    assert not soma.autograd.is_anomaly_enabled()


def test_detect_anomaly_names_the_backward_op():
    x = soma.tensor([0.0, 4.0], requires_grad=True)
    with soma.autograd.detect_anomaly():
        y = soma.sqrt(x)  # finite forward: sqrt(0) = 0
        with pytest.raises(
            RuntimeError, match=r"^SqrtBackward0 produced inf in its backward pass.*shape=\(2,\)"
        ):
            with np.errstate(divide="ignore"):
                y.sum().backward()


def test_without_anomaly_mode_nan_passes_silently():
    x = soma.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = soma.log(x)
    assert np.isnan(y._array).all()
