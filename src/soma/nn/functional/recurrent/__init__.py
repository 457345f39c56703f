"""Recurrent kernels: a whole RNN, LSTM or GRU layer (one direction) as ONE graph node.

The package, bottom to top:

* :mod:`.workspace`: the pool of preallocated scratch arrays and the single-BLAS-thread switch;
* :mod:`.layout`: PyTorch's stacked gate weights to the kernels' feature-major internal form;
* :mod:`.bptt`: :class:`RecurrentLayer`, the forward over all steps and the hand-written
  backpropagation through time that RNN, LSTM and GRU share;
* :mod:`.cells`: the three optimized cells (:class:`RNNLayer`, :class:`LSTMLayer`, :class:`GRULayer`);
* :mod:`.reference`: the same cells written literally from the notes' equations in
  differentiable soma ops: the yardstick the kernels are tested against, and their
  higher-order (``create_graph``) path;
* :mod:`.functional`: ``rnn_layer``, ``lstm_layer``, ``gru_layer`` and the one-step cells.
"""

from soma.nn.functional.recurrent.bptt import RecurrentLayer  # noqa: F401  (the kernels stay importable from here)
from soma.nn.functional.recurrent.cells import GRULayer, LSTMLayer, RNNLayer  # noqa: F401
from soma.nn.functional.recurrent.functional import (
    gru_cell,
    gru_layer,
    lstm_cell,
    lstm_layer,
    rnn_layer,
    rnn_relu_cell,
    rnn_tanh_cell,
)

__all__ = ["rnn_layer", "lstm_layer", "gru_layer", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]
