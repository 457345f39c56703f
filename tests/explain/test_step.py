"""soma.explain.step: the neuron-level report of dense networks, its values and its renderings."""

import copy

import numpy as np
import pytest

import soma
from soma import explain, nn

X, T, LR = [0.05, 0.10], [0.01, 0.99], 0.5


def autograd_step(model, x, t, loss, lr):
    """The same step done by hand with soma's autograd: forward, loss, backward, SGD."""
    model = copy.deepcopy(model)
    x = soma.tensor(np.asarray(x, dtype=np.float64))
    hidden_net = model[0](x)
    hidden_net.retain_grad()
    hidden = model[1](hidden_net)
    hidden.retain_grad()
    out = model[3](model[2](hidden))
    out.retain_grad()
    error = loss(out, soma.tensor(np.asarray(t, dtype=np.float64)))
    error.backward()
    grads = {n: p.grad._array.copy() for n, p in model.named_parameters() if p.grad is not None}
    after = {n: p._array - lr * grads[n] for n, p in model.named_parameters() if n in grads}
    return hidden, out, error, grads, after, hidden_net


def test_mazur_report_shows_the_notes_numbers(mazur):
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    text = str(report)
    for expected in (
        "out_h1 = σ(net_h1) = σ(0.3775) = 0.593270",
        "= 0.751365",
        "E = ",
        "= 0.298371",
        "dE/dw5 = dE/dout_o1 · dout_o1/dnet_o1 · dnet_o1/dw5 = 0.741365 × 0.186816 × 0.593270 = 0.082167",
        "w5' = w5 − η · dE/dw5 = 0.4 − 0.5 × 0.0821670 = 0.358916",
        "w1' = ",
        "= 0.149781",
    ):
        assert expected in text, expected


def test_mazur_values_equal_autograd_exactly(mazur):
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    hidden, out, error, grads, after, hidden_net = autograd_step(mazur, X, T, nn.MSELoss(), LR)
    values = report.values
    assert values["out_h1"] == hidden._array[0] and values["out_h2"] == hidden._array[1]
    assert values["out_o1"] == out._array[0] and values["E"] == error._array
    assert values["dE/dout_o1"] == out.grad._array[0]
    assert values["dE/dout_h1"] == hidden.grad._array[0]
    assert values["δ_h2"] == hidden_net.grad._array[1]
    weight_names = {
        "w1": ("0.weight", (0, 0)),
        "w4": ("0.weight", (1, 1)),
        "w5": ("2.weight", (0, 0)),
        "w7": ("2.weight", (1, 0)),
    }
    for name, (parameter, index) in weight_names.items():
        assert values[f"dE/d{name}"] == grads[parameter][index]
        assert values[f"{name}'"] == after[parameter][index]
    np.testing.assert_array_equal(values["dE/d2.weight"], grads["2.weight"])
    # and they are the catalogue's (docs/notes-examples.md) float64 values
    assert values["dE/dw5"] == pytest.approx(0.0821670405642, rel=1e-11)
    assert values["w1'"] == pytest.approx(0.149780716133, rel=1e-11)


def test_frozen_biases_stay_and_model_is_untouched_unless_apply(mazur):
    before = {n: p._array.copy() for n, p in mazur.named_parameters()}
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    assert "b_h1' = b_h1 = 0.35" in str(report)
    for name, parameter in mazur.named_parameters():
        np.testing.assert_array_equal(parameter._array, before[name])
    explain.step(mazur, X, T, nn.MSELoss(), lr=LR, apply=True)
    np.testing.assert_array_equal(mazur[2].weight._array, report.values["2.weight'"])
    assert mazur[2].weight._array[0, 0] == report.values["w5'"]


def test_digits_change_only_the_rendering(mazur):
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR, digits=3)
    assert "= 0.593" in str(report) and "0.593270" not in str(report)
    assert "0.59326999 " in report.to_text(digits=8)


def test_markdown_latex_html_carry_the_same_numbers(mazur):
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    markdown, latex, html = report.to_markdown(), report.to_latex(), report.to_html()
    assert r"\frac{\partial E}{\partial w_{5}}" in markdown and "0.358916" in markdown
    assert latex.count(r"\begin{align*}") == latex.count(r"\end{align*}") > 3
    assert r"\mathrm{out}_{h1}" in latex and "0.298371" in latex
    assert "<h3>Backward pass" in html and "0.149781" in html
    assert report._repr_markdown_() == markdown


def test_each_chain_rule_product_matches_its_value(mazur):
    """Every written product 'a × b × c = v' multiplies out to v (to the digits shown)."""
    report = explain.step(mazur, X, T, nn.MSELoss(), lr=LR)
    checked = 0
    for section in report.sections:
        for item in section.items:
            if isinstance(item, str) or item.numbers not in ("{} × {}", "{} × {} × {}"):
                continue
            product = np.prod(np.asarray(item.numbers_values, dtype=np.float64))
            assert product == pytest.approx(item.value, rel=1e-12, abs=1e-15)
            checked += 1
    assert checked == 4 + 8  # 4 deltas, 8 weight gradients


def test_three_layer_mlp_report_names_every_parameter():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x, t = soma.randn(1, 3), soma.randn(1, 2)
    report = explain.step(model, x, t, nn.MSELoss(), lr=0.1)
    text = str(report)
    for name, _parameter in model.named_parameters():
        assert name in text
        np.testing.assert_array_equal(report.values[f"dE/d{name}"], _grads(model, x, t)[name])
    assert sum(p._array.size for p in model.parameters()) == len(
        [k for k in report.values if k.endswith("'") and not k[0].isdigit()]
    )
    assert "h1_1" in text and "h2_3" in text and "out_o2 = net_o2" in text
    assert "dE/dw12 = " in text and "1 − out_h1_1²" in text


def _grads(model, x, t):
    model = copy.deepcopy(model)
    nn.MSELoss()(model(x), t).backward()
    return {n: p.grad._array for n, p in model.named_parameters()}


def test_a_batch_is_explained_at_the_layer_level():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1))
    x, t = soma.randn(5, 3), soma.randn(5, 1)
    report = explain.step(model, x, t, nn.MSELoss(), lr=0.1)
    text = str(report)
    assert "net_h1" not in text and "input (5, 3) → output (5, 4)" in text
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert f"dE/d{name}" in text
        np.testing.assert_array_equal(report.values[f"dE/d{name}"], _grads(model, x, t)[name])


def test_a_plain_function_as_loss_is_written_generically(mazur):
    report = explain.step(mazur, X, T, lambda out, target: ((out - target) ** 2).mean(), lr=LR)
    assert report.values["E"] == pytest.approx(0.29837110876, rel=1e-10)
    assert "dE/dout_o1 = 0.741365   (from the loss's backward)" in str(report)
    assert report.values["dE/dout_o1"] == pytest.approx(0.741365069552, rel=1e-10)
