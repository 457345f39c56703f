"""The convolution, pooling, shape, cost, loss, optimizer and RNN examples of the notes,
as soma computes them, against the correct values of docs/notes-examples.md."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from soma.explain.cli import main
from soma.explain.examples import EXAMPLES, explain_example

approx = lambda value: pytest.approx(value, rel=1e-10, abs=1e-12)  # noqa: E731  (catalogue: 12 digits)

FEATURE_MAPS = {  # example → the catalogue's correct map
    "conv-figure": [[124, 75, 54, 100], [90, 64, 254, 276], [81, 127, 267, 299], [95, 168, 178, 264]],
    "conv-vertical-edge": [[-6, 12, 12], [-6, 8, 8], [-6, 2, 12]],
    "conv-binary": [[4, 3, 4], [2, 4, 3], [2, 3, 4]],
    "conv-3ch-bias": [[-25, 466, 466, 475], [295, 787, 798, 812], [291, 776, 784, 800], [293, 771, 773, 782]],
    "maxpool": [[3, 3, 3], [3, 3, 3], [3, 2, 3]],
    "relu-featuremap": [[0, 3, 0], [5, 0, 2], [0, 4, 0]],
}


@pytest.mark.parametrize("name", FEATURE_MAPS)
def test_feature_maps(name):
    np.testing.assert_array_equal(explain_example(name).values["out"], FEATURE_MAPS[name])


def test_conv_top_left_is_written_as_its_sum_of_products():
    report = explain_example("conv-vertical-edge")
    text = str(report)
    assert "out[0, 0] = Σ W·x = 1 × 1 + 0 × 2 + (-1) × 3 + 1 × 4" in text and "= -6" in text
    assert report.values["out[0, 1]"] == 12  # where the notes print −6
    assert "all nine outputs as −6" in text
    np.testing.assert_array_equal(report.values["relu(out)"], [[0, 12, 12], [0, 8, 8], [0, 2, 12]])


def test_conv_3ch_per_channel_sums():
    values = explain_example("conv-3ch-bias").values
    assert (values["out_R[0, 0]"], values["out_G[0, 0]"], values["out_B[0, 0]"]) == (308, -498, 164)
    assert values["out[0, 0]"] == -25
    np.testing.assert_array_equal(values["out_R"][1], [298, 148, 158, 161])
    np.testing.assert_array_equal(values["out_G"] + values["out_R"] + values["out_B"] + 1, values["out"])
    assert "308 + (-498) + 164 + 1 = -25" in str(explain_example("conv-3ch-bias"))


def test_maxpool_other_windows():
    values = explain_example("maxpool").values
    np.testing.assert_allclose(
        values["AvgPool2d(3, stride=1)"],
        [[1.66666666667, 1.66666666667, 1.66666666667], [1, 1.22222222222, 1.77777777778],
         [1.11111111111, 0.777777777778, 1.33333333333]],
        rtol=1e-11,
    )  # fmt: skip
    np.testing.assert_array_equal(values["MaxPool2d(2, stride=2)"], [[3, 3], [3, 2]])
    np.testing.assert_array_equal(values["MaxPool2d(3, stride=2)"], [[3, 3], [3, 3]])


def test_conv_figure_counts():
    values = explain_example("conv-figure").values
    assert values["outputs of the 2×2 conv"] == 16 and values["weights of the 2×2 kernel"] == 4
    assert values["dense weights, 224×224 RGB image"] == 150_528


def test_conv_sizes_and_shapes():
    values = explain_example("conv-output-size").values
    assert (values["W_out"], values["H_out"], values["channels"]) == (15, 15, 8)
    assert (values["weights"], values["parameters"]) == (9216, 9224)
    assert "(32 − 6 + 2 × 1)/2 + 1 = 15" in str(explain_example("conv-output-size"))
    values = explain_example("conv-shapes").values
    assert values["outputs, one 5×5 filter"] == 784 and values["outputs, two 5×5 filters"] == 28 * 28 * 2
    assert values["W_out, one 7×7 filter"] == 26 and values["outputs, one 7×7 filter"] == 26 * 26
    assert values["numbers in a 480×480 RGB image"] == 691_200 and values["response"] == 6600


def test_lenet_shapes_and_parameters():
    values = explain_example("lenet-shapes").values
    shapes = [tuple(v) for k, v in values.items() if k.endswith(")") and "(" in k and "parameters" not in k]
    assert shapes == [
        (1, 6, 24, 24),
        (1, 6, 12, 12),
        (1, 16, 8, 8),
        (1, 16, 4, 4),
        (1, 256),
        (1, 120),
        (1, 84),
        (1, 10),
    ]
    counts = [values[f"parameters of {n}"] for n in ["features.0", "features.3", "classifier.1", "classifier.3"]]
    assert counts == [156, 2416, 30840, 10164] and values["parameters"] == 44_426


def test_conv_costs_and_the_notes_wrong_count():
    values = explain_example("separable-counts").values
    assert (values["3×3 kernel"], values["3×1 then 1×3"]) == (9, 6)
    assert (values["standard"], values["depthwise"], values["pointwise"]) == (1728, 27, 192)
    assert values["depthwise separable"] == 219
    report = explain_example("conv-mult-counts")
    values = report.values
    assert (values["standard"], values["depthwise"]) == (1_769_472, 27_648)
    assert (values["pointwise"], values["depthwise_separable"]) == (196_608, 224_256)
    assert values["ratio"] == approx(0.126736111111) and values["notes' standard / standard"] == 32
    assert "56,623,104 is wrong" in str(report) and "= 1,769,472" in str(report)


def test_rnn_tanh():
    report = explain_example("rnn-tanh")
    values = report.values
    for t, (a, h) in enumerate([(1, 0.761594155956), (2.76159415596, 0.992045570029), (3.99204557003, 0.999318548001)]):
        assert values[f"a_{t + 1}"] == approx(a) and values[f"h_{t + 1}"] == approx(h)
    assert "h_2 = tanh(a_2) = tanh(2.76159) = 0.992046" in str(report)


def test_losses_and_penalties():
    values = explain_example("bce").values
    assert (values["L1"], values["L2"]) == (approx(0.223143551314), approx(0.356674943939))
    assert values["mean"] == approx(0.289909247626)
    values = explain_example("mse").values
    assert values["MSE"] == approx(0.166666666667)
    np.testing.assert_allclose(values["(y − ŷ)²"], [0.25, 0.25, 0])
    values = explain_example("l1-l2").values
    assert (values["L1 total"], values["L2 total"]) == (approx(0.48), approx(0.434))
    np.testing.assert_allclose(values["dL1/dw"], [0.1, -0.1])
    np.testing.assert_allclose(values["dL2/dw"], [0.1, -0.06])
    values = explain_example("classifier-vectors").values
    assert values["Σ output"] == approx(1.0) and values["argmax"] == 3
    assert values["E"] == approx(0.0425) and values["E, uniform 0.1 output"] == approx(0.45)
    assert values["label"].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]


def test_adagrad_step():
    values = explain_example("adagrad").values
    np.testing.assert_allclose(
        values["θ' (ε = 1e-10)"], [0.40000000005, -0.200000000025, 9.99999943962e-11], rtol=1e-10
    )
    np.testing.assert_allclose(values["θ' (ε = 0)"], [0.4, -0.2, 0.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(values["θ' (notes)"], [0.4000000125, -0.200000003125, 4.99999624898e-08], rtol=1e-9)
    np.testing.assert_allclose(values["η/√(G + ε)"], [0.4999999375, 0.249999992188, 0.9999995], rtol=1e-10)


def test_activations_forward_and_neurons():
    values = explain_example("step-function").values
    assert (values["f(5)"], values["f(-2)"], values["f(0)"]) == (1, 0, 1)
    values = explain_example("sigmoid-derivative-max").values
    assert values["max σ′"] == approx(0.25) and values["argmax z"] == 0
    values = explain_example("two-layer-forward").values
    assert values["net_h1"] == approx(1.16) and values["out_h1"] == approx(0.761332714843)
    assert values["net_o1"] == approx(0.0452266542969) and values["out_o1"] == approx(0.5113047367)
    assert values["y − ŷ"] == approx(0.4886952633) and values["(y − ŷ)²"] == approx(0.238823060372)
    values = explain_example("logreg").values
    assert values["net_o1"] == approx(0.19) and values["out_o1"] == approx(0.547357618143)
    values = explain_example("mp-neuron").values
    assert values["θ rule"] == 2
    assert [values[f"y(θ = 1.5, x = ({a}, {b}))"] for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]] == [0, 0, 0, 1]


def test_data_dropout_and_gradient_products():
    assert explain_example("iterations").values["iterations per epoch"] == 50
    values = explain_example("dropout").values
    assert values["kept value, p = 0.5"] == 2.0 and values["kept value, p = 0.2"] == 1.25
    assert values["eval output, p = 0.5"] == 1.0
    values = explain_example("gradient-products").values
    assert values["gradient, vanishing"] == approx(0.0015) and values["gradient, exploding"] == 50_000


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_soma_explain_runs_for_every_example(name, capsys):
    assert main([name]) == 0
    assert capsys.readouterr().out.strip()


def test_catalogue_soma_column_is_up_to_date():
    """docs/notes-examples.md's "soma's numbers" column is what notes_examples_soma.py writes."""
    script = Path(__file__).parents[2] / "docs" / "notes_examples_soma.py"
    spec = importlib.util.spec_from_file_location("notes_examples_soma", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.CATALOGUE.read_text(encoding="utf-8")
    assert module.rewrite_summary(text) == text
    assert all(name in EXAMPLES for name, _ in module.HEADLINES.values())
