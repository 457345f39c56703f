"""Sequence to sequence: an encoder RNN reads the source, a decoder RNN writes the target.

See notes 002 (Q50, "Encoder-Decoder network") and 003 ("Encoder Decoder Sequence to
Sequence RNNs"): the encoder's final state is the fixed-length "context" of the whole
input; the decoder starts from it and emits one token per step, each step fed the
previous token. In training that token is usually the *true* previous target
(teacher forcing, with probability ``teacher_forcing_ratio``), otherwise the decoder's
own best guess; at inference it is always the decoder's own guess (greedy decoding).

With ``attention=`` the decoder no longer depends on one fixed-length context (notes 002/003,
"Attention Model"): at every step t it scores each encoder output h_j against a query q_t,
turns the scores into weights a_tj = softmax_j(e_tj) and reads the context c_t = Σ_j a_tj h_j:

    additive (Bahdanau 2015):        e_tj = vᵀ tanh(W_q q_t + W_k h_j),  q_t = s_{t−1}, c_t also fed to the RNN
    multiplicative (Luong 2015):     e_tj = q_tᵀ h_j ("dot") or q_tᵀ W_a h_j ("general"),  q_t = s_t
    then  õ_t = tanh(W_c [o_t; c_t]),  logits_t = W õ_t + b

Also here: :class:`Bidirectional`, which turns any one-direction recurrent layer into a
two-direction one (Keras's wrapper), for models built from separate layers.
"""

import copy
from typing import Any

import numpy as np

from soma.autograd.function import no_grad
from soma.nn.common_types import DTypeLike
from soma.nn.functional.attention import attention_weights
from soma.nn.linear import Linear
from soma.nn.module import Module
from soma.nn.rnn import GRU, LSTM, RNNBase
from soma.nn.sparse import Embedding
from soma.ops import tanh
from soma.ops.shape import cat, flip, stack
from soma.ops.softmax import softmax
from soma.tensor import Tensor

__all__ = ["Seq2Seq", "Bidirectional", "AdditiveAttention", "LuongAttention"]


class AdditiveAttention(Module):
    """Bahdanau's attention: e_j = vᵀ tanh(W_q q + W_k h_j), a = softmax(e), c = Σ_j a_j h_j.

    Args:
        query_size, key_size: sizes of q and of each h_j; hidden_size: rows of W_q and W_k (and of v).

    Shape:
        query ``(N, Q)`` or ``(N, T, Q)``, keys ``(N, S, K)``, mask ``(N, S)`` bool (True = ignore);
        returns context ``(N, K)`` / ``(N, T, K)`` and weights ``(N, S)`` / ``(N, T, S)``.
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.query_proj = Linear(query_size, hidden_size, bias=False, dtype=dtype)
        self.key_proj = Linear(key_size, hidden_size, bias=True, dtype=dtype)
        self.v = Linear(hidden_size, 1, bias=False, dtype=dtype)

    def forward(self, query: Tensor, keys: Tensor, mask: Tensor | None = None,
                projected_keys: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``projected_keys``: W_k h_j + b computed once for a whole decoding (they do not change with t)."""
        single = query.ndim == 2
        q = self.query_proj(query.unsqueeze(1) if single else query)  # (N, T, A)
        projected = self.key_proj(keys) if projected_keys is None else projected_keys
        e = self.v(tanh(q.unsqueeze(2) + projected.unsqueeze(1))).squeeze(-1)  # (N, T, S)
        if mask is not None:
            e = e.masked_fill(mask.unsqueeze(1), float("-inf"))
        weights = softmax(e, dim=-1)
        context = weights @ keys
        return (context.squeeze(1), weights.squeeze(1)) if single else (context, weights)


