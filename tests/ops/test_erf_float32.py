"""The float32 erf of soma's SciPy-free install: within 2 ulps of the correctly rounded value everywhere."""

import math

import numpy as np
import pytest
import torch

import soma
import soma.nn.functional as F
from helpers import check_against_torch
from soma.ops import special
from soma.ops.erf_float32 import erf_float32
from soma.ops.special import erf_without_scipy

EDGES = [0.0, -0.0, 1e-45, -1e-30, 0.5, 1.0, -1.0, 2.0, -2.0, 4.0, -4.0, 9.0, np.inf, -np.inf]


def _ulps(got, want):
    return np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))


def _correct(x):
    return np.frompyfunc(math.erf, 1, 1)(x.astype(np.float64)).astype(np.float64).astype(np.float32)


def test_erf_float32_is_within_two_ulps_on_a_dense_grid_and_at_the_branch_edges():
    grid = np.linspace(-4.5, 4.5, 400_001, dtype=np.float32)
    edges = np.array(EDGES, np.float32)
    near = np.concatenate([np.nextafter(edges[np.isfinite(edges)], np.float32(s)) for s in (-np.inf, np.inf)])
    x = np.concatenate([grid, edges, near])
    got = erf_float32(x)
    assert got.dtype == np.float32
    ulps = _ulps(got, _correct(x))
    assert ulps.max() <= 2 and (ulps == 0).mean() > 0.75


def test_erf_float32_keeps_nan_signed_zero_and_the_limits():
    out = erf_float32(np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 1e30], np.float32))
    assert np.isnan(out[0]) and np.signbit(out[1]) and not np.signbit(out[2])
    np.testing.assert_array_equal(out[3:], [1, -1, 1])
    assert erf_float32(np.zeros((0, 3), np.float32)).shape == (0, 3)


def test_without_scipy_float64_stays_correctly_rounded_and_float16_goes_through_float32():
    x = np.random.default_rng(0).standard_normal(1000)
    np.testing.assert_array_equal(erf_without_scipy(x), np.vectorize(math.erf)(x))
    half = erf_without_scipy(x.astype(np.float16))
    assert half.dtype == np.float32
    np.testing.assert_allclose(half, np.vectorize(math.erf)(x.astype(np.float16).astype(np.float64)), atol=3e-7)


@pytest.fixture
def no_scipy(monkeypatch):
    monkeypatch.setitem(special._kernels, "erf", erf_without_scipy)  # the one kernel soma.erf and F.gelu read


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_and_erf_without_scipy_match_torch(no_scipy, dtype):
    """erf itself to 2 ulps; GELU at the suite's tolerances (x·½(1 + erf(x/√2)) cancels for x ≪ 0 in any
    implementation, PyTorch's included)."""
    x = (np.random.default_rng(1).standard_normal((64, 33)) * 3).astype(dtype)
    check_against_torch(F.gelu, torch.nn.functional.gelu, [x])
    ys, yt = soma.erf(soma.tensor(x)), torch.erf(torch.tensor(x))
    assert ys.dtype == dtype
    np.testing.assert_allclose(ys.numpy(), yt.numpy(), rtol=2.4e-7 if dtype == np.float32 else 1e-15, atol=0)
