"""Sequence to sequence: an encoder RNN reads the source, a decoder RNN writes the target.

See notes 002 (Q50, "Encoder-Decoder network") and 003 ("Encoder Decoder Sequence to
Sequence RNNs"): the encoder's final state is the fixed-length "context" of the whole
input; the decoder starts from it and emits one token per step, each step fed the
previous token. In training that token is usually the *true* previous target
(teacher forcing, with probability ``teacher_forcing_ratio``), otherwise the decoder's
own best guess; at inference it is always the decoder's own guess (greedy decoding).

Also here: :class:`Bidirectional`, which turns any one-direction recurrent layer into a
two-direction one (Keras's wrapper), for models built from separate layers.
"""

import copy

import numpy as np

from soma.autograd.function import no_grad
from soma.nn.linear import Linear
from soma.nn.module import Module
from soma.nn.rnn import GRU, LSTM, RNNBase
from soma.nn.sparse import Embedding
from soma.ops.shape import cat, flip, stack
from soma.tensor import Tensor

__all__ = ["Seq2Seq", "Bidirectional"]


class Seq2Seq(Module):
    """Encoder-decoder over token sequences, batch first.

        context = encoder(embed_src(x_1 .. x_S))             (its final state)
        s_0 = context;  y_0 = <sos>
        s_t, o_t = decoder(embed_tgt(y_{t-1}), s_{t-1});  logits_t = W o_t + b

    Args:
        src_vocab_size, tgt_vocab_size: token counts of the two vocabularies.
        embedding_dim: size of each token embedding (default 32).
        hidden_size: size of the recurrent state shared by encoder and decoder (default 64).
        num_layers: stacked layers in both (default 1).
        rnn: the recurrent layer class, :class:`~soma.nn.GRU` (default) or :class:`~soma.nn.LSTM`.
        sos_index: the start-of-sequence token fed to the decoder first (default 0).

    Shape:
        src (N, S) int64, tgt (N, T) int64 -> logits (N, T, tgt_vocab_size).

    Example::

        >>> model = nn.Seq2Seq(10, 10, hidden_size=64)
        >>> logits = model(src, tgt, teacher_forcing_ratio=0.5)
        >>> loss = F.cross_entropy(logits.reshape(-1, 10), tgt.reshape(-1))
        >>> model.greedy_decode(src, max_len=5)      # (N, 5) token ids
    """

    def __init__(
        self,
        src_vocab_size,
        tgt_vocab_size,
        embedding_dim=32,
        hidden_size=64,
        num_layers=1,
        rnn=GRU,
        sos_index=0,
        dtype=None,
    ):
        super().__init__()
        if rnn not in (GRU, LSTM) and not (isinstance(rnn, type) and issubclass(rnn, RNNBase)):
            raise TypeError(f"Seq2Seq: rnn must be a recurrent layer class (nn.GRU, nn.LSTM), got {rnn!r}")
        self.sos_index, self.tgt_vocab_size = sos_index, tgt_vocab_size
        self.src_embedding = Embedding(src_vocab_size, embedding_dim, dtype=dtype)
        self.tgt_embedding = Embedding(tgt_vocab_size, embedding_dim, dtype=dtype)
        self.encoder = rnn(embedding_dim, hidden_size, num_layers, batch_first=True, dtype=dtype)
        self.decoder = rnn(embedding_dim, hidden_size, num_layers, batch_first=True, dtype=dtype)
        self.out = Linear(hidden_size, tgt_vocab_size, dtype=dtype)

    def encode(self, src):
        """The context: the encoder's final state (h_n, or (h_n, c_n) for an LSTM)."""
        if not isinstance(src, Tensor) or src.ndim != 2:
            got = tuple(src.shape) if isinstance(src, Tensor) else type(src).__name__
            raise ValueError(f"Seq2Seq expects src of shape (batch, seq) of token ids, got {got}")
        _, state = self.encoder(self.src_embedding(src))
        return state

    def _step(self, tokens, state):
        """One decoder step: tokens (N,) -> logits (N, V), new state."""
        output, state = self.decoder(self.tgt_embedding(tokens.reshape(-1, 1)), state)
        return self.out(output[:, 0]), state

    def forward(self, src, tgt, teacher_forcing_ratio=1.0):
        """Logits for every target position, feeding the true previous token with probability
        ``teacher_forcing_ratio`` (drawn per step from soma's generator), else the prediction."""
        state = self.encode(src)
        batch, steps = tgt.shape
        sos = Tensor._make(np.full((batch, 1), self.sos_index, np.int64), False)
        if teacher_forcing_ratio >= 1.0:  # every input known: the decoder runs as one fused call
            inputs = cat([sos, tgt[:, :-1]], 1)
            output, _ = self.decoder(self.tgt_embedding(inputs), state)
            return self.out(output)
        from soma.random import generator

        rng = generator()
        token, logits = sos[:, 0], []
        for t in range(steps):
            step_logits, state = self._step(token, state)
            logits.append(step_logits)
            forced = rng.random() < teacher_forcing_ratio
            token = tgt[:, t] if forced else Tensor._make(step_logits._array.argmax(-1), False)
        return stack(logits, 1)

    def greedy_decode(self, src, max_len):
        """Token ids (N, max_len): at each step the most probable token, fed back in."""
        with no_grad():
            state = self.encode(src)
            token = Tensor._make(np.full(src.shape[0], self.sos_index, np.int64), False)
            tokens = []
            for _ in range(max_len):
                logits, state = self._step(token, state)
                token = Tensor._make(logits._array.argmax(-1), False)
                tokens.append(token._array)
        return Tensor._make(np.stack(tokens, 1), False)


