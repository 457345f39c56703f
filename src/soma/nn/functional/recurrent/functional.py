"""The functional forms: whole layers (one direction) and single steps, as ``torch``'s recurrent functions."""


from soma.nn.functional.recurrent.cells import GRULayer, LSTMLayer, RNNLayer
from soma.nn.functional.recurrent.reference import lengths_beside

__all__ = ["rnn_layer", "lstm_layer", "gru_layer", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


def _check_biases(bias_ih, bias_hh):
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError("recurrent kernels take both bias_ih and bias_hh, or neither")


def _layer(kernel, input, hx, weight_ih, weight_hh, bias_ih, bias_hh, batch_first, reverse, lengths,
           nonlinearity="tanh"):
    _check_biases(bias_ih, bias_hh)
    if lengths is not None:
        lengths = lengths_beside(lengths, input._array)
    h0, c0 = hx if isinstance(hx, tuple) else (hx, None)
    return kernel.apply(input, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, batch_first=batch_first,
                        reverse=reverse, lengths=lengths, nonlinearity=nonlinearity)


def rnn_layer(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh", batch_first=False,
              reverse=False, lengths=None):
    """One direction of one Elman RNN layer over a whole sequence: returns (output, h_n).

    ``input`` (T, B, I) (or (B, T, I) with ``batch_first``), ``hx`` (B, H);
    ``lengths`` (B,) ints for variable-length batches.
    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
    """
    return _layer(RNNLayer, input, hx, weight_ih, weight_hh, bias_ih, bias_hh, batch_first, reverse, lengths,
                  nonlinearity)


def lstm_layer(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, batch_first=False, reverse=False,
               lengths=None):
    """One direction of one LSTM layer: ``hx = (h0, c0)``; returns (output, (h_n, c_n))."""
    out, h, c = _layer(LSTMLayer, input, tuple(hx), weight_ih, weight_hh, bias_ih, bias_hh, batch_first, reverse,
                       lengths)
    return out, (h, c)


def gru_layer(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, batch_first=False, reverse=False,
              lengths=None):
    """One direction of one GRU layer: returns (output, h_n)."""
    return _layer(GRULayer, input, hx, weight_ih, weight_hh, bias_ih, bias_hh, batch_first, reverse, lengths)


def _step(kernel, input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One time step = the layer kernel on a sequence of length 1: (B, I) -> state(s) (B, H)."""
    from soma.ops.shape import unsqueeze

    _check_biases(b_ih, b_hh)
    h0, c0 = hx if isinstance(hx, tuple) else (hx, None)
    outputs = kernel.apply(unsqueeze(input, 0), h0, c0, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity)
    return outputs[1:] if c0 is not None else outputs[1]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) for one step, like ``torch.rnn_tanh_cell``."""
    return _step(RNNLayer, input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh) for one step, like ``torch.rnn_relu_cell``."""
    return _step(RNNLayer, input, hx, w_ih, w_hh, b_ih, b_hh, "relu")


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: ``hx = (h, c)`` -> (h', c'), like ``torch.lstm_cell``."""
    return _step(LSTMLayer, input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: h -> h', like ``torch.gru_cell``."""
    return _step(GRULayer, input, hx, w_ih, w_hh, b_ih, b_hh)
