"""The Transformer ("Attention Is All You Need"): encoder and decoder stacks of attention and feed-forward blocks.

An encoder layer maps a sequence x (L × d_model) to another of the same shape ::

    post-norm (norm_first=False, the original):   x = LN₁(x + SA(x));     x = LN₂(x + FF(x))
    pre-norm  (norm_first=True):                   x = x + SA(LN₁(x));     x = x + FF(LN₂(x))

with SA the multi-head self-attention (``nn.MultiheadAttention``) and FF(x) = W₂·act(W₁x + b₁) + b₂
applied at every position (``dim_feedforward`` hidden units). A decoder layer adds a
cross-attention block CA(x, m) between the two, whose keys and values are the encoder's
output m ("memory"); its self-attention is usually causal (``tgt_mask`` from
:meth:`Transformer.generate_square_subsequent_mask`), so position i sees only 0..i.

Attention alone ignores order; :func:`sinusoidal_positional_encoding` gives each
position a vector to add to the inputs.
"""

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from soma._device import place, resolve
from soma._errors import ShapeAssertion
from soma.nn.attention import MultiheadAttention
from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.container import ModuleList
from soma.nn.dropout import Dropout
from soma.nn.functional.activation import gelu, relu
from soma.nn.init import xavier_uniform_
from soma.nn.linear import Linear
from soma.nn.module import Module
from soma.nn.normalization import LayerNorm
from soma.tensor import Tensor

__all__ = [
    "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder",
    "Transformer", "generate_square_subsequent_mask", "sinusoidal_positional_encoding", "PositionalEncoding",
]


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """The causal mask (sz × sz): 0 on and below the diagonal, −∞ above (position i may attend to j ≤ i)."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    return Tensor._make(place(np.triu(np.full((sz, sz), -np.inf, dtype), k=1), device,
                              "generate_square_subsequent_mask"), False)


def _is_causal_mask(mask, is_causal, size):
    """PyTorch's detection: an explicit hint wins; otherwise, is ``mask`` exactly the causal mask of ``size``?"""
    if is_causal is not None:
        return bool(is_causal)
    if mask is None or tuple(mask.shape) != (size, size):
        return False
    array = mask._array
    causal = np.triu(np.ones((size, size), bool, like=array), k=1)
    if array.dtype == bool:
        return bool(np.array_equal(array, causal))
    return bool(np.array_equal(np.isneginf(array), causal) and not array[~causal].any())


def _activation(activation, owner):
    if isinstance(activation, str):
        if activation not in ("relu", "gelu"):
            raise RuntimeError(f"{owner}: activation should be relu/gelu, not {activation}")
        return relu if activation == "relu" else gelu
    if not callable(activation):
        raise TypeError(f"{owner}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


def _seq_len(x, batch_first):
    return x.shape[1] if batch_first and x.ndim == 3 else x.shape[0]


class _TransformerLayer(Module):
    """The feed-forward block and the norms and dropouts every encoder and decoder layer has."""

    def _feed_forward_parts(self, d_model, dim_feedforward, dropout, activation, layer_norm_eps, bias, dtype,
                            norms):
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        for i in range(1, norms + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for i in range(1, norms + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation, type(self).__name__)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x, dropout):
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _check_input(self, x, name):
        d_model = self.linear1.in_features
        if x.ndim not in (2, 3) or x.shape[-1] != d_model:
            raise ShapeAssertion(f"{type(self).__name__}(d_model={d_model}): expected {name} of shape "
                               f"(L, N, {d_model}), (N, L, {d_model}) or (L, {d_model}), got {tuple(x.shape)}")


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention then a position-wise feed-forward network, each with a residual connection and LayerNorm.

    Args:
        d_model: size of every position's vector.
        nhead: attention heads.
        dim_feedforward: hidden units of the feed-forward block (default 2048).
        dropout: dropout on attention weights and after each block (default 0.1).
        activation: "relu", "gelu" or a callable (a function or a module) (default relu).
        layer_norm_eps, batch_first, norm_first, bias: as PyTorch (see the module docstring for norm_first).

    Shape:
        src ``(L, N, d_model)`` (``(N, L, d_model)`` if batch_first, or unbatched ``(L, d_model)``);
        src_mask ``(L, L)`` or ``(N·nhead, L, L)``; src_key_padding_mask ``(N, L)``; output as src.

    Example::

        >>> layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True)
        >>> layer(soma.randn(2, 10, 32)).shape
        (2, 10, 32)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = relu, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        resolve(device, type(self).__name__)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.norm_first = norm_first
        self._feed_forward_parts(d_model, dim_feedforward, dropout, activation, layer_norm_eps, bias, dtype, 2)

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        self._check_input(src, "src")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, cross-attention over the encoder's output (memory), then a feed-forward network.

    Args: as :class:`TransformerEncoderLayer`.

    Shape:
        tgt ``(T, N, d_model)``, memory ``(S, N, d_model)`` (batch first if batch_first); tgt_mask ``(T, T)``,
        memory_mask ``(T, S)``, tgt_key_padding_mask ``(N, T)``, memory_key_padding_mask ``(N, S)``;
        output as tgt.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = relu, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        resolve(device, type(self).__name__)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self.norm_first = norm_first
        self._feed_forward_parts(d_model, dim_feedforward, dropout, activation, layer_norm_eps, bias, dtype, 3)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        self._check_input(tgt, "tgt")
        self._check_input(memory, "memory")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x, self.dropout3))


