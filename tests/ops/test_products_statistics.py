"""Products, statistics and splits composed of other ops (tensordot, kron, cdist, block_diag, nanmean, cov,
diff, tensor_split, ...) against PyTorch: values, dtypes and gradients, and methods."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch, raises_like_torch
from soma.autograd import gradcheck


def r(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


WITH_NAN = r(3, 4)
WITH_NAN[0, 1] = WITH_NAN[2, 3] = np.nan


def both(name, *args, **kwargs):
    return (lambda *t: getattr(soma, name)(*t, *args, **kwargs), lambda *t: getattr(torch, name)(*t, *args, **kwargs))


CASES = [
    ("tensordot", *both("tensordot", 2), [r(2, 3, 4), r(3, 4, 5, seed=1)]),
    ("tensordot pairs", *both("tensordot", ([0, 2], [2, 0])), [r(2, 3, 4), r(4, 5, 2, seed=1)]),
    ("kron", *both("kron"), [r(2, 3), r(3, 2, seed=1)]),
    ("kron ranks", *both("kron"), [r(2,), r(2, 3, seed=1)]),
    ("inner", *both("inner"), [r(2, 3), r(4, 3, seed=1)]),
    ("vdot", *both("vdot"), [r(3), r(3, seed=1)]),
    ("mv", *both("mv"), [r(2, 3), r(3, seed=1)]),
    ("addr", *both("addr", beta=0.5, alpha=2.0), [r(2, 3), r(2, seed=1), r(3, seed=2)]),
    ("addcmul", *both("addcmul", value=-0.5), [r(2, 3), r(2, 3, seed=1), r(3, seed=2)]),
    ("addcdiv", *both("addcdiv", value=2), [r(2, 3), r(2, 3, seed=1), np.abs(r(3, seed=2)) + 1]),
    ("dist", *both("dist", 3), [r(2, 3), r(3, seed=1)]),
    ("cdist", *both("cdist"), [r(4, 3), r(5, 3, seed=1)]),
    ("cdist p=1 batched", *both("cdist", p=1.0), [r(2, 4, 3), r(2, 5, 3, seed=1)]),
    ("cartesian_prod", *both("cartesian_prod"), [r(2), r(3, seed=1)]),
    ("block_diag", *both("block_diag"), [r(2, 2), r(3, seed=1), r(1, 2, seed=2)]),
    ("aminmax", lambda x: soma.aminmax(x, dim=1), lambda x: torch.aminmax(x, dim=1), [r(3, 4)]),
    ("var_mean", *both("var_mean", 1), [r(3, 4)]),
    ("std_mean", *both("std_mean", 0, keepdim=True), [r(3, 4)]),
    ("nansum", *both("nansum", 1), [WITH_NAN]),
    ("nanmean", *both("nanmean"), [WITH_NAN]),
    ("diff", *both("diff"), [r(3, 5)]),
    ("diff n=2 prepend", lambda x, p: soma.diff(x, 2, 0, prepend=p), lambda x, p: torch.diff(x, 2, 0, prepend=p),
     [r(3, 4), r(1, 4, seed=1)]),
    ("cov", *both("cov"), [r(3, 6)]),
    ("cov correction 0", *both("cov", correction=0), [r(6)]),
    ("corrcoef", *both("corrcoef"), [r(3, 6)]),
    ("broadcast_to", *both("broadcast_to", (2, 3, 4)), [r(3, 1)]),
    ("broadcast_tensors", *both("broadcast_tensors"), [r(3, 1), r(4, seed=1)]),
    ("ravel", *both("ravel"), [r(3, 4)]),
    ("tensor_split", *both("tensor_split", 3, 1), [r(2, 7)]),
    ("tensor_split indices", *both("tensor_split", [1, 4, 9]), [r(6, 2)]),
    ("hsplit", *both("hsplit", 2), [r(3, 4)]),
    ("vsplit", *both("vsplit", [1]), [r(3, 4)]),
    ("dsplit", *both("dsplit", 2), [r(2, 2, 4)]),
    ("diagflat", *both("diagflat", 1), [r(2, 2)]),
]


@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn_soma, fn_torch, inputs):
    check_against_torch(fn_soma, fn_torch, inputs)


@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn_soma, fn_torch, inputs):
    if "nan" in name:
        inputs = [np.nan_to_num(a) for a in inputs]
    assert gradcheck(fn_soma, [soma.tensor(a, requires_grad=True) for a in inputs])


def test_counts_membership_and_tensor_properties():
    x = np.array([[0, 1, 2], [3, 0, 0]])
    np.testing.assert_array_equal(soma.count_nonzero(soma.tensor(x), 1).numpy(), torch.count_nonzero(torch.tensor(x), 1))
    assert soma.count_nonzero(soma.tensor(x)).item() == 3
    np.testing.assert_array_equal(soma.isin(soma.tensor(x), soma.tensor([0, 2])).numpy(),
                                  torch.isin(torch.tensor(x), torch.tensor([0, 2])).numpy())
    s, t = soma.zeros(2, 3).t(), torch.zeros(2, 3).t()
    assert s.stride() == t.stride() and s.stride(1) == t.stride(1)
    assert s.nelement() == 6 and s.ndimension() == 2
    assert soma.tensor([1]).is_signed() and not soma.tensor([1], dtype=soma.uint8).is_signed()
    assert soma.tensor([2.0]).is_nonzero()
    assert soma.broadcast_shapes((2, 1), (3,)) == torch.broadcast_shapes((2, 1), (3,))


def test_methods_and_inplace():
    a, b, c = r(2, 3), r(2, 3, seed=1), r(3, seed=2)
    for name, args in (("addcmul", (b, c)), ("addcdiv", (b, np.abs(c) + 1)), ("kron", (c,)), ("diff", ()),
                       ("cov", ()), ("ravel", ())):
        s = getattr(soma.tensor(a), name)(*map(soma.tensor, args))
        t = getattr(torch.tensor(a), name)(*map(torch.tensor, args))
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-12)
    s, t = soma.tensor(a), torch.tensor(a)
    s.addcmul_(soma.tensor(b), soma.tensor(c), value=2)
    t.addcmul_(torch.tensor(b), torch.tensor(c), value=2)
    np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(4, 3), 1),
    lambda lib: lib.mv(lib.ones(2, 3), lib.ones(2, 3)),
    lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 4)),
    lambda lib: lib.hsplit(lib.ones(2, 3), 2),
    lambda lib: lib.tensor_split(lib.ones(2, 3), 0, 1),
    lambda lib: lib.diff(lib.tensor(1.0)),
    lambda lib: lib.cov(lib.ones(2, 2, 2)),
], ids=["tensordot sizes", "mv shapes", "cdist columns", "hsplit divisible", "tensor_split zero", "diff 0-d",
        "cov 3-D"])
def test_errors_match_torch(call):
    raises_like_torch(call)
