"""This session's layers on the strict backend: adaptive max pooling, max unpooling, power-average pooling,
embedding bags, channel shuffles and sampling grids give the CPU's exact numbers and gradients on a device
that refuses implicit NumPy conversion (as CuPy's arrays do)."""

import numpy as np
import pytest
from test_strict_layers import assert_function_same_on_device

import soma
import soma.nn.functional as F

_RNG = np.random.default_rng(7)
_X = _RNG.standard_normal((2, 3, 6, 7))
_POOLED, _WHERE = (t.numpy() for t in F.max_pool2d(soma.tensor(_X), 2, return_indices=True))
_BAGS = np.array([1, 2, 4, 5, 4, 3, 2, 9, 4, 4])

CASES = [
    ("adaptive_max_pool2d divisible", lambda x: F.adaptive_max_pool2d(x, (3, 7)), [_X]),
    ("adaptive_max_pool2d bins", lambda x: F.adaptive_max_pool2d(x, (4, 3)), [_X]),
    ("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 4), [_X[:, :, 0]]),
    ("max_unpool2d", lambda v, i: F.max_unpool2d(v, i, 2, output_size=(6, 7)), [_POOLED, _WHERE]),
    ("lp_pool2d", lambda x: F.lp_pool2d(x, 2, (2, 3), ceil_mode=True), [_X]),
    ("embedding_bag mean padded", lambda w, i, o: F.embedding_bag(i, w, o, padding_idx=4),
     [_RNG.standard_normal((10, 3)), _BAGS, np.array([0, 4, 4, 7])]),
    ("embedding_bag max 2-d", lambda w, i: F.embedding_bag(i, w, mode="max"),
     [_RNG.standard_normal((10, 3)), _BAGS.reshape(2, 5)]),
    ("embedding_bag sum weighted", lambda w, i, o, s: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=s),
     [_RNG.standard_normal((10, 3)), _BAGS, np.array([0, 3]), _RNG.standard_normal(10)]),
    ("channel_shuffle", lambda x: F.channel_shuffle(x, 3), [_X]),
    ("affine_grid + grid_sample", lambda x, th: F.grid_sample(x, F.affine_grid(th, (2, 3, 4, 5), False), "bilinear",
                                                             "reflection", False), [_X, _RNG.standard_normal((2, 2, 3))]),
    ("grid_sample bicubic border", lambda x, g: F.grid_sample(x, g, "bicubic", "border", True),
     [_X, _RNG.uniform(-1.2, 1.2, (2, 3, 4, 2))]),
]


@pytest.mark.parametrize("name, fn, arrays", CASES, ids=[c[0] for c in CASES])
def test_same_numbers_on_the_strict_backend(strict_device, name, fn, arrays):
    assert_function_same_on_device(fn, arrays, strict_device)


def test_new_tensors_land_beside_their_tensor(strict_device):
    x = soma.ones(2, 3, device=strict_device, dtype=soma.float64)  # the default device stays the CPU
    made = [x.new_zeros(2), x.new_ones(2), x.new_empty(2), x.new_full((2,), 3.0), x.new_tensor([1.0, 2.0])]
    assert all(str(t.device) == str(x.device) and t.dtype == soma.float64 for t in made)
    assert str(x.new_zeros(2, device="cpu").device) == "cpu"
