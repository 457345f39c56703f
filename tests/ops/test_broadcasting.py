"""Property tests: binary ops on any pair of broadcastable shapes agree with PyTorch."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import soma
from helpers import check_against_torch

OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "maximum": (soma.maximum, torch.maximum),
    "where": (lambda a, b: soma.where(a > b, a, b * 2), lambda a, b: torch.where(a > b, a, b * 2)),
}


@settings(max_examples=40, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4),
    op=st.sampled_from(sorted(OPS)),
    seed=st.integers(0, 2**16),
)
def test_binary_ops_broadcast_like_torch(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes.input_shapes)
    fs, ft = OPS[op]
    check_against_torch(fs, ft, [np.asarray(a, np.float64), np.asarray(b, np.float64)])


@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    data=st.data(),
)
def test_reductions_over_any_dims_like_torch(shape, data):
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    keepdim = data.draw(st.booleans())
    array = np.random.default_rng(len(shape)).standard_normal(shape)
    check_against_torch(
        lambda a: a.sum(tuple(dims), keepdim=keepdim) + a.mean(tuple(dims), keepdim=keepdim),
        lambda a: a.sum(tuple(dims), keepdim=keepdim) + a.mean(tuple(dims), keepdim=keepdim),
        [array],
    )
