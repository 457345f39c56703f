"""Transformer layers, stacks and nn.Transformer against PyTorch (copied randomized weights, float64):
norm_first both ways, activation as string and as callable (function or module), batch_first both
ways, masks, key-padding masks, causal masks; RMSNorm; the causal-mask and positional-encoding helpers.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from attention_compare import compare, twin

import soma
import soma.nn.functional as F
from helpers import check_against_torch, random_array
from soma import nn
from soma.autograd import gradcheck

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched", "ignore:enable_nested_tensor")
D, H, FF, N, S, T = 8, 2, 12, 3, 5, 4
ACTIVATIONS = {
    "relu": ("relu", "relu"),
    "gelu": ("gelu", "gelu"),
    "function": (F.silu, TF.silu),
    "module": (nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
}


def _layers(kind, activation="relu", **kw):
    s_act, t_act = ACTIVATIONS[activation]
    common = dict(dim_feedforward=FF, dropout=0.0, dtype=np.float64, **kw)
    s = getattr(nn, kind)(D, H, activation=s_act, **common)
    common["dtype"] = torch.float64
    t = getattr(torch.nn, kind)(D, H, activation=t_act, **common)
    return twin(s, t)


def _seq(length, batch_first, seed):
    return random_array((N, length, D) if batch_first else (length, N, D), seed=seed)


def _padding(length):
    m = np.zeros((N, length), bool)
    m[1, -2:] = True
    return m


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer(norm_first, activation, batch_first):
    s, t = _layers("TransformerEncoderLayer", activation, norm_first=norm_first, batch_first=batch_first)
    mask = random_array((S, S), seed=4)

    def run(m, x, src_mask, kpm):
        return m(x, src_mask=src_mask, src_key_padding_mask=kpm)

    compare(s, t, [_seq(S, batch_first, 0)], run, masks=[mask, _padding(S)])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "function"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer(norm_first, activation, batch_first):
    s, t = _layers("TransformerDecoderLayer", activation, norm_first=norm_first, batch_first=batch_first)
    causal = np.triu(np.ones((T, T), bool), 1)

    def run(m, tgt, memory, tgt_mask, tgt_kpm, mem_mask, mem_kpm):
        return m(tgt, memory, tgt_mask=tgt_mask, memory_mask=mem_mask, tgt_key_padding_mask=tgt_kpm,
                 memory_key_padding_mask=mem_kpm, tgt_is_causal=True)

    masks = [causal, _padding(T), random_array((T, S), seed=5), _padding(S)]
    compare(s, t, [_seq(T, batch_first, 0), _seq(S, batch_first, 1)], run, masks=masks)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_with_norm_and_detected_causal_mask(norm_first):
    def make(lib, dtype):
        layer = lib.TransformerEncoderLayer(D, H, FF, 0.0, norm_first=norm_first, dtype=dtype)
        return lib.TransformerEncoder(layer, 2, norm=lib.LayerNorm(D, dtype=dtype), enable_nested_tensor=False)

    s, t = twin(make(nn, np.float64), make(torch.nn, torch.float64))
    assert s.layers[0].linear1.weight is not s.layers[1].linear1.weight
    mask = nn.Transformer.generate_square_subsequent_mask(S, dtype=soma.float64).numpy()
    compare(s, t, [_seq(S, False, 0)], lambda m, x, mask: m(x, mask=mask), masks=[mask])


def test_decoder_stack():
    def make(lib, dtype):
        return lib.TransformerDecoder(lib.TransformerDecoderLayer(D, H, FF, 0.0, dtype=dtype), 2)

    s, t = twin(make(nn, np.float64), make(torch.nn, torch.float64))
    compare(s, t, [_seq(T, False, 0), _seq(S, False, 1)])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(batch_first, norm_first):
    kw = dict(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=FF, dropout=0.0,
              batch_first=batch_first, norm_first=norm_first)
    s, t = twin(nn.Transformer(dtype=np.float64, **kw), torch.nn.Transformer(dtype=torch.float64, **kw))
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=soma.float64).numpy()

    def run(m, src, tgt, tgt_mask, src_kpm):
        return m(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=src_kpm, memory_key_padding_mask=src_kpm)

    compare(s, t, [_seq(S, batch_first, 0), _seq(T, batch_first, 1)], run, masks=[tgt_mask, _padding(S)])


def test_transformer_init_is_xavier_and_names_match():
    s, t = nn.Transformer(D, H, 1, 1, FF), torch.nn.Transformer(D, H, 1, 1, FF)
    assert list(s.state_dict()) == list(t.state_dict())
    w = s.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (D + FF)) and np.abs(w).max() > 0.5 * np.sqrt(6 / (D + FF))


def test_unbatched_encoder_layer():
    s, t = _layers("TransformerEncoderLayer", norm_first=True)
    compare(s, t, [random_array((S, D))])


def test_dropout_is_off_in_eval_and_on_in_training():
    layer = nn.TransformerEncoderLayer(D, H, FF, dropout=0.5, dtype=np.float64).requires_grad_(False)
    x = soma.tensor(_seq(S, False, 0))
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())
    layer.train()
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())


def test_generate_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(m.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert m.dtype == soma.float32
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=soma.float64, device="cpu").dtype == soma.float64
    with pytest.raises(RuntimeError, match="generate_square_subsequent_mask"):
        nn.Transformer.generate_square_subsequent_mask(3, device="cuda")


def test_sinusoidal_positional_encoding_formula():
    pe = nn.sinusoidal_positional_encoding(7, 6, dtype=soma.float64).numpy()
    for pos in range(7):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert pe[pos, 2 * i] == pytest.approx(np.sin(angle), abs=1e-14)
            assert pe[pos, 2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-14)
    odd = nn.sinusoidal_positional_encoding(3, 5).numpy()
    assert odd.shape == (3, 5)
    x = soma.zeros(2, 7, 6, dtype=soma.float64)
    np.testing.assert_array_equal(nn.PositionalEncoding(6, 10, batch_first=True, dtype=soma.float64)(x).numpy()[1], pe)


@pytest.mark.parametrize("shape", [4, (3, 4)])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rms_norm_matches_torch(shape, eps, dtype):
    s = nn.RMSNorm(shape, eps=eps, dtype=dtype)
    t = torch.nn.RMSNorm(shape, eps=eps, dtype=getattr(torch, np.dtype(dtype).name))
    twin(s, t)
    compare(s, t, [random_array((2, 3, 4), dtype)])
    x = random_array((2, 3, 4), dtype)
    x[0] = 0  # all-zero samples: ε keeps them finite
    shape = (shape,) if isinstance(shape, int) else shape
    check_against_torch(lambda a: F.rms_norm(a, shape, eps=eps), lambda a: TF.rms_norm(a, shape, eps=eps), [x])


def test_rms_norm_gradcheck_and_errors():
    x = soma.tensor(random_array((3, 5)), requires_grad=True)
    w = soma.tensor(random_array((5,), seed=1), requires_grad=True)
    assert gradcheck(lambda x, w: F.rms_norm(x, (5,), w, 1e-6), (x, w))
    with pytest.raises(RuntimeError, match=r"RMSNorm\(normalized_shape=\(4,\)\).*\(3, 5\)"):
        nn.RMSNorm(4)(x)
    with pytest.raises(RuntimeError, match="weight"):
        F.rms_norm(x, (5,), soma.ones(4))


@pytest.mark.parametrize("call,match", [
    (lambda: nn.TransformerEncoderLayer(D, H, activation="tanh"), "relu/gelu"),
    (lambda: nn.TransformerEncoderLayer(D, H)(soma.randn(S, N, D + 1)), r"d_model=8.*\(5, 3, 9\)"),
    (lambda: nn.Transformer(D, H, 1, 1, FF)(soma.randn(S, N, D), soma.randn(T, N + 1, D)), "batch number"),
    (lambda: nn.Transformer(D, H, 1, 1, FF)(soma.randn(S, N, D), soma.randn(T, N, D + 2)), "feature number"),
])
def test_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H), 0)
