"""The wider PyTorch surface (sorting, layout, combinations): values, dtypes and gradients against PyTorch,
plus a float64 gradcheck of every differentiable one, and the same calls as Tensor methods."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch
from soma.autograd import gradcheck

TIES = np.array([[3.0, 1.0, 3.0, np.nan], [0.0, 2.0, 2.0, -1.0], [5.0, 5.0, 5.0, 5.0]])


def both(name, *args, **kwargs):
    return (lambda *t: getattr(soma, name)(*t, *args, **kwargs)), (lambda *t: getattr(torch, name)(*t, *args, **kwargs))


CASES = [
    ("sort", *both("sort", dim=1), [(3, 4)]),
    ("sort descending dim0", *both("sort", dim=0, descending=True), [(3, 4)]),
    ("argsort", *both("argsort", dim=-1, stable=True), [(3, 4)]),
    ("topk", *both("topk", 2), [(3, 4)]),
    ("topk smallest", *both("topk", 3, dim=0, largest=False), [(3, 4)]),
    ("kthvalue", *both("kthvalue", 2, 1, True), [(3, 4)]),
    ("median", *both("median"), [(3, 4)]),
    ("median dim", *both("median", 1), [(3, 5)]),
    ("tril", *both("tril", -1), [(3, 4)]),
    ("triu batched", *both("triu", 1), [(2, 3, 4)]),
    ("diagonal", *both("diagonal", 1), [(3, 4)]),
    ("diagonal dims", *both("diagonal", -1, 0, 2), [(3, 2, 4)]),
    ("diag vector", *both("diag", 1), [(3,)]),
    ("trace", *both("trace"), [(3, 3)]),
    ("movedim", *both("movedim", (0, 1), (2, 0)), [(2, 3, 4)]),
    ("swapaxes", *both("swapaxes", 0, 2), [(2, 3, 4)]),
    ("roll", *both("roll", (1, -2), (0, 1)), [(3, 4)]),
    ("roll flat", *both("roll", 5), [(3, 4)]),
    ("tile", *both("tile", (2, 1, 2)), [(2, 3)]),
    ("repeat_interleave", *both("repeat_interleave", 2, 1), [(2, 3)]),
    ("fliplr", *both("fliplr"), [(2, 3)]),
    ("flipud", *both("flipud"), [(2, 3)]),
    ("rot90", *both("rot90", 1, (0, 1)), [(2, 3)]),
    ("rot90 k=3", *both("rot90", 3, (1, 0)), [(2, 3)]),
    ("take", lambda a: soma.take(a, soma.tensor([[0, 5], [-1, 2]])), lambda a: torch.take(a, torch.tensor([[0, 5], [-1, 2]])), [(2, 3)]),
    ("masked_select", lambda a: soma.masked_select(a, a > 0), lambda a: torch.masked_select(a, a > 0), [(3, 4)]),
    ("lerp", lambda a, b: soma.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3), [(3,), (3,)]),
    ("lerp tensor weight", soma.lerp, torch.lerp, [(3,), (3,), (3,)]),
    ("logaddexp", soma.logaddexp, torch.logaddexp, [(3, 4), (4,)]),
    ("hypot", soma.hypot, torch.hypot, [(3, 4), (3, 4)]),
    ("fmax", soma.fmax, torch.fmax, [(3, 4), (3, 4)]),
    ("fmin", soma.fmin, torch.fmin, [(3, 4), (4,)]),
    ("addmm", lambda a, b, c: soma.addmm(a, b, c, beta=0.5, alpha=2), lambda a, b, c: torch.addmm(a, b, c, beta=0.5, alpha=2), [(2, 4), (2, 3), (3, 4)]),
    ("baddbmm", soma.baddbmm, torch.baddbmm, [(2, 2, 4), (2, 2, 3), (2, 3, 4)]),
    ("outer", soma.outer, torch.outer, [(3,), (4,)]),
    ("hstack", lambda a, b: soma.hstack([a, b]), lambda a, b: torch.hstack([a, b]), [(2, 3), (2, 1)]),
    ("vstack", lambda a, b: soma.vstack([a, b]), lambda a, b: torch.vstack([a, b]), [(3,), (3,)]),
    ("dstack", lambda a, b: soma.dstack([a, b]), lambda a, b: torch.dstack([a, b]), [(2, 3), (2, 3)]),
    ("column_stack", lambda a, b: soma.column_stack([a, b]), lambda a, b: torch.column_stack([a, b]), [(3,), (3, 2)]),
    ("meshgrid ij", lambda a, b: soma.meshgrid(a, b, indexing="ij"), lambda a, b: torch.meshgrid(a, b, indexing="ij"), [(2,), (3,)]),
    ("meshgrid xy", lambda a, b: soma.meshgrid(a, b, indexing="xy"), lambda a, b: torch.meshgrid(a, b, indexing="xy"), [(2,), (3,)]),
    ("atleast_3d", lambda a: soma.atleast_3d(a), lambda a: torch.atleast_3d(a), [(3,)]),
]


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("name, fs, ft, shapes", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fs, ft, shapes):
    check_against_torch(fs, ft, _inputs(shapes))


@pytest.mark.parametrize("name, fs, ft, shapes", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fs, ft, shapes):
    tensors = [soma.tensor(a, requires_grad=True) for a in _inputs(shapes, 1)]
    first = lambda *t: (lambda out: out[0] if isinstance(out, tuple) else out)(fs(*t))  # noqa: E731
    assert gradcheck(first, tensors)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_ties_and_nan_pick_torchs_order(descending):
    s = soma.sort(soma.tensor(TIES), dim=1, descending=descending, stable=True)
    t = torch.sort(torch.tensor(TIES), dim=1, descending=descending, stable=True)
    np.testing.assert_array_equal(s.indices.numpy(), t.indices.numpy())
    np.testing.assert_array_equal(s.values.numpy(), t.values.numpy())


def test_selection_and_counting_match_torch():
    x = np.array([3, 1, 3, 0, 1, 3])
    s, t = soma.tensor(x), torch.tensor(x)
    for sv, tv in zip(soma.unique(s, return_inverse=True, return_counts=True),
                      torch.unique(t, return_inverse=True, return_counts=True)):
        np.testing.assert_array_equal(sv.numpy(), tv.numpy())
    np.testing.assert_array_equal(soma.bincount(s, minlength=6).numpy(), torch.bincount(t, minlength=6).numpy())
    np.testing.assert_array_equal(soma.nonzero(soma.tensor(TIES)).numpy(), torch.nonzero(torch.tensor(TIES)).numpy())
    for a, b in zip(soma.nonzero(s, as_tuple=True), torch.nonzero(t, as_tuple=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    seq = np.array([1.0, 2.0, 2.0, 5.0])
    for right in (False, True):
        np.testing.assert_array_equal(
            soma.searchsorted(soma.tensor(seq), soma.tensor([2.0, 0.0, 9.0]), right=right).numpy(),
            torch.searchsorted(torch.tensor(seq), torch.tensor([2.0, 0.0, 9.0]), right=right).numpy())
    a, b = soma.tensor([1.0, np.nan]), soma.tensor([1.0 + 1e-9, np.nan])
    assert soma.allclose(a, b, equal_nan=True) and not soma.allclose(a, b)
    np.testing.assert_array_equal(soma.nan_to_num(soma.tensor([np.nan, np.inf, -np.inf, 1.0]), posinf=9.0).numpy(),
                                  torch.nan_to_num(torch.tensor([np.nan, np.inf, -np.inf, 1.0]), posinf=9.0).numpy())
    np.testing.assert_array_equal(soma.tril_indices(3, 4, 1).numpy(), torch.tril_indices(3, 4, 1).numpy())


def test_methods_and_new_factories():
    x = soma.randn(3, 4, dtype=soma.float64)
    assert x.sort(1).values.tolist() == soma.sort(x, 1).values.tolist()
    assert x.new_zeros(2, 2).dtype == soma.float64 and x.new_full((3,), 7).tolist() == [7.0] * 3
    assert x.new_tensor([1, 2]).dtype == soma.float64 and x.nbytes == 96
    with pytest.raises(RuntimeError, match="k out of range"):
        x.topk(5)