class Bidirectional(Module):
    """Run ``layer`` forward and a copy of it (own weights) over the reversed sequence.

        h_t = merge(→h_t, ←h_t),   merge_mode 'concat' (default), 'sum', 'mul' or 'ave'

    ``layer`` is a one-direction recurrent module returning ``(output, state)``; the
    result is ``(merged output, (forward state, backward state))``. For nn.RNN/LSTM/GRU,
    ``bidirectional=True`` does the same in one module with PyTorch's parameter names.

    Example::

        >>> bi = nn.Bidirectional(nn.LSTM(8, 16, batch_first=True))
        >>> output, (state_fwd, state_bwd) = bi(soma.randn(4, 10, 8))   # output (4, 10, 32)
    """

    def __init__(self, layer, merge_mode="concat"):
        super().__init__()
        if merge_mode not in ("concat", "sum", "mul", "ave"):
            raise ValueError(f"Bidirectional: merge_mode must be concat, sum, mul or ave, got {merge_mode!r}")
        if getattr(layer, "bidirectional", False):
            raise ValueError("Bidirectional: the wrapped layer is already bidirectional")
        self.merge_mode = merge_mode
        self.forward_layer = layer
        self.backward_layer = copy.deepcopy(layer)
        if hasattr(self.backward_layer, "reset_parameters"):
            self.backward_layer.reset_parameters()

    def forward(self, input, hx=None):
        time_dim = 1 if getattr(self.forward_layer, "batch_first", False) else 0
        hx_f, hx_b = (None, None) if hx is None else hx
        out_f, state_f = self.forward_layer(input, hx_f)
        out_b, state_b = self.backward_layer(flip(input, (time_dim,)), hx_b)
        out_b = flip(out_b, (time_dim,))
        if self.merge_mode == "concat":
            output = cat([out_f, out_b], -1)
        elif self.merge_mode == "sum":
            output = out_f + out_b
        elif self.merge_mode == "mul":
            output = out_f * out_b
        else:
            output = (out_f + out_b) * 0.5
        return output, (state_f, state_b)

    def extra_repr(self):
        return f"merge_mode={self.merge_mode!r}"
