"""Scaled dot-product attention: every query position takes a weighted average of the values.

For queries Q (L × E), keys K (S × E) and values V (S × Eᵥ), one head of attention is ::

    scores  Sᵢⱼ = s · qᵢ·kⱼ + Mᵢⱼ            (s = 1/√E unless ``scale`` is given; M the mask)
    weights Pᵢⱼ = e^(Sᵢⱼ) / Σₘ e^(Sᵢₘ)       (a softmax along each row: Σⱼ Pᵢⱼ = 1)
    output  Oᵢ  = Σⱼ Pᵢⱼ vⱼ                  (O = P·V)

A mask either adds a float to every score (−∞ forbids a key) or, as a bool mask, says
which keys a query may see (True = may attend, PyTorch's convention); ``is_causal``
forbids every key after the query's own position (j > i). Leading (batch, head)
dimensions broadcast as in ``matmul``.

The weights are one fused node, :class:`AttentionWeights`, holding only Q, K and P
for its backward. With dL/dP = G, the softmax's Jacobian gives ::

    dL/dSᵢⱼ = Pᵢⱼ (Gᵢⱼ − Σₘ Gᵢₘ Pᵢₘ)
    dL/dQ = s · dS·K        dL/dK = s · dSᵀ·Q        dL/dM = dS (summed over broadcast dimensions)

and O = P·V is soma's ``matmul`` (dL/dP = dO·Vᵀ, dL/dV = Pᵀ·dO), with ``F.dropout`` on P in
between when ``dropout_p > 0`` (drawn from soma's generator, so ``soma.manual_seed`` repeats it).

A row whose every key is masked has no softmax (0/0). ``scaled_dot_product_attention``
gives such rows zero weights, hence a zero output and zero gradients, as PyTorch's does;
``nn.MultiheadAttention`` with ``need_weights=True`` gives NaN there, as PyTorch's does.
"""

import math

import numpy as np

from soma.autograd.function import Function
from soma.nn.functional.dropouts import dropout
from soma.ops.arithmetic import unbroadcast
from soma.ops.linalg import matmul
from soma.tensor import Tensor

__all__ = ["AttentionWeights", "attention_weights", "scaled_dot_product_attention"]


def _causal_forbidden(L, S, like):
    """True above the diagonal (j > i): the keys a causal query i may not see (top-left aligned, as PyTorch)."""
    return np.triu(np.ones((L, S), dtype=bool, like=like), k=1)


class AttentionWeights(Function):
    """P = softmax(s·Q·Kᵀ + M) along the last dimension; rows with no visible key give 0 (safe) or NaN"""

    @staticmethod
    def forward(ctx, q, k, mask, scale, causal, safe):
        scores = np.matmul(q, np.swapaxes(k, -1, -2))
        scores *= scale
        if mask is not None:
            scores = scores + mask
        if causal:
            scores = np.where(_causal_forbidden(*scores.shape[-2:], like=scores), -np.inf, scores)
        top = scores.max(axis=-1, keepdims=True, initial=-np.inf)  # no keys at all: a dead row too
        dead = np.isneginf(top)  # every key masked: the row has no softmax
        if safe:
            top = np.where(dead, 0, top)
        with np.errstate(invalid="ignore"):
            e = np.exp(scores - top)
            p = e / e.sum(axis=-1, keepdims=True)
        if safe and dead.any():
            p = np.where(dead, 0, p)
        ctx.save_for_backward(q, k, p)
        ctx.scale, ctx.mask_shape = scale, None if mask is None else mask.shape
        return p

    @staticmethod
    def backward(ctx, grad):
        # dS = P ⊙ (G − Σ G⊙P);  dQ = s·dS·K;  dK = s·dSᵀ·Q;  dM = dS
        q, k, p = ctx.saved_tensors
        scale = ctx.scale
        need_q, need_k, need_m = ctx.needs_input_grad[:3]
        ds = p * (grad - (grad * p).sum(axis=-1, keepdims=True))
        grad_q = grad_k = grad_m = None
        if need_q:
            grad_q = unbroadcast(np.matmul(ds, k) * scale, q.shape)
        if need_k:
            grad_k = unbroadcast(np.matmul(np.swapaxes(ds, -1, -2), q) * scale, k.shape)
        if need_m:
            grad_m = unbroadcast(ds, ctx.mask_shape)
        return grad_q, grad_k, grad_m, None, None, None