def _clones(layer, num_layers, owner):
    if not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"{owner}: num_layers must be a positive int, got {num_layers!r}")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (independent weights), then an optional final norm.

    ``enable_nested_tensor`` and ``mask_check`` are accepted for compatibility (soma has no nested tensors).

    Shape: as :class:`TransformerEncoderLayer`.
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer``, then an optional final norm.

    Shape: as :class:`TransformerDecoderLayer`.
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        batch_first = self.layers[0].self_attn.batch_first
        tgt_is_causal = _is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """Encoder-decoder Transformer: ``num_encoder_layers`` encoder layers and ``num_decoder_layers`` decoder layers,
    each stack followed by a LayerNorm; every weight matrix Xavier-uniform initialized (as PyTorch).

    Shape:
        src ``(S, N, d_model)``, tgt ``(T, N, d_model)`` (batch first if batch_first); src_mask ``(S, S)``,
        tgt_mask ``(T, T)``, memory_mask ``(T, S)``, *_key_padding_mask ``(N, S)``/``(N, T)``;
        output ``(T, N, d_model)``.

    Example::

        >>> model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
        ...                        dim_feedforward=64, batch_first=True)
        >>> tgt_mask = nn.Transformer.generate_square_subsequent_mask(7)
        >>> model(soma.randn(2, 9, 32), soma.randn(2, 7, 32), tgt_mask=tgt_mask).shape
        (2, 7, 32)
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = relu,
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        resolve(device, type(self).__name__)
        common: dict[str, Any] = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                      layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias,
                      dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(TransformerEncoderLayer(d_model, nhead, **common), num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(TransformerDecoderLayer(d_model, nhead, **common), num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for p in self.parameters():
            if p.ndim > 1:
                xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        batch = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch] != tgt.shape[batch]:
            raise RuntimeError(f"Transformer: the batch number of src and tgt must be equal, got src "
                               f"{tuple(src.shape)} and tgt {tuple(tgt.shape)} (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src and tgt must be equal to d_model "
                               f"({self.d_model}), got src {tuple(src.shape)} and tgt {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)


def sinusoidal_positional_encoding(length, d_model, base=10000.0, dtype=None):
    """The Transformer's fixed position vectors, ``(length, d_model)``:

        PE[pos, 2i]   = sin(pos / base^(2i/d_model))
        PE[pos, 2i+1] = cos(pos / base^(2i/d_model))

    Each pair of dimensions is a sinusoid of its own wavelength (2π .. 2π·base), so every position
    gets a distinct vector and PE[pos + k] is a fixed linear function (a rotation) of PE[pos].
    """
    if d_model <= 0 or length < 0:
        raise ValueError(f"sinusoidal_positional_encoding: need length >= 0 and d_model > 0, got {length}, {d_model}")
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    pos = np.arange(length, dtype=np.float64)[:, None]
    freq = np.exp(-math.log(base) * np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq[: d_model // 2])
    return Tensor(pe.astype(dtype))


class PositionalEncoding(Module):
    """x + PE[:L] (then dropout): adds :func:`sinusoidal_positional_encoding` to a sequence of vectors.

    Shape:
        input ``(L, N, d_model)``, or ``(N, L, d_model)`` with batch_first; output the same.
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = False,
                 base: float = 10000.0, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model, base, dtype), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        length = _seq_len(x, self.batch_first)
        if x.shape[-1] != self.d_model or length > self.max_len:
            raise RuntimeError(f"PositionalEncoding(d_model={self.d_model}, max_len={self.max_len}) got input of "
                               f"shape {tuple(x.shape)}")
        pe = self.pe[:length].to(x.dtype)
        if x.ndim == 3:
            pe = pe.unsqueeze(0 if self.batch_first else 1)
        return self.dropout(x + pe)

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}"
