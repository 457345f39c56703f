"""explain.step derives softmax + cross-entropy as p − y, and writes any conv/pool output cell."""

import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import soma
from soma import explain, nn
from soma.explain.examples import EXAMPLES, explain_example, takes_cell


def _copy_into_torch(model, torch_model):
    with torch.no_grad():
        for (_, p), (_, q) in zip(model.named_parameters(), torch_model.named_parameters(), strict=True):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    return torch_model


def _mlp():
    soma.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)).double()
    return model, _copy_into_torch(model, reference)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_is_derived_as_p_minus_y(smoothing):
    model, reference = _mlp()
    x = np.array([[0.3, -1.2, 0.7]])
    report = explain.step(model, x, [1], nn.CrossEntropyLoss(label_smoothing=smoothing), lr=0.1)
    out = reference(torch.from_numpy(x))
    out.retain_grad()
    loss = torch.nn.functional.cross_entropy(out, torch.tensor([1]), label_smoothing=smoothing)
    loss.backward()
    p = torch.softmax(out, 1).detach().numpy()[0]
    y = (1 - smoothing) * np.eye(3)[1] + smoothing / 3
    assert report.values["E"] == pytest.approx(loss.item(), rel=1e-12)
    for k in range(3):
        assert report.values[f"p_o{k + 1}"] == pytest.approx(p[k], rel=1e-12)
        assert report.values[f"y_o{k + 1}"] == pytest.approx(y[k], rel=1e-12)
        assert report.values[f"dE/dout_o{k + 1}"] == pytest.approx(out.grad[0, k].item(), rel=1e-10, abs=1e-15)
    text = report.to_text(width=0)
    assert "dE/dout_o2 = p_o2 − y_o2 = " in text and "from the loss's backward" not in text
    assert "= p_j − y_j" in text  # the derivation is written, not only the result
    for name, parameter in reference.named_parameters():
        np.testing.assert_allclose(report.values[f"dE/d{name}"], parameter.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_bce_with_logits_is_sigma_minus_t():
    soma.manual_seed(4)
    model = nn.Sequential(nn.Linear(2, 1)).double()
    x, t = np.array([[0.5, -1.0]]), np.array([[1.0]])
    report = explain.step(model, x, t, nn.BCEWithLogitsLoss(), lr=0.1)
    out = float(model(soma.tensor(x)).item())
    assert report.values["dE/dout_o1"] == pytest.approx(1 / (1 + np.exp(-out)) - 1.0, rel=1e-12)
    assert "dE/dout_o1 = σ(out_o1) − t_o1 = σ(" in report.to_text(width=0)


def _cnn():
    soma.manual_seed(5)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2, stride=1),
        nn.Conv2d(3, 2, 2, dilation=2, groups=1), nn.AvgPool2d(2, padding=1), nn.Flatten(),
    ).double()
    return model, soma.randn(1, 2, 9, 9, dtype=soma.float64)


@pytest.mark.parametrize("cell", [(0, 0), (1, 1), (1, 0, 1)])
def test_any_cell_of_each_conv_and_pool_layer(cell):
    model, x = _cnn()
    report = explain.forward(model, x, cell=cell)
    text = report.to_text(width=0)
    outputs = {}
    h = x
    for name, layer in model.named_children():
        h = layer(h)
        outputs[name] = h.detach().numpy()
    c, i, j = (0, *cell) if len(cell) == 2 else cell
    for name in ("0", "2", "3", "4"):
        lhs = f"{name}.out[0, {c}, {i}, {j}]"
        assert report.values[lhs] == pytest.approx(outputs[name][0, c, i, j], rel=1e-12)
        line = next(line for line in text.splitlines() if line.strip().startswith(lhs))
        if name in ("0", "2", "3"):
            numbers = [float(v) for v in re.findall(r"\(?(-?\d+\.?\d*(?:e[+-]?\d+)?)\)?", line.split(" = ")[-2])]
            assert numbers  # the window's numbers are written out
    # torch agrees with the layer soma explained
    reference = torch.nn.Conv2d(2, 3, 3, stride=2, padding=1).double()
    _copy_into_torch(model[0], reference)
    expected = reference(torch.from_numpy(x.numpy()))[0, c, i, j].item()
    assert report.values[f"0.out[0, {c}, {i}, {j}]"] == pytest.approx(expected, rel=1e-12)


def test_a_cell_outside_the_output_is_a_clear_error():
    model, x = _cnn()
    with pytest.raises(IndexError, match=r"cell \(0, 9, 0\) is outside the output of layer 0: 3 channel\(s\) of 5×5"):
        explain.forward(model, x, cell=(9, 0))


def test_examples_write_any_cell():
    report = explain_example("conv-vertical-edge", cell=(2, 1))
    assert report.values["out[2, 1]"] == report.values["out"][2, 1] == 2
    assert "out[2, 1] = Σ W·x = 1 × 8 + 0 × 9 + (-1) × 2" in report.to_text(width=0)
    assert explain_example("maxpool", cell=(0, 2)).values["out[0, 2]"] == 3
    with pytest.raises(ValueError, match="has no output cells"):
        explain_example("mse", cell=(0, 0))
    with pytest.raises(IndexError, match="outside the 3×3 output"):
        explain_example("conv-binary", cell=(3, 0))
    assert {n for n, e in EXAMPLES.items() if takes_cell(e)} >= {"conv-figure", "conv-3ch-bias", "maxpool"}


def test_every_example_says_what_the_notes_got_right_or_wrong():
    for name in EXAMPLES:
        report = explain_example(name)
        assert report.sections[-1].heading == "The notes", name


def test_soma_explain_is_there_after_import_soma():
    code = "import sys, soma; assert 'soma.explain' not in sys.modules; print(soma.explain.step.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "step"
