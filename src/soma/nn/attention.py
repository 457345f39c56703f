"""Multi-head attention: h heads of scaled dot-product attention side by side, then one linear map.

For inputs X_q (queries), X_k (keys) and X_v (values), head i projects them into its
own subspace of size d = embed_dim / num_heads and attends there ::

    Qᵢ = X_q W_qᵢᵀ + b_qᵢ      Kᵢ = X_k W_kᵢᵀ + b_kᵢ      Vᵢ = X_v W_vᵢᵀ + b_vᵢ
    headᵢ = softmax(Qᵢ Kᵢᵀ / √d + M) Vᵢ
    MultiHead(X_q, X_k, X_v) = [head₁; ...; head_h] W_oᵀ + b_o

The per-head weights are rows of one matrix, PyTorch's layout: ``in_proj_weight``
``(3·embed_dim, embed_dim)`` stacks W_q, W_k, W_v (each ``(embed_dim, embed_dim)``, head i
in rows i·d .. (i+1)·d), or ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when the
keys or values have other sizes (``kdim``, ``vdim``); ``out_proj`` is W_o, b_o.
"""

import numpy as np

from soma._device import resolve
from soma.nn import init
from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.functional.affine import linear
from soma.nn.functional.attention import attention_weights
from soma.nn.functional.dropouts import dropout as _dropout
from soma.nn.linear import Linear
from soma.nn.module import Module, empty_parameter
from soma.ops.linalg import matmul
from soma.ops.shape import cat, pad
from soma.tensor import Tensor

__all__ = ["MultiheadAttention"]


def additive_mask(mask, dtype, name):
    """PyTorch's module-level mask convention as an additive float term: bool True = masked (−∞), float as is."""
    if mask is None:
        return None
    kind = mask.dtype.kind
    if kind == "b":
        return Tensor(np.where(mask._array, dtype.type(-np.inf), dtype.type(0)))
    if kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported, got {mask.dtype}")
    return mask if mask.dtype == dtype else mask.to(dtype)


