"""The lecture notes' worked examples of neurons, backpropagation and optimizer steps, built from
soma layers (values from docs/notes-examples.md; where the notes' arithmetic is wrong the comment
says what they had)."""

import numpy as np
import pytest

import soma
import soma.nn as nn
import soma.nn.functional as F
import soma.optim as optim


def _linear(weight, bias):
    layer = nn.Linear(len(weight[0]), len(weight)).double()
    layer.weight._array[...] = weight
    layer.bias._array[...] = bias
    return layer


def _half_squared_error(output, target):
    """E = ½Σ(t - y)², the notes' loss (= MSELoss(reduction='sum') / 2)."""
    return F.mse_loss(output, target, reduction="sum") / 2


def _network_004():
    hidden = _linear([[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35])
    output = _linear([[0.40, 0.45], [0.50, 0.55]], [0.60, 0.60])
    return hidden, output, nn.Sequential(hidden, nn.Sigmoid(), output, nn.Sigmoid())


def test_notes_004_backprop_222_lr05():
    hidden, output, model = _network_004()
    x = soma.tensor([[0.05, 0.10]], dtype=soma.float64)
    t = soma.tensor([[0.01, 0.99]], dtype=soma.float64)
    out = model(x)
    np.testing.assert_allclose(out.detach().numpy(), [[0.751365069552, 0.772928465321]], rtol=1e-11)
    loss = _half_squared_error(out, t)
    assert loss.item() == pytest.approx(0.29837110876, rel=1e-10)  # notes: 0.298371109
    loss.backward()
    # per-neuron bias gradients are the deltas δo and δh (notes' δo2 = -0.03807 is wrong: -0.0380982)
    np.testing.assert_allclose(output.bias.grad.numpy(), [0.138498561629, -0.0380982365166], rtol=1e-10)
    np.testing.assert_allclose(hidden.bias.grad.numpy(), [0.00877135468949, 0.00995425470522], rtol=1e-10)
    # the notes update only the 8 weights (biases stay fixed), all at once, with η = 0.5
    optim.SGD([hidden.weight, output.weight], lr=0.5).step()
    # notes: w3' = 0.2497 (correct 0.24975...) and w8' = 0.5613 (correct 0.56137...)
    np.testing.assert_allclose(hidden.weight._array, [[0.149780716133, 0.199561432266],
                                                    [0.249751143632, 0.299502287265]], rtol=1e-10)
    np.testing.assert_allclose(output.weight._array, [[0.358916479718, 0.408666186076],
                                                    [0.511301270239, 0.561370121108]], rtol=1e-10)
    assert _half_squared_error(model(x), t).item() == pytest.approx(0.291027773694, rel=1e-10)


def test_notes_004_backprop_222_lr06():
    hidden, output, model = _network_004()
    x = soma.tensor([[0.05, 0.10]], dtype=soma.float64)
    _half_squared_error(model(x), soma.tensor([[0.01, 0.99]], dtype=soma.float64)).backward()
    optim.SGD([hidden.weight, output.weight], lr=0.6).step()
    # notes quote the gradient of w5 as 0.08216709, a digit typo for 0.08216704; w5* = 0.350699776 is right
    np.testing.assert_allclose(hidden.weight._array.reshape(-1), [0.149736859359, 0.199473718719,
                                                                0.249701372359, 0.299402744718], rtol=1e-10)
    np.testing.assert_allclose(output.weight._array.reshape(-1), [0.350699775661, 0.400399423291,
                                                                0.513561524286, 0.56364414533], rtol=1e-10)


def test_notes_000_one_input_chain():
    first, second = _linear([[0.15]], [0.40]), _linear([[0.45]], [0.65])
    model = nn.Sequential(first, nn.Sigmoid(), second, nn.Sigmoid())
    x = soma.tensor([[0.1]], dtype=soma.float64)
    t = soma.tensor([[0.25]], dtype=soma.float64)
    out = model(x)
    assert out.item() == pytest.approx(0.715251680253, rel=1e-11)
    loss = _half_squared_error(out, t)
    assert loss.item() == pytest.approx(0.108229562989, rel=1e-10)
    loss.backward()
    assert second.bias.grad.item() == pytest.approx(0.0947562809691, rel=1e-10)  # δ2
    assert second.weight.grad.item() == pytest.approx(0.0570703982011, rel=1e-10)
    assert first.bias.grad.item() == pytest.approx(0.0102139588148, rel=1e-10)  # δ1 (uses the old w2)
    assert first.weight.grad.item() == pytest.approx(0.00102139588148, rel=1e-10)
    optim.SGD(model.parameters(), lr=0.4).step()
    values = [first.weight.item(), first.bias.item(), second.weight.item(), second.bias.item()]
    np.testing.assert_allclose(values, [0.149591441647, 0.395914416474, 0.42717184072, 0.612097487612],
                               rtol=1e-10)
    assert _half_squared_error(model(x), t).item() == pytest.approx(0.103297924711, rel=1e-9)


def test_notes_002_relu_exam_question():
    # h = W1·i + b1 with rows (w11, w21) and (w12, w22); o = W2·relu(h) + b2, rows (w31, w41), (w32, w42)
    first = _linear([[1.0, 0.5], [-0.5, -1.0]], [0.5, -0.5])
    second = _linear([[0.5, -0.5], [-1.0, 1.0]], [-1.0, 0.5])
    model = nn.Sequential(first, nn.ReLU(), second)
    out = model(soma.tensor([[2.0, -1.0]], dtype=soma.float64))
    assert out.tolist() == [[0.0, -1.5]]
    loss = nn.MSELoss()(out, soma.tensor([[1.0, 0.5]], dtype=soma.float64))  # mean of 2 = ½Σ
    assert loss.item() == 2.5
    loss.backward()
    np.testing.assert_allclose(first.weight.grad.numpy(), [[3.0, -1.5], [0.0, 0.0]])
    np.testing.assert_allclose(second.weight.grad.numpy(), [[-2.0, 0.0], [-4.0, 0.0]])
    np.testing.assert_allclose(first.bias.grad.numpy(), [1.5, 0.0])
    np.testing.assert_allclose(second.bias.grad.numpy(), [-1.0, -2.0])
    optim.SGD(model.parameters(), lr=0.1).step()
    assert first.weight._array[0, 1] == pytest.approx(0.65, abs=1e-15)  # w21 -> 0.65


def test_notes_002_tuple_101():
    hidden = _linear([[0.2, 0.4, -0.5], [-0.3, 0.1, 0.2]], [-0.4, 0.2])  # units 4 and 5
    output = _linear([[-0.3, -0.2]], [0.1])  # unit 6
    model = nn.Sequential(hidden, nn.Sigmoid(), output, nn.Sigmoid())
    out = model(soma.tensor([[1.0, 0.0, 1.0]], dtype=soma.float64))
    assert out.item() == pytest.approx(0.473888898824, rel=1e-11)
    loss = _half_squared_error(out, soma.tensor([[1.0]], dtype=soma.float64))
    assert loss.item() == pytest.approx(0.13839644539, rel=1e-10)
    loss.backward()
    # Err_j = -∂E/∂I_j
    assert -output.bias.grad.item() == pytest.approx(0.131169078214, rel=1e-10)
    np.testing.assert_allclose(-hidden.bias.grad.numpy(), [-0.00872456196543, -0.00654208506417], rtol=1e-10)
    optim.SGD(model.parameters(), lr=0.9).step()
    np.testing.assert_allclose(output.weight._array, [[-0.260828846342, -0.138025067507]], rtol=1e-10)
    np.testing.assert_allclose(output.bias._array, [0.218052170393], rtol=1e-10)
    np.testing.assert_allclose(hidden.weight._array, [[0.192147894231, 0.4, -0.507852105769],
                                                    [-0.305887876558, 0.1, 0.194112123442]], rtol=1e-10)
    np.testing.assert_allclose(hidden.bias._array, [-0.407852105769, 0.194112123442], rtol=1e-10)


def test_notes_002_adagrad_step():
    def step(eps):
        p = nn.Parameter(soma.tensor([0.5, -0.3, 0.1], dtype=soma.float64))
        p.grad = soma.tensor([0.2, -0.4, 0.1], dtype=soma.float64)
        opt = optim.Adagrad([p], lr=0.1, eps=eps)
        opt.step()
        np.testing.assert_allclose(opt.state[p]["sum"], [0.04, 0.16, 0.01], rtol=1e-15)  # G = g² on step 1
        return p.detach().numpy()

    # the notes (ε inside the root) print 0.4, -0.2, 0.0; with PyTorch's ε = 1e-10 outside the root:
    np.testing.assert_allclose(step(1e-10), [0.40000000005, -0.200000000025, 9.99999943962e-11],
                               rtol=1e-10, atol=1e-20)
    np.testing.assert_allclose(step(0.0), [0.4, -0.2, 0.0], atol=1e-16)


def _step_neuron(weights, bias):
    return nn.Sequential(_linear([weights], [bias]), nn.Step())


INPUTS = soma.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=soma.float64)


def test_notes_000_and_or_not_step_neurons():
    assert _step_neuron([1.0, 1.0], -1.5)(INPUTS).reshape(-1).tolist() == [0, 0, 0, 1]  # AND
    assert _step_neuron([1.0, 1.0], -0.5)(INPUTS).reshape(-1).tolist() == [0, 1, 1, 1]  # OR
    not_gate = _step_neuron([-2.0], 1.0)
    assert not_gate(soma.tensor([[0.0], [1.0]], dtype=soma.float64)).reshape(-1).tolist() == [1, 0]


def test_notes_000_xnor_from_three_step_neurons():
    first = nn.Sequential(_linear([[-1.0, -1.0], [1.0, 1.0]], [0.5, -1.5]), nn.Step())  # a1 = A'B', a2 = AB
    second = _step_neuron([1.0, 1.0], -0.5)  # a3 = a1 OR a2
    hidden = first(INPUTS)
    assert hidden.tolist() == [[1, 0], [0, 0], [0, 0], [0, 1]]
    assert second(hidden).reshape(-1).tolist() == [1, 0, 0, 1]
