"""Every worked example of the notes, as soma computes it, against docs/notes-examples.md."""

import numpy as np
import pytest

import soma
from soma import classic
from soma.explain.cli import main
from soma.explain.examples import EXAMPLES, explain_example

approx = lambda value: pytest.approx(value, rel=1e-10, abs=1e-12)  # noqa: E731  (catalogue: 12 digits)


def test_backprop_222_lr05_and_lr06():
    values = explain_example("backprop-222").values
    assert values["out_h1"] == approx(0.593269992107) and values["E"] == approx(0.29837110876)
    assert values["w5'"] == approx(0.358916479718) and values["w8'"] == approx(0.561370121108)
    assert values["w3'"] == approx(0.249751143632) and values["δ_o2"] == approx(-0.0380982365166)
    values = explain_example("backprop-222-lr06").values
    assert values["w5'"] == approx(0.350699775661) and values["w1'"] == approx(0.149736859359)


def test_chain_1_1_1_of_notes_000():
    report = explain_example("chain-1-1-1")
    values = report.values
    assert values["E"] == approx(0.108229562989) and values["δ_o1"] == approx(0.0947562809691)
    assert values["dE/dw1"] == approx(0.00102139588148)
    for name, expected in {
        "w1'": 0.149591441647,
        "b_h1'": 0.395914416474,
        "w2'": 0.42717184072,
        "b_o1'": 0.612097487612,
    }.items():
        assert values[name] == approx(expected)
    assert "E = ½(out_o1 − t_o1)² = ½(0.715252 − 0.25)² = 0.108230" in str(report)


def test_relu_exam_of_notes_002():
    report = explain_example("relu-exam")
    values = report.values
    assert (values["out_o1"], values["out_o2"], values["E"]) == (0.0, -1.5, 2.5)
    assert values["dE/dw2"] == -1.5 and values["w2'"] == pytest.approx(
        0.65, abs=1e-15
    )  # the notes' w21
    assert values["dE/dw1"] == 3.0 and values["dE/dw3"] == 0.0 and values["dE/db_o2"] == -2.0
    assert "dout_h2/dnet_h2 = 1 if net_h2 > 0 else 0 = 0" in str(report)
    assert "w21 = w2" in str(report)


def test_tuple_101_of_notes_002():
    values = explain_example("tuple-101").values
    assert values["out_o1"] == approx(0.473888898824)
    assert -values["δ_o1"] == approx(0.131169078214)  # the notes' Err6
    assert -values["δ_h1"] == approx(-0.00872456196543) and -values["δ_h2"] == approx(
        -0.00654208506417
    )
    for name, expected in {
        "w7'": -0.260828846342,
        "w8'": -0.138025067507,
        "w1'": 0.192147894231,
        "w4'": -0.305887876558,
        "w2'": 0.4,
        "w3'": -0.507852105769,
        "w6'": 0.194112123442,
        "b_o1'": 0.218052170393,
        "b_h2'": 0.194112123442,
        "b_h1'": -0.407852105769,
    }.items():
        assert values[name] == approx(expected), name
    assert values["E"] == approx(0.13839644539)


def test_adaline_lms_epoch_of_notes_004():
    values = explain_example("adaline-lms").values
    first = "sample 1, x = (1, 1), d = 1: "
    assert values[first + "out_o1"] == pytest.approx(0.0, abs=1e-15)
    assert (values[first + "w1'"], values[first + "w2'"], values[first + "b_o1'"]) == (
        pytest.approx(0.3),
        pytest.approx(-0.2),
        pytest.approx(0.2),
    )
    last = "sample 4, x = (-1, -1), d = -1: "
    assert values["sample 2, x = (1, -1), d = -1: out_o1"] == pytest.approx(0.7)
    assert values[last + "w1'"] == pytest.approx(0.3013) and values[last + "w2'"] == pytest.approx(
        -0.0327
    )
    assert values[last + "b_o1'"] == pytest.approx(-0.1413)


def test_perceptron_learns_and_like_soma_classic():
    report = explain_example("perceptron-and")
    reference = classic.Perceptron(2, lr=1.0).fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1])
    np.testing.assert_array_equal(report.values["weights"], reference.weights)
    assert report.values["bias"] == reference.bias
    assert str(report).count("Epoch ") == reference.n_epochs_
    assert "0 mistake(s)" in str(report)


@pytest.mark.parametrize(
    "gate, rows, outputs", [("AND", 4, [0, 0, 0, 1]), ("OR", 4, [0, 1, 1, 1]), ("NOT", 2, [1, 0])]
)
def test_logic_gates_of_notes_000(gate, rows, outputs):
    values = explain_example("logic-gates").values
    found = [v for k, v in values.items() if k.startswith(f"{gate}, ") and k.endswith(": out_o1")]
    assert found == outputs
    assert values["AND, x = (0, 1): net_o1"] == -0.5 and values["NOT, x = (1): net_o1"] == -1.0


def test_xnor_and_xor_networks():
    xnor = explain_example("xnor-net").values
    assert [xnor[f"x = ({a}, {b}): out_o1"] for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]] == [
        1,
        0,
        0,
        1,
    ]
    assert xnor["x = (0, 0): out_h1"] == 1 and xnor["x = (1, 1): out_h2"] == 1
    xor = explain_example("xor-sigmoid-net").values
    assert xor["x = (0, 0): out_o1"] == approx(4.54391048765e-05)
    assert xor["x = (0, 1): out_o1"] == approx(0.999954519621)
    assert xor["x = (1, 1): net_o1"] == approx(-9.99909204263)


def test_softmax_animals_of_notes_001():
    report = explain_example("softmax-animals")
    values = report.values
    expected = {
        "cat": 0.00216569646006,
        "dog": 0.00588697333334,
        "monkey": 0.118243020253,
        "horse": 0.873704309954,
    }
    for name, value in expected.items():
        assert values[f"p_{name}"] == approx(value)
    logits = soma.tensor(np.array([-1.0, 0.0, 3.0, 5.0]))
    assert values["p_horse"] == soma.softmax(logits, dim=0)._array[3]  # exactly soma's softmax
    assert "e^5" in str(report)


def test_every_example_renders_in_every_format():
    for name in EXAMPLES:
        report = explain_example(name, digits=4)
        assert report.values and str(report).strip()
        assert report.to_latex().count(r"\begin{align*}") == report.to_latex().count(
            r"\end{align*}"
        )
        assert report.to_markdown().startswith("## ")


def test_cli_list_and_show(capsys):
    assert main(["--list"]) == 0
    listing = capsys.readouterr().out
    for name in [
        "backprop-222",
        "chain-1-1-1",
        "relu-exam",
        "tuple-101",
        "adaline-lms",
        "perceptron-and",
        "logic-gates",
        "softmax-animals",
    ]:
        assert name in listing
    assert main(["backprop-222"]) == 0
    text = capsys.readouterr().out
    assert "= 0.593270" in text and "= 0.358916" in text and "= 0.149781" in text
    assert main(["backprop-222", "--digits", "3", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("## ") and "= 0.359$" in markdown
    assert main(["relu-exam", "--format", "latex"]) == 0
    assert r"\begin{align*}" in capsys.readouterr().out


def test_cli_errors(capsys):
    assert main(["no-such-example"]) == 2
    assert "soma explain --list" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["relu-exam", "--digits", "0"]) == 2
    with pytest.raises(SystemExit):
        main(["relu-exam", "--format", "pdf"])
