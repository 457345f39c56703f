"""ONNX nodes for the sequence layers: Transformer encoders (attention written out) and RNN/LSTM/GRU.

    layer                           ONNX
    TransformerEncoderLayer         self-attention as MatMul/Slice/Reshape/Transpose/Softmax nodes:
                                    Q, K, V = x·W_inᵀ + b sliced in three; per head softmax(QKᵀ/√d)·V;
                                    heads merged, out_proj; residuals, LayerNormalization (norm_first
                                    either way), the feed-forward MatMuls and its activation
    TransformerEncoder              its layers in turn, then its norm
    RNN / LSTM / GRU                ONNX's own RNN / LSTM / GRU per layer (both directions in one node),
                                    gates reordered: LSTM i,f,g,o → ONNX i,o,f,c; GRU r,z,n → ONNX z,r,h
                                    (with linear_before_reset=1, PyTorch's GRU); output Y (T, dirs, N, H)
                                    transposed and reshaped to (T, N, dirs·H)

A recurrent layer's forward returns ``(output, state)``; the exported graph returns the output
sequence. Masks are forward arguments, not part of a chain, so an encoder exports unmasked.
"""

import math

import numpy as np

from soma import nn
from soma.nn.functional.activation import gelu as _gelu_function
from soma.nn.functional.activation import relu as _relu_function
from soma.onnx.activations import ACTIVATIONS

__all__ = ["SEQUENCE_CONVERTERS"]

_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}
_ONNX_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _unsupported(module, why):
    return NotImplementedError(f"soma.onnx.export: {type(module).__name__} {why}")


def _batched(module, shape):
    if len(shape) != 3:
        raise _unsupported(module, f"got input of shape {shape}: only batched 3-D inputs export")


def _reorder(array, order, hidden):
    """Rows of PyTorch's gate blocks (G·H, ...) in ONNX's gate order."""
    return np.concatenate([array[g * hidden:(g + 1) * hidden] for g in order])


