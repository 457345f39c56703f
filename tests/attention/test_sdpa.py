"""F.scaled_dot_product_attention against PyTorch: values and the gradients of q, k, v and float masks.

Masks: none, float (its gradient too), bool (True = may attend) with PyTorch's broadcasting,
causal, rows with every key masked (zero output and gradients, as PyTorch); GQA; dropout by
statistics and by seeding; errors.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import soma
import soma.nn.functional as F
from helpers import check_against_torch, random_array
from soma.autograd import gradcheck


def _bool_mask(shape, seed=3, dead_row=True):
    m = np.random.default_rng(seed).random(shape) > 0.4
    if dead_row:
        m[..., 1, :] = False  # a query that sees no key at all
    return m


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", [
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),  # (batch, heads, L, E), ... Ev != E
    ((4, 5), (6, 5), (6, 5)),  # no batch dimensions
    ((2, 3, 4, 5), (1, 3, 6, 5), (1, 3, 6, 5)),  # key/value broadcast over the batch
])
def test_matches_torch_without_mask(dtype, shapes):
    arrays = [random_array(s, dtype, seed=i) for i, s in enumerate(shapes)]
    check_against_torch(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, arrays)


@pytest.mark.parametrize("mask_shape", [(4, 6), (3, 1, 6), (2, 3, 4, 6), (1, 6)])
def test_float_mask_and_its_gradient(mask_shape):
    arrays = [random_array(s, seed=i) for i, s in enumerate([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5), mask_shape])]

    def run(lib):
        return lambda q, k, v, m: lib.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.7)

    check_against_torch(run(F), run(TF), arrays)


@pytest.mark.parametrize("mask_shape", [(4, 6), (3, 4, 6), (2, 1, 4, 6)])
def test_bool_mask_with_fully_masked_rows(mask_shape):
    mask = _bool_mask(mask_shape)
    arrays = [random_array(s, seed=i) for i, s in enumerate([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5)])]
    out = check_against_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=soma.tensor(mask)),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask)),
        arrays,
    )[0]
    assert not np.isnan(out.detach().numpy()).any()
    np.testing.assert_array_equal(out.detach().numpy()[..., 1, :], 0)


def test_float_mask_of_minus_infinity_rows_gives_zeros():
    mask = np.where(_bool_mask((4, 6)), 0.0, -np.inf)
    arrays = [random_array(s, seed=i) for i, s in enumerate([(2, 4, 5), (2, 6, 5), (2, 6, 5)])]
    check_against_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=soma.tensor(mask)),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask)),
        arrays,
    )


@pytest.mark.parametrize("L,S", [(5, 5), (4, 6), (6, 4)])
def test_causal(L, S):
    arrays = [random_array(s, seed=i) for i, s in enumerate([(2, 2, L, 3), (2, 2, S, 3), (2, 2, S, 3)])]
    check_against_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
        arrays,
    )


def test_grouped_query_attention():
    arrays = [random_array(s, seed=i) for i, s in enumerate([(2, 6, 4, 5), (2, 2, 7, 5), (2, 2, 7, 3)])]
    check_against_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        arrays,
    )


def test_float_mask_of_other_dtype_is_cast_to_the_query_dtype():
    q = soma.tensor(random_array((3, 4)))
    mask = soma.tensor(random_array((3, 3), np.float32, seed=1))
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=mask)
    t = torch.tensor(q.numpy())
    want = TF.scaled_dot_product_attention(t, t, t, attn_mask=torch.tensor(mask.numpy()))
    assert out.dtype == soma.float64
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-10)


def test_gradcheck_float64():
    q, k, v = (soma.tensor(random_array(s, seed=i), requires_grad=True)
               for i, s in enumerate([(2, 3, 4), (2, 5, 4), (2, 5, 3)]))
    m = soma.tensor(random_array((3, 5), seed=7), requires_grad=True)
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), (q, k, v, m))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3), (q, k, v))


def test_dropout_zero_is_exact_and_positive_dropout_keeps_the_mean():
    q = soma.tensor(random_array((1, 8, 16), seed=1))
    v = soma.tensor(random_array((1, 64, 1), seed=2) ** 2)  # positive values
    k = soma.zeros(1, 64, 16, dtype=soma.float64)  # uniform weights 1/64
    base = F.scaled_dot_product_attention(q, k, v).numpy()
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).numpy(), base)
    soma.manual_seed(5)
    samples = np.stack([F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy() for _ in range(200)])
    assert not np.allclose(samples[0], base)  # something was dropped
    soma.manual_seed(5)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy(), samples[0])
    # inverted dropout: E[output] = output without dropout (standard error ~ 1.5% here)
    np.testing.assert_allclose(samples.mean(axis=0), base, rtol=0.08)
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)


def test_nan_propagates():
    q = soma.tensor(random_array((3, 4)))
    k = soma.tensor(np.where(np.eye(3, 4) > 0, np.nan, 0.0))
    out = F.scaled_dot_product_attention(q, k, q[:, :4].detach())
    assert np.isnan(out.numpy()).all()


def test_empty_sequences():
    q = soma.tensor(random_array((2, 0, 4)))
    k = soma.tensor(random_array((2, 5, 4)))
    assert F.scaled_dot_product_attention(q, k, k).shape == (2, 0, 4)
    # no keys at all: every row is empty of keys, so the output is zeros, as PyTorch's
    arrays = [random_array((2, 3, 4)), random_array((2, 0, 4), seed=1), random_array((2, 0, 5), seed=2)]
    out = check_against_torch(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, arrays)[0]
    assert tuple(out.shape) == (2, 3, 5) and not out.detach().numpy().any()


@pytest.mark.parametrize("call,match", [
    (lambda q: F.scaled_dot_product_attention(q, q[..., :3], q), "do not fit"),
    (lambda q: F.scaled_dot_product_attention(q, q, q[:, :2]), "do not fit"),
    (lambda q: F.scaled_dot_product_attention(q, q.to(soma.float32), q), "same floating dtype"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=soma.ones(4, 4, dtype=soma.int64)), "bool or float"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=soma.ones(3, 4)), "cannot be broadcast"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=soma.ones(4, 4), is_causal=True), "is_causal"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, dropout_p=1.5), "between 0 and 1"),
    (lambda q: F.scaled_dot_product_attention(q[0, 0], q[0, 0], q[0, 0]), "at least 2 dimensions"),
    (lambda q: F.scaled_dot_product_attention(q, q[:1].expand(2, 4, 4), q, enable_gqa=True), "enable_gqa"),
])
def test_errors(call, match):
    q = soma.tensor(random_array((3, 4, 4)))
    with pytest.raises(RuntimeError, match=match):
        call(q)