def _check_qkv(query, key, value, name):
    for label, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {label} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"{name}: {label} needs at least 2 dimensions (..., length, features), "
                               f"got shape {tuple(t.shape)}")
    if not (query.dtype == key.dtype == value.dtype) or query.dtype.kind != "f":
        raise RuntimeError(
            f"{name}: expected query, key and value to have the same floating dtype, got "
            f"query.dtype: {query.dtype}, key.dtype: {key.dtype} and value.dtype: {value.dtype}"
        )
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"{name}: query {tuple(query.shape)}, key {tuple(key.shape)} and value {tuple(value.shape)} do not fit: "
            "expected query (..., L, E), key (..., S, E) and value (..., S, Ev)"
        )


def float_mask(attn_mask, dtype, name):
    """A mask as the scores' additive term: a float tensor as is (cast to ``dtype``), a bool one as 0 / −∞."""
    if attn_mask is None:
        return None
    kind = attn_mask.dtype.kind
    if kind == "b":
        return np.where(attn_mask._array, dtype.type(0), dtype.type(-np.inf))
    if kind != "f":
        raise RuntimeError(
            f"{name}: expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {attn_mask.dtype} and query.dtype: {dtype} instead"
        )
    return attn_mask if attn_mask.dtype == dtype else attn_mask.to(dtype)


def attention_weights(query, key, attn_mask=None, scale=None, is_causal=False, safe=True,
                      name="attention_weights"):
    """P = softmax(s·Q·Kᵀ + M): the attention weights alone, shape (..., L, S).

    ``attn_mask`` is bool (True = may attend) or float (added to the scores); ``safe``
    gives rows with no visible key zero weights instead of NaN.
    """
    mask = float_mask(attn_mask, query.dtype, name)
    L, S = query.shape[-2], key.shape[-2]
    try:
        np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
    except ValueError:
        raise RuntimeError(
            f"{name}: batch dimensions of query {tuple(query.shape)} and key {tuple(key.shape)} cannot be broadcast"
        ) from None
    if mask is not None:
        try:
            np.broadcast_shapes(tuple(mask.shape), tuple(query.shape[:-2]) + (L, S))
        except ValueError:
            raise RuntimeError(
                f"{name}: attn_mask of shape {tuple(mask.shape)} cannot be broadcast to the scores' shape "
                f"{tuple(query.shape[:-2]) + (L, S)} (query {tuple(query.shape)}, key {tuple(key.shape)})"
            ) from None
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return AttentionWeights.apply(query, key, mask, scale, bool(is_causal), bool(safe))


def _repeat_heads(t, times):
    """(..., Hk, S, E) -> (..., Hk·times, S, E), each head repeated ``times`` times in a row (grouped-query)."""
    lead, (heads, S, E) = tuple(t.shape[:-3]), tuple(t.shape[-3:])
    return t.unsqueeze(-3).expand(*lead, heads, times, S, E).reshape(*lead, heads * times, S, E)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """F.scaled_dot_product_attention: softmax(Q·Kᵀ/√E + M)·V.

    Args:
        query: ``(..., L, E)``; key: ``(..., S, E)``; value: ``(..., S, Ev)``.
        attn_mask: bool (True = may attend) or float (added to the scores), broadcastable to ``(..., L, S)``.
        dropout_p: probability of dropping an attention weight (always applied, as in PyTorch's function).
        is_causal: query i sees keys j ≤ i only (an error together with ``attn_mask``, as in PyTorch).
        scale: the factor s of the scores; 1/√E by default.
        enable_gqa: grouped-query attention: key/value heads (dim −3) are repeated to match the query's.

    Returns:
        ``(..., L, Ev)``.

    Example::

        >>> q = k = v = soma.randn(2, 4, 10, 16)      # (batch, heads, length, features)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 10, 16)
    """
    name = "scaled_dot_product_attention"
    _check_qkv(query, key, value, name)
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"{name}: dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hk != hv or hq % hk:
            raise RuntimeError(
                f"{name}: with enable_gqa the query's heads ({hq}) must be a multiple of the key's ({hk}) "
                f"and the key's must equal the value's ({hv})"
            )
        key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hk)
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{name}: explicit attn_mask should not be set when is_causal=True")
    weights = attention_weights(query, key, attn_mask, scale, is_causal, safe=True, name=name)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    try:
        return matmul(weights, value)
    except RuntimeError:
        raise RuntimeError(
            f"{name}: batch dimensions of query {tuple(query.shape)}, key {tuple(key.shape)} and value "
            f"{tuple(value.shape)} cannot be broadcast"
        ) from None
