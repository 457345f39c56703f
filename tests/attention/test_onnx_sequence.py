"""ONNX export of Transformer encoders and RNN/LSTM/GRU, run in onnxruntime against soma's numbers."""

import numpy as np
import pytest

import soma
import soma.nn.functional as F
import soma.onnx
from soma import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _roundtrip(model, shape, tmp_path, dtype=np.float32, other=None):
    """Export on one input, then compare onnxruntime and soma on a new one (``other`` changes dim 0)."""
    model = model.to(dtype)
    path = tmp_path / "model.onnx"
    soma.onnx.export(model, soma.tensor(np.random.default_rng(0).standard_normal(shape).astype(dtype)), path)
    shape2 = (other or shape[0], *shape[1:])
    x = soma.tensor(np.random.default_rng(1).standard_normal(shape2).astype(dtype))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert soma.onnx.verify(model, x, path) < tol
    return onnx.load(path)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("config", [
    dict(num_layers=1),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=2, batch_first=True, bias=False),
])
def test_recurrent_round_trip(kind, config, tmp_path):
    model = getattr(nn, kind)(4, 6, **config)
    shape = (3, 5, 4) if config.get("batch_first") else (5, 3, 4)
    proto = _roundtrip(model, shape, tmp_path, other=2)
    ops = {node.op_type for node in proto.graph.node}
    assert kind in ops  # ONNX's own recurrent op, not an unrolled loop


def test_relu_rnn(tmp_path):  # (onnxruntime's recurrent kernels are float32 only)
    _roundtrip(nn.RNN(3, 5, nonlinearity="relu", num_layers=2, bidirectional=True), (4, 2, 3), tmp_path, other=6)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "module"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_round_trip(norm_first, activation, batch_first, tmp_path):
    act = nn.GELU(approximate="tanh") if activation == "module" else activation
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=act, batch_first=batch_first, norm_first=norm_first)
    _roundtrip(layer, (2, 5, 8) if batch_first else (5, 2, 8), tmp_path, other=3)


def test_encoder_stack_with_norm_float64(tmp_path):
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 4, 16, batch_first=True), 2, norm=nn.LayerNorm(8))
    proto = _roundtrip(encoder, (2, 6, 8), tmp_path, dtype=np.float64, other=4)
    assert "layers.1.self_attn.in_proj_weight" in {i.name for i in proto.graph.initializer}
    assert sum(node.op_type == "Softmax" for node in proto.graph.node) == 2


def test_vit_like_sequential(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), nn.Linear(8, 3))
    _roundtrip(model, (2, 5, 4), tmp_path, other=1)


@pytest.mark.parametrize("model,shape,message", [
    (nn.TransformerEncoderLayer(8, 2, 16, activation=F.silu), (5, 2, 8), "activation"),
    (nn.TransformerEncoderLayer(8, 2, 16), (5, 8), "batched 3-D"),
    (nn.LSTM(4, 6), (5, 4), "batched 3-D"),
])
def test_unsupported_is_named(model, shape, message, tmp_path):
    with pytest.raises(NotImplementedError, match=message):
        soma.onnx.export(model, soma.randn(*shape), tmp_path / "m.onnx")


def test_layer_norm_needs_opset_17(tmp_path):
    with pytest.raises(NotImplementedError, match="opset_version >= 17"):
        soma.onnx.export(nn.TransformerEncoderLayer(8, 2, 16), soma.randn(5, 2, 8), tmp_path / "m.onnx",
                         opset_version=16)
