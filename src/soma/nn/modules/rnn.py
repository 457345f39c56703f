"""``torch.nn.modules.rnn``'s import path for soma's own classes
(defined in ``soma.nn.rnn``)."""

from soma.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
