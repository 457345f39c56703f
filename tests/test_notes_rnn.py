"""Notes 004, "Simple Numerical Example" of a recurrent network, through ``nn.RNN``.

h_t = tanh(W_x x_t + W_h h_{t-1} + b) with W_x = W_h = 1, b = 0, h_0 = 0, x = [1, 2, 3].
The notes print 0.761, 0.992, 0.999 (three digits; they carry the rounded h forward,
which rounds the same). Full precision, recomputed in float64 (docs/notes-examples.md,
N004-rnn-tanh): 0.761594155956, 0.992045570029, 0.999318548001.
"""

import math

import numpy as np

import soma
from soma import nn


def _notes_rnn(dtype):
    rnn = nn.RNN(1, 1, dtype=dtype)
    state = {
        "weight_ih_l0": [[1.0]],
        "weight_hh_l0": [[1.0]],
        "bias_ih_l0": [0.0],
        "bias_hh_l0": [0.0],
    }
    rnn.load_state_dict({k: soma.tensor(np.array(v, dtype)) for k, v in state.items()})
    return rnn


def test_notes_004_rnn_hidden_states():
    rnn = _notes_rnn(np.float64)
    x = soma.tensor(np.array([1.0, 2.0, 3.0]).reshape(3, 1, 1))
    with soma.no_grad():
        output, h_n = rnn(x)
    h = output.numpy().reshape(3)
    np.testing.assert_allclose(h, [0.761594155956, 0.992045570029, 0.999318548001], rtol=1e-11)
    # the issue rounds to 4 digits (0.7616, 0.9920, 0.9993);
    # the notes truncate to 0.761, 0.992, 0.999
    np.testing.assert_array_equal(np.round(h, 4), [0.7616, 0.9920, 0.9993])
    np.testing.assert_array_equal(np.floor(h * 1000) / 1000, [0.761, 0.992, 0.999])
    assert h_n.numpy().item() == h[-1]
    # the recurrence itself: each pre-activation is x_t + h_{t-1}
    assert math.isclose(h[1], math.tanh(2 + h[0]), rel_tol=1e-15)
    assert math.isclose(h[2], math.tanh(3 + h[1]), rel_tol=1e-15)


def test_notes_004_rnn_float32_and_backprop_through_time():
    """float32 gives the same values to 1e-6; BPTT gives dh_3/dx_1 = Π tanh' · W_h (tiny)."""
    rnn = _notes_rnn(np.float32)
    x = soma.tensor(np.array([1.0, 2.0, 3.0], np.float32).reshape(3, 1, 1), requires_grad=True)
    output, _ = rnn(x)
    np.testing.assert_allclose(
        output.detach().numpy().reshape(3), [0.7615942, 0.9920456, 0.9993185], rtol=1e-6
    )
    output[2].sum().backward()
    h = np.array([0.761594155956, 0.992045570029, 0.999318548001])
    d = 1 - h**2  # tanh' at each step
    expected = [d[2] * d[1] * d[0], d[2] * d[1], d[2]]  # the vanishing gradient, made visible
    np.testing.assert_allclose(x.grad.numpy().reshape(3), expected, rtol=1e-4)
