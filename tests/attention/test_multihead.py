"""nn.MultiheadAttention against PyTorch with copied (randomized) weights, float64 and float32.

Values, input gradients and every parameter gradient; self-, cross- and kdim/vdim attention,
batch_first both ways, unbatched inputs, bool and float attn_mask (2-D and 3-D), key_padding_mask,
need_weights / average_attn_weights, add_bias_kv, add_zero_attn, is_causal, fully masked rows.
"""

import numpy as np
import pytest
import torch
from attention_compare import compare, twin

import soma
from helpers import random_array
from soma import nn

E, H, L, S, N = 8, 2, 4, 5, 3


def _pair(dtype=np.float64, **kw):
    tdtype = getattr(torch, np.dtype(dtype).name)
    return twin(nn.MultiheadAttention(E, H, dtype=dtype, **kw), torch.nn.MultiheadAttention(E, H, dtype=tdtype, **kw))


def _qkv(batch_first=False, kdim=E, vdim=E, dtype=np.float64, batched=True):
    def shape(length, dim):
        if not batched:
            return (length, dim)
        return (N, length, dim) if batch_first else (length, N, dim)

    return [random_array(shape(L, E), dtype, 0), random_array(shape(S, kdim), dtype, 1),
            random_array(shape(S, vdim), dtype, 2)]


def _call(**kw):
    """run(module, q, k, v, key_padding_mask=None, attn_mask=None) with the options ``kw``."""
    return lambda m, q, k, v, kpm=None, attn=None: m(q, k, v, key_padding_mask=kpm, attn_mask=attn, **kw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("options", [
    dict(),
    dict(bias=False),
    dict(kdim=3, vdim=6),
    dict(add_bias_kv=True),
    dict(add_zero_attn=True),
    dict(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=6),
])
def test_cross_attention_matches_torch(dtype, batch_first, options):
    s, t = _pair(dtype, batch_first=batch_first, **options)
    arrays = _qkv(batch_first, options.get("kdim", E), options.get("vdim", E), dtype)
    compare(s, t, arrays)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_self_attention_with_masks(batch_first, need_weights, average):
    s, t = _pair(batch_first=batch_first)
    x = random_array((N, L, E) if batch_first else (L, N, E))
    attn = random_array((L, L), seed=4)
    kpm = random_array((N, L), seed=5)
    kpm[0, -2:] = -np.inf

    def run(m, x, attn_mask, key_padding_mask):
        return m(x, x, x, key_padding_mask=key_padding_mask, attn_mask=attn_mask, need_weights=need_weights,
                 average_attn_weights=average)

    compare(s, t, [x], run, masks=[attn, kpm], grad_masks=True)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_3d_attn_mask_and_float_padding_mask(kind):
    s, t = _pair(add_bias_kv=True)
    rng = np.random.default_rng(5)
    attn = rng.random((N * H, L, S)) > 0.7 if kind == "bool" else rng.standard_normal((N * H, L, S))
    kpm = rng.standard_normal((N, S)) if kind == "float" else rng.random((N, S)) > 0.8
    compare(s, t, _qkv(), _call(average_attn_weights=False), masks=[kpm, attn])


@pytest.mark.parametrize("need_weights", [True, False])
def test_fully_masked_rows_as_torch(need_weights):
    """need_weights=True: NaN rows (PyTorch's softmax); False: zero attention (PyTorch's SDPA)."""
    s, t = _pair()
    kpm = np.zeros((N, S), bool)
    kpm[1] = True  # every key of sample 1 is padding
    out = compare(s, t, _qkv(), _call(need_weights=need_weights), masks=[kpm])[0]
    assert np.isnan(out.detach().numpy()[:, 1]).all() == need_weights


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("padding", [False, True])
def test_is_causal_hint(need_weights, padding):
    s, t = _pair()
    x = random_array((L, N, E))
    causal = np.triu(np.ones((L, L), bool), 1)
    kpm = np.zeros((N, L), bool)
    kpm[2, 0] = True

    def run(m, x, mask, kpm):
        return m(x, x, x, attn_mask=mask, key_padding_mask=kpm if padding else None, is_causal=True,
                 need_weights=need_weights)

    compare(s, t, [x], run, masks=[causal, kpm])


@pytest.mark.parametrize("options", [dict(), dict(add_zero_attn=True, kdim=3, vdim=6)])
def test_unbatched(options):
    s, t = _pair(**options)
    arrays = _qkv(kdim=options.get("kdim", E), vdim=options.get("vdim", E), batched=False)
    kpm = np.zeros(S, bool)
    kpm[0] = True
    compare(s, t, arrays, _call(average_attn_weights=False), masks=[kpm])


def test_state_dict_names_and_init_as_torch():
    for kw in [dict(), dict(kdim=3, add_bias_kv=True), dict(bias=False)]:
        s, t = nn.MultiheadAttention(E, H, **kw), torch.nn.MultiheadAttention(E, H, **kw)
        assert list(s.state_dict()) == list(t.state_dict())
        for name, value in s.state_dict().items():
            assert tuple(value.shape) == tuple(t.state_dict()[name].shape), name
    m = nn.MultiheadAttention(E, H)
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    bound = np.sqrt(6 / (E + 3 * E))  # xavier_uniform_ on (3E, E)
    assert np.abs(m.in_proj_weight.detach().numpy()).max() <= bound


def test_dropout_on_weights_in_training_only():
    m = nn.MultiheadAttention(E, H, dropout=0.5, dtype=np.float64).requires_grad_(False)
    x = soma.tensor(random_array((L, N, E)))
    soma.manual_seed(3)
    _, w1 = m(x, x, x)
    soma.manual_seed(3)
    _, w2 = m(x, x, x)
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())
    _, w_nodrop = m.eval()(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(w_nodrop.numpy().sum(-1), 1, rtol=1e-12)
    m.train()
    _, w = m(x, x, x, average_attn_weights=False)
    kept = w.numpy() != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(w.numpy()[kept], 2 * w_nodrop.numpy()[kept], rtol=1e-12)


@pytest.mark.parametrize("call,error,match", [
    (lambda m, x: m(x, x[..., :4], x), AssertionError, "kdim"),
    (lambda m, x: m(x, x[:2], x), AssertionError, "differ"),
    (lambda m, x: m(x, x, x, attn_mask=soma.ones(2, 2, dtype=soma.bool)), RuntimeError, "attn_mask"),
    (lambda m, x: m(x, x, x, key_padding_mask=soma.ones(2, 2, dtype=soma.bool)), AssertionError, "key_padding"),
    (lambda m, x: m(x, x, x, attn_mask=soma.ones(L, L, dtype=soma.int64)), AssertionError, "bool and floating"),
    (lambda m, x: m(x, x, x, is_causal=True), RuntimeError, "need attn_mask"),
    (lambda m, x: m(x[0, 0], x[0, 0], x[0, 0]), AssertionError, "3-D"),
    (lambda m, x: m(x, x.to(soma.float32), x), RuntimeError, r"layer's dtype float64, got float64, float32"),
])
def test_errors(call, error, match):
    m = nn.MultiheadAttention(E, H, dtype=np.float64)
    with pytest.raises(error, match=match):
        call(m, soma.tensor(random_array((L, N, E))))
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(6, 4)