class MultiheadAttention(Module):
    """Multi-head attention: ``num_heads`` scaled dot-product attentions in parallel (see the module docstring).

    Args:
        embed_dim: model size E (of the queries and the output); split into ``num_heads`` heads of E/num_heads.
        num_heads: number of heads h (must divide ``embed_dim``).
        dropout: dropout probability on the attention weights (training only).
        bias: biases in the input and output projections.
        add_bias_kv: learn one extra key and value (``bias_k``, ``bias_v``) appended to every sequence.
        add_zero_attn: append a zero key and value to every sequence.
        kdim, vdim: feature sizes of key and value (default ``embed_dim``).
        batch_first: inputs and outputs are ``(N, L, E)`` instead of ``(L, N, E)``.

    Shape:
        query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)`` (``(N, ·, ·)`` if batch_first;
        unbatched ``(L, E)``); key_padding_mask ``(N, S)`` (True = ignore that key); attn_mask ``(L, S)``
        or ``(N·h, L, S)`` (bool True = may not attend, or float added to the scores). Output
        ``(L, N, E)`` and, with ``need_weights``, weights ``(N, L, S)`` averaged over heads or
        ``(N, h, L, S)``.

    Example::

        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = soma.randn(2, 10, 16)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((2, 10, 16), (2, 10, 10))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        resolve(device, "MultiheadAttention")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                                 f"({num_heads})")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first, self.add_zero_attn = float(dropout), batch_first, add_zero_attn
        self.head_dim = embed_dim // num_heads
        owner = "MultiheadAttention"
        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty_parameter((3 * embed_dim, embed_dim), dtype, owner)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = empty_parameter((embed_dim, embed_dim), dtype, owner)
            self.k_proj_weight = empty_parameter((embed_dim, self.kdim), dtype, owner)
            self.v_proj_weight = empty_parameter((embed_dim, self.vdim), dtype, owner)
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", empty_parameter(3 * embed_dim, dtype, owner) if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty_parameter((1, 1, embed_dim), dtype, owner)
            self.bias_v = empty_parameter((1, 1, embed_dim), dtype, owner)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's initialization: Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def _proj(self, which):
        """(W, b) of the query (0), key (1) or value (2) projection."""
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight[which * E:(which + 1) * E]
        else:
            w = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)[which]
        b = None if self.in_proj_bias is None else self.in_proj_bias[which * E:(which + 1) * E]
        return w, b

    def _project(self, query, key, value, self_attention, shared_kv):
        """Q, K, V in (length, batch, E): one GEMM for self-attention, two when key is value."""
        if self_attention and self._qkv_same_embed_dim:
            return linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        q = linear(query, *self._proj(0))
        if shared_kv and self._qkv_same_embed_dim:
            E = self.embed_dim
            b = None if self.in_proj_bias is None else self.in_proj_bias[E:]
            return (q, *linear(key, self.in_proj_weight[E:], b).chunk(2, dim=-1))
        return q, linear(key, *self._proj(1)), linear(value, *self._proj(2))

    def _check(self, query, key, value, key_padding_mask, attn_mask):
        """PyTorch's shape checks (AssertionError, as PyTorch), with the layer and shapes named."""
        name = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise AssertionError(f"{name}: expected query, key and value all 3-D (batched) or all 2-D (unbatched), "
                                 f"got shapes {tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")
        if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
            raise AssertionError(f"{name}: expected key_padding_mask to be {query.ndim - 1}-D, got shape "
                                 f"{tuple(key_padding_mask.shape)}")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(f"{name}: expected attn_mask to be 2-D or 3-D, got shape {tuple(attn_mask.shape)}")
        dtype = self.out_proj.weight.dtype
        if not query.dtype == key.dtype == value.dtype == dtype:
            raise RuntimeError(f"{name}: expected query, key and value of the layer's dtype {dtype}, got "
                               f"{query.dtype}, {key.dtype} and {value.dtype} (convert them, or the layer with .to)")
        e, k, v = query.shape[-1], key.shape[-1], value.shape[-1]
        if (e, k, v) != (self.embed_dim, self.kdim, self.vdim):
            raise AssertionError(f"{name}: expected feature sizes (embed_dim, kdim, vdim) = "
                                 f"{(self.embed_dim, self.kdim, self.vdim)}, got query {tuple(query.shape)}, "
                                 f"key {tuple(key.shape)} and value {tuple(value.shape)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise AssertionError(f"{name}: key {tuple(key.shape)} and value {tuple(value.shape)} differ in "
                                 "their sequence or batch dimensions")
        if batched and query.shape[1] != key.shape[1]:
            raise AssertionError(f"{name}: query {tuple(query.shape)} and key {tuple(key.shape)} differ in batch size")
        return batched

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        self_attention, shared_kv = query is key and key is value, key is value
        if self.batch_first and query.ndim == 3:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        batched = self._check(query, key, value, key_padding_mask, attn_mask)
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal hint "
                               "(Transformer.generate_square_subsequent_mask makes one)")
        L, N, E = query.shape
        mask, kpm, causal = self._masks(query, key, key_padding_mask, attn_mask, need_weights, is_causal)
        q, k, v = self._project(query, key, value, self_attention, shared_kv)
        k, v, mask, kpm = self._append_keys(k, v, mask, kpm)
        q, k, v, mask = self._split_heads(q, k, v, mask, kpm)
        weights = attention_weights(q, k, mask, None, causal, safe=not need_weights, name="MultiheadAttention")
        if self.training and self.dropout > 0:
            weights = _dropout(weights, self.dropout)
        out = matmul(weights, v).permute(2, 0, 1, 3).reshape(L, N, E)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, (weights if batched else weights.squeeze(0))

    def _masks(self, query, key, key_padding_mask, attn_mask, need_weights, is_causal):
        """The additive attention and key-padding masks, shape-checked, and whether to mask causally instead."""
        (L, N, _), S, H = query.shape, key.shape[0], self.num_heads
        kpm = additive_mask(key_padding_mask, query.dtype, "key_padding_mask")
        causal = is_causal and kpm is None and not need_weights  # PyTorch then ignores attn_mask for the flag
        mask = None if causal else additive_mask(attn_mask, query.dtype, "attn_mask")
        if mask is not None:
            want = (L, S) if mask.ndim == 2 else (N * H, L, S)
            if tuple(mask.shape) != want:
                raise RuntimeError(f"MultiheadAttention: the shape of the {mask.ndim}D attn_mask is "
                                   f"{tuple(mask.shape)}, but should be {want}")
        if kpm is not None and tuple(kpm.shape) != (N, S):
            raise AssertionError(f"MultiheadAttention: expected key_padding_mask of shape {(N, S)}, got "
                                 f"{tuple(kpm.shape)}")
        return mask, kpm, causal

    def _append_keys(self, k, v, mask, kpm):
        """Keys (and values) appended to every sequence: bias_k/bias_v, then a zero one; the masks let them be seen."""
        _, N, E = k.shape
        extra = []
        if self.bias_k is not None:
            extra.append((self.bias_k.expand(1, N, E), self.bias_v.expand(1, N, E)))
        if self.add_zero_attn:
            zero = Tensor._make(np.zeros((1, N, E), k.dtype, like=k._array), False)
            extra.append((zero, zero))
        if not extra:
            return k, v, mask, kpm
        k = cat([k, *(e[0] for e in extra)], dim=0)
        v = cat([v, *(e[1] for e in extra)], dim=0)
        # every appended key is visible: pad the masks with zeros
        mask = None if mask is None else pad(mask, (0, len(extra)))
        kpm = None if kpm is None else pad(kpm, (0, len(extra)))
        return k, v, mask, kpm

    def _split_heads(self, q, k, v, mask, kpm):
        """(length, N, E) -> (N, h, length, d), and one mask (N, h, L, S) or (L, S) with the key padding added."""
        (L, N, _), S, H, d = q.shape, k.shape[0], self.num_heads, self.head_dim
        q = q.reshape(L, N, H, d).permute(1, 2, 0, 3)
        k = k.reshape(S, N, H, d).permute(1, 2, 0, 3)
        v = v.reshape(S, N, H, d).permute(1, 2, 0, 3)
        if mask is not None and mask.ndim == 3:
            mask = mask.reshape(N, H, L, S)
        if kpm is not None:
            kpm = kpm.reshape(N, 1, 1, S)
            mask = kpm if mask is None else mask + kpm
        return q, k, v, mask

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"