def recurrent(graph, module, prefix, x, shape):
    _batched(module, shape)
    graph.check_opset(14, f"{type(module).__name__} (recurrent ops with layout)")
    mode, hidden = module.mode, module.hidden_size
    order, directions = _GATE_ORDER[mode], 2 if module.bidirectional else 1
    scope = prefix or type(module).__name__.lower()
    if module.batch_first:  # ONNX's layout=0 is (T, N, I): PyTorch's default
        x = graph.op("Transpose", [x], scope, perm=[1, 0, 2])
    for layer in range(module.num_layers):
        suffixes = [f"_l{layer}", f"_l{layer}_reverse"][:directions]

        def stacked(name, suffixes=suffixes):
            return np.stack([_reorder(getattr(module, f"{name}{s}")._array, order, hidden) for s in suffixes])

        w, r = stacked("weight_ih"), stacked("weight_hh")
        if module.bias:
            b = np.concatenate([stacked("bias_ih"), stacked("bias_hh")], axis=1)
        else:
            b = np.zeros((directions, 2 * len(order) * hidden), w.dtype)
        where = f"{scope}/l{layer}"
        inputs = [x, graph.constant(where, "W", w), graph.constant(where, "R", r), graph.constant(where, "B", b)]
        attributes = dict(hidden_size=hidden, direction="bidirectional" if directions == 2 else "forward")
        if mode == "GRU":
            attributes["linear_before_reset"] = 1
        if mode.startswith("RNN"):
            attributes["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * directions
        y = graph.op(_ONNX_OP[mode], inputs, where, **attributes)  # Y: (T, dirs, N, H)
        y = graph.op("Transpose", [y], where, perm=[0, 2, 1, 3])
        x = graph.op("Reshape", [y, graph.constant(where, "merge_directions", [0, 0, -1], np.int64)], where)
    if module.batch_first:
        x = graph.op("Transpose", [x], scope, perm=[1, 0, 2])
    return x


def _linear(graph, linear, prefix, x):
    """x·Wᵀ + b for a 3-D x (MatMul with the transposed weight)."""
    y = graph.op("MatMul", [x, graph.op("Transpose", [graph.weight(prefix, "weight", linear.weight)], prefix)],
                 prefix)
    return graph.op("Add", [y, graph.weight(prefix, "bias", linear.bias)], prefix) if linear.bias is not None else y


def _self_attention(graph, mha, prefix, x):
    """softmax(Q·Kᵀ/√d)·V for every head of x (N, L, E), then out_proj; returns (N, L, E)."""
    E, H, d = mha.embed_dim, mha.num_heads, mha.head_dim
    if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
        raise _unsupported(mha, "with kdim/vdim, add_bias_kv or add_zero_attn does not export")
    w = graph.op("Transpose", [graph.weight(prefix, "in_proj_weight", mha.in_proj_weight)], prefix)
    qkv = graph.op("MatMul", [x, w], prefix)
    if mha.in_proj_bias is not None:
        qkv = graph.op("Add", [qkv, graph.weight(prefix, "in_proj_bias", mha.in_proj_bias)], prefix)
    split = graph.constant(prefix, "heads_shape", [0, 0, H, d], np.int64)
    heads = []
    for i, label in enumerate("qkv"):
        part = graph.op("Slice", [qkv, graph.constant(prefix, f"{label}_start", [i * E], np.int64),
                                  graph.constant(prefix, f"{label}_end", [(i + 1) * E], np.int64),
                                  graph.constant(prefix, "last_axis", [-1], np.int64)], prefix)
        part = graph.op("Reshape", [part, split], prefix)  # (N, L, H, d)
        heads.append(graph.op("Transpose", [part], prefix, perm=[0, 2, 3, 1] if label == "k" else [0, 2, 1, 3]))
    q, k_t, v = heads  # (N, H, L, d), (N, H, d, L), (N, H, L, d)
    scores = graph.op("Mul", [graph.op("MatMul", [q, k_t], prefix),
                              graph.constant(prefix, "scale", 1 / math.sqrt(d))], prefix)
    weights = graph.op("Softmax", [scores], prefix, axis=-1)
    out = graph.op("Transpose", [graph.op("MatMul", [weights, v], prefix)], prefix, perm=[0, 2, 1, 3])
    out = graph.op("Reshape", [out, graph.constant(prefix, "merge_heads", [0, 0, E], np.int64)], prefix)
    return _linear(graph, mha.out_proj, f"{prefix}.out_proj", out)


def _activation(graph, layer, prefix, x, shape):
    act = layer.activation
    if act is _relu_function:
        act = nn.ReLU()
    elif act is _gelu_function:
        act = nn.GELU()
    if type(act) not in ACTIVATIONS:
        raise _unsupported(layer, f"with activation {act!r} does not export (use 'relu', 'gelu' or an activation "
                                  "module)")
    return ACTIVATIONS[type(act)](graph, act, f"{prefix}.activation", x, shape)


def _layer_norm(graph, norm, prefix, x):
    from soma.onnx.converters import CONVERTERS

    return CONVERTERS[nn.LayerNorm](graph, norm, prefix, x, None)


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _encoder_layer(graph, layer, prefix, x, shape):
    """One encoder layer on x (N, L, E) (already batch first)."""
    def attend(h):
        return _self_attention(graph, layer.self_attn, _join(prefix, "self_attn"), h)

    def feed_forward(h):
        inner = _linear(graph, layer.linear1, _join(prefix, "linear1"), h)
        inner = _activation(graph, layer, prefix, inner, (*shape[:-1], layer.linear1.out_features))
        return _linear(graph, layer.linear2, _join(prefix, "linear2"), inner)

    def norm(i, h):
        return _layer_norm(graph, getattr(layer, f"norm{i}"), _join(prefix, f"norm{i}"), h)

    scope = prefix or "layer"
    if layer.norm_first:
        x = graph.op("Add", [x, attend(norm(1, x))], scope)
        return graph.op("Add", [x, feed_forward(norm(2, x))], scope)
    x = norm(1, graph.op("Add", [x, attend(x)], scope))
    return norm(2, graph.op("Add", [x, feed_forward(x)], scope))


def _batch_first(graph, module, batch_first, prefix, x, shape, body):
    """Run ``body(x, shape)`` on a batch-first view of x, transposing in and out when the layer is not."""
    _batched(module, shape)
    graph.check_opset(17, f"{type(module).__name__} (LayerNormalization)")
    if batch_first:
        return body(x, shape)
    scope = prefix or type(module).__name__.lower()
    y = body(graph.op("Transpose", [x], scope, perm=[1, 0, 2]), (shape[1], shape[0], shape[2]))
    return graph.op("Transpose", [y], scope, perm=[1, 0, 2])


def encoder_layer(graph, module, prefix, x, shape):
    return _batch_first(graph, module, module.self_attn.batch_first, prefix, x, shape,
                        lambda h, s: _encoder_layer(graph, module, prefix, h, s))


def encoder(graph, module, prefix, x, shape):
    def body(h, s):
        for i, layer in enumerate(module.layers):
            h = _encoder_layer(graph, layer, _join(prefix, f"layers.{i}"), h, s)
        return h if module.norm is None else _layer_norm(graph, module.norm, _join(prefix, "norm"), h)

    return _batch_first(graph, module, module.layers[0].self_attn.batch_first, prefix, x, shape, body)


SEQUENCE_CONVERTERS = {
    **dict.fromkeys((nn.RNN, nn.LSTM, nn.GRU), recurrent),
    nn.TransformerEncoderLayer: encoder_layer,
    nn.TransformerEncoder: encoder,
}