class LuongAttention(Module):
    """Luong's multiplicative attention: e_j = qᵀ h_j ("dot") or qᵀ W_a h_j ("general"), a = softmax(e).

    Shape: as :class:`AdditiveAttention` (``score="dot"`` needs query and key of one size).
    """

    def __init__(self, query_size: int, key_size: int, score: str = "general", dtype: DTypeLike | None = None) -> None:
        super().__init__()
        if score not in ("dot", "general"):
            raise ValueError(f"LuongAttention: score must be 'dot' or 'general', got {score!r}")
        if score == "dot" and query_size != key_size:
            raise ValueError(f"LuongAttention(score='dot') needs query_size == key_size, got {query_size}, {key_size}")
        self.score = score
        self.weight = Linear(key_size, query_size, bias=False, dtype=dtype) if score == "general" else None

    def forward(self, query: Tensor, keys: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        single = query.ndim == 2
        q = query.unsqueeze(1) if single else query
        k = keys if self.weight is None else self.weight(keys)  # W_a h_j, so that qᵀ(W_a h_j)
        weights = attention_weights(q, k, None if mask is None else ~mask.unsqueeze(1), scale=1.0, safe=False)
        context = weights @ keys
        return (context.squeeze(1), weights.squeeze(1)) if single else (context, weights)


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
        attention: None (the fixed context), "additive" (Bahdanau), "dot" or "general" (Luong);
            see the module docstring.

    Shape:
        src (N, S) int64, tgt (N, T) int64 -> logits (N, T, tgt_vocab_size).

    Example::

        >>> model = nn.Seq2Seq(10, 10, hidden_size=64)
        >>> logits = model(src, tgt, teacher_forcing_ratio=0.5)
        >>> loss = F.cross_entropy(logits.reshape(-1, 10), tgt.reshape(-1))
        >>> model.greedy_decode(src, max_len=5)      # (N, 5) token ids
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embedding_dim: int = 32, hidden_size: int = 64,
                 num_layers: int = 1, rnn: type[GRU] | type[LSTM] = GRU, sos_index: int = 0,
                 attention: str | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        if rnn not in (GRU, LSTM) and not (isinstance(rnn, type) and issubclass(rnn, RNNBase)):
            raise TypeError(f"Seq2Seq: rnn must be a recurrent layer class (nn.GRU, nn.LSTM), got {rnn!r}")
        if attention not in (None, "additive", "dot", "general"):
            raise ValueError(f"Seq2Seq: attention must be None, 'additive', 'dot' or 'general', got {attention!r}")
        self.sos_index, self.tgt_vocab_size, self.attention_kind = sos_index, tgt_vocab_size, attention
        self.src_embedding = Embedding(src_vocab_size, embedding_dim, dtype=dtype)
        self.tgt_embedding = Embedding(tgt_vocab_size, embedding_dim, dtype=dtype)
        self.encoder = rnn(embedding_dim, hidden_size, num_layers, batch_first=True, dtype=dtype)
        fed = hidden_size if attention == "additive" else 0  # Bahdanau feeds c_t to the decoder RNN
        self.decoder = rnn(embedding_dim + fed, hidden_size, num_layers, batch_first=True, dtype=dtype)
        self.attention: AdditiveAttention | LuongAttention
        if attention == "additive":
            self.attention = AdditiveAttention(hidden_size, hidden_size, hidden_size, dtype=dtype)
        elif attention is not None:
            self.attention = LuongAttention(hidden_size, hidden_size, attention, dtype=dtype)
        if attention is not None:
            self.combine = Linear(2 * hidden_size, hidden_size, dtype=dtype)
        self.out = Linear(hidden_size, tgt_vocab_size, dtype=dtype)

    def encode(self, src):
        """The context: the encoder's final state (h_n, or (h_n, c_n) for an LSTM)."""
        return self._encode(src)[1]

    def _encode(self, src):
        if not isinstance(src, Tensor) or src.ndim != 2:
            got = tuple(src.shape) if isinstance(src, Tensor) else type(src).__name__
            raise ValueError(f"Seq2Seq expects src of shape (batch, seq) of token ids, got {got}")
        return self.encoder(self.src_embedding(src))  # the outputs h_1 .. h_S (the memory) and the state

    def _read(self, output, context):
        """logits_t = W tanh(W_c [o_t; c_t]) + b."""
        return self.out(tanh(self.combine(cat([output, context], -1))))

    def _keys(self, memory):
        """The additive attention's W_k h_j + b, once per source (None for the other kinds)."""
        return self.attention.key_proj(memory) if self.attention_kind == "additive" else None

    def _step(self, tokens, state, memory, keys=None):
        """One decoder step: tokens (N,) -> logits (N, V), new state, attention weights (N, S) or None."""
        x = self.tgt_embedding(tokens.reshape(-1, 1))
        if self.attention_kind is None:
            output, state = self.decoder(x, state)
            return self.out(output[:, 0]), state, None
        if self.attention_kind == "additive":  # the query is the previous state; c_t goes into the RNN too
            h = state[0] if isinstance(state, tuple) else state
            context, weights = self.attention(h[-1], memory, projected_keys=keys)
            output, state = self.decoder(cat([x, context.unsqueeze(1)], -1), state)
            return self._read(output[:, 0], context), state, weights
        output, state = self.decoder(x, state)  # Luong: the query is the new output
        context, weights = self.attention(output[:, 0], memory)
        return self._read(output[:, 0], context), state, weights

    def forward(self, src: Tensor, tgt: Tensor, teacher_forcing_ratio: float = 1.0) -> Tensor:
        """Logits for every target position, feeding the true previous token with probability
        ``teacher_forcing_ratio`` (drawn per step from soma's generator), else the prediction."""
        memory, state = self._encode(src)
        batch, steps = tgt.shape
        sos = Tensor._make(np.full((batch, 1), self.sos_index, np.int64, like=tgt._array), False)
        if teacher_forcing_ratio >= 1.0 and self.attention_kind != "additive":
            # every input known: the decoder runs as one fused call (Luong attends to all steps at once)
            inputs = cat([sos, tgt[:, :-1]], 1)
            output, _ = self.decoder(self.tgt_embedding(inputs), state)
            if self.attention_kind is None:
                return self.out(output)
            return self._read(output, self.attention(output, memory)[0])
        from soma.random import generator

        rng = generator()
        token, logits, keys = sos[:, 0], [], self._keys(memory)
        for t in range(steps):
            step_logits, state, _ = self._step(token, state, memory, keys)
            logits.append(step_logits)
            forced = rng.random() < teacher_forcing_ratio
            token = tgt[:, t] if forced else Tensor._make(step_logits._array.argmax(-1), False)
        return stack(logits, 1)

    def greedy_decode(self, src, max_len, return_attention=False):
        """Token ids (N, max_len): at each step the most probable token, fed back in.

        With ``return_attention`` (attention models), also the weights ``(N, max_len, S)``: row t says
        where in the source the decoder looked to write token t.
        """
        if return_attention and self.attention_kind is None:
            raise ValueError("Seq2Seq.greedy_decode: return_attention needs a model built with attention=")
        with no_grad():
            memory, state = self._encode(src)
            token = Tensor._make(np.full(src.shape[0], self.sos_index, np.int64, like=src._array), False)
            tokens, weights, keys = [], [], self._keys(memory)
            for _ in range(max_len):
                logits, state, step_weights = self._step(token, state, memory, keys)
                token = Tensor._make(logits._array.argmax(-1), False)
                tokens.append(token._array)
                if return_attention:
                    weights.append(step_weights._array)
        tokens = Tensor._make(np.stack(tokens, 1), False)
        return (tokens, Tensor._make(np.stack(weights, 1), False)) if return_attention else tokens


class Bidirectional(Module):
    """Run ``layer`` forward and a copy of it (own weights) over the reversed sequence.

        h_t = merge(→h_t, ←h_t),   merge_mode 'concat' (default), 'sum', 'mul' or 'ave'

    ``layer`` is a one-direction recurrent module returning ``(output, state)``; the
    result is ``(merged output, (forward state, backward state))``. For nn.RNN/LSTM/GRU,
    ``bidirectional=True`` does the same in one module with PyTorch's parameter names.

    Shape:
        - Input: what ``layer`` takes, e.g. ``(N, L, H_in)`` with ``batch_first=True``.
        - Output: ``(N, L, 2·H_out)`` with merge_mode 'concat', else ``(N, L, H_out)``; the states of each direction.

    Example::

        >>> bi = nn.Bidirectional(nn.LSTM(8, 16, batch_first=True))
        >>> output, (state_fwd, state_bwd) = bi(soma.randn(4, 10, 8))   # output (4, 10, 32)
    """

    def __init__(self, layer: Module, merge_mode: str = "concat") -> None:
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

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
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
