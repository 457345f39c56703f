"""Reference cells: RNN, LSTM and GRU written literally from the equations, in differentiable soma ops.

The optimized kernels (:mod:`.cells`) reorder gates, scale rows, fold biases and write
backpropagation through time by hand. The functions here do none of that: each step
is the equations as notes 003/004 ("LSTM Networks": forget, input, candidate, output
gate) print them, in PyTorch's gate order, with soma's own matmul, σ and tanh, and
autograd differentiates them. They record a few graph nodes per step, so they are
slow; they are the yardstick (the tests compare every kernel with them) and the
kernels' differentiable forward for higher-order gradients (``create_graph=True``).

    LSTM, gates i, f, g, o:                          GRU, gates r, z, n:
    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)   r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)   z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg) n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)   h_t = (1 - z_t) * n_t + z_t * h_{t-1}
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)                            RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
"""

import numpy as np

from soma import backend
from soma.backend import as_array
from soma.ops.arithmetic import where
from soma.ops.pointwise import relu, sigmoid, tanh
from soma.ops.shape import stack
from soma.tensor import Tensor

__all__ = ["rnn_cell", "lstm_cell", "gru_cell", "layer"]


def lengths_beside(lengths, like):
    """Sequence lengths (a Tensor, list or array) as an int64 array on ``like``'s device, where the kernels
    mask with them."""
    lengths = lengths._array if isinstance(lengths, Tensor) else as_array(lengths)
    return backend.of(like).transfer(lengths).astype(np.int64, copy=False)


def _affine(x, w, b):
    """W x + b for a batch of rows x (B, in): x W^T + b."""
    y = x @ w.t()
    return y if b is None else y + b


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (relu with ``nonlinearity="relu"``)."""
    a = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    return relu(a) if nonlinearity == "relu" else tanh(a)


def lstm_cell(x, state, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: (h_{t-1}, c_{t-1}) -> (h_t, c_t), gates i, f, g, o as PyTorch stacks them."""
    h, c = state
    a_i, a_f, a_g, a_o = (_affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)).chunk(4, 1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c = f * c + i * g
    return o * tanh(c), c


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step h_{t-1} -> h_t, gates r, z, n; r multiplies W_hn h_{t-1} + b_hn (PyTorch's GRU)."""
    x_r, x_z, x_n = _affine(x, w_ih, b_ih).chunk(3, 1)
    h_r, h_z, h_n = _affine(h, w_hh, b_hh).chunk(3, 1)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def _tensor(value):
    return value if value is None or isinstance(value, Tensor) else Tensor._make(as_array(value), False)


def layer(mode, x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, batch_first=False, reverse=False,
          lengths=None, nonlinearity="tanh"):
    """One direction of one layer, unrolled step by step: the kernels' ``apply`` with the cell ``mode``
    ("RNN", "LSTM" or "GRU") first. Returns (output, h_n), or (output, h_n, c_n) for LSTM.

    With ``lengths``, a row's state stops changing after its last step and its outputs there are zero.
    """
    x, h0, c0 = _tensor(x), _tensor(h0), _tensor(c0)
    if batch_first:
        x = x.transpose(0, 1)
    T, B = x.shape[0], x.shape[1]
    weights = (weight_ih, weight_hh, bias_ih, bias_hh)
    if mode == "LSTM":
        state = (h0, c0)

        def step(x_t, state):
            return lstm_cell(x_t, state, *weights)
    elif mode == "GRU":
        state = (h0,)

        def step(x_t, state):
            return (gru_cell(x_t, state[0], *weights),)
    else:
        state = (h0,)

        def step(x_t, state):
            return (rnn_cell(x_t, state[0], *weights, nonlinearity=nonlinearity),)

    valid = None
    if lengths is not None:
        lengths = lengths_beside(lengths, x._array)
        valid = np.arange(T, like=lengths)[:, None, None] < lengths.reshape(1, B, 1)  # (T, B, 1), beside x
    outputs = [None] * T
    for t in range(T - 1, -1, -1) if reverse else range(T):
        new = step(x[t], state)
        if valid is None:
            state, outputs[t] = new, new[0]
        else:
            inside = Tensor._make(valid[t], False)
            state = tuple(where(inside, n, s) for n, s in zip(new, state))
            outputs[t] = new[0] * Tensor._make(valid[t].astype(x.dtype), False)
    output = stack(outputs, 0)
    if batch_first:
        output = output.transpose(0, 1)
    return (output, *state)
