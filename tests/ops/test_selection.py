"""mode, histc and the Tensor helpers (fill_diagonal_, clone(memory_format=...), mm, bmm, neg) against PyTorch."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch, raises_like_torch
from soma.autograd import gradcheck

MODE_INPUTS = [
    np.array([[3.0, 1.0, 3.0, 1.0, 2.0, 1.0, 3.0], [5.0, 5.0, 4.0, 4.0, 4.0, 5.0, 0.0]]),
    np.array([2.0, 2.0, 1.0, 1.0, 2.0, 1.0, 0.0, 0.0, 0.0]),
    np.random.default_rng(0).integers(0, 4, (3, 4, 6)).astype(np.float64),
]


@pytest.mark.parametrize("dim", [-1, 0])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("case", range(len(MODE_INPUTS)))
def test_mode_values_indices_and_gradient(case, dim, keepdim):
    x = MODE_INPUTS[case]
    check_against_torch(lambda a: soma.mode(a, dim, keepdim), lambda a: torch.mode(a, dim, keepdim), [x])  # and indices


def test_mode_integers_method_and_errors():
    x = np.array([[1, 7, 7, 1, 3]])
    s, t = soma.tensor(x).mode(), torch.tensor(x).mode()
    assert s.values.dtype == soma.int64
    np.testing.assert_array_equal(s.indices.numpy(), t.indices.numpy())
    assert soma.mode(soma.tensor(4.0)).indices.item() == 0
    with pytest.raises(IndexError):
        soma.mode(soma.zeros(0))
    with pytest.raises(IndexError):
        torch.mode(torch.zeros(0))


HISTC = [
    (np.array([1.0, 2, 1, 5, 7]), dict(bins=4)),
    (np.array([1.0, 2, 1, 5, 7]), dict(bins=4, min=0, max=3)),
    (np.array([2.0, 2.0]), dict(bins=3)),
    (np.random.default_rng(1).standard_normal(1000), dict(bins=17, min=-1.5, max=2)),
    (np.random.default_rng(2).uniform(0, 1, 500).astype(np.float32), dict()),
    (np.array([1.0, np.inf]), dict(bins=3, min=0, max=2)),
    (np.array([]), dict(bins=3)),
]


@pytest.mark.parametrize("case", range(len(HISTC)))
def test_histc_matches_torch(case):
    x, kwargs = HISTC[case]
    s = soma.histc(soma.tensor(x), **kwargs)
    t = torch.histc(torch.tensor(x), **kwargs)
    assert s.dtype == np.dtype(str(t.dtype).replace("torch.", ""))
    np.testing.assert_array_equal(s.numpy(), t.numpy())
    np.testing.assert_array_equal(soma.tensor(x).histc(**kwargs).numpy(), t.numpy())


@pytest.mark.parametrize("call", [
    lambda lib: lib.histc(lib.tensor([1, 2]), bins=3),
    lambda lib: lib.histc(lib.tensor([1.0, 2.0]), bins=3, min=3, max=1),
    lambda lib: lib.histc(lib.tensor([1.0, float("nan")]), bins=3),
    lambda lib: lib.histc(lib.tensor([1.0, float("inf")]), bins=3),
], ids=["integer", "min > max", "nan range", "infinite range"])
def test_histc_errors_match_torch(call):
    raises_like_torch(call)


@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((5, 3), False), ((7, 3), True), ((2, 4), True),
                                         ((3, 3, 3), False)])
def test_fill_diagonal_matches_torch_with_gradient(shape, wrap):
    x = np.random.default_rng(3).standard_normal(shape)
    results = []
    for lib in (soma, torch):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 1
        assert y.fill_diagonal_(-2.5, wrap=wrap) is y
        (y * lib.tensor(np.arange(x.size, dtype=float).reshape(shape))).sum().backward()
        results.append((y.detach().numpy(), leaf.grad.numpy()))
    for s, t in zip(*results):
        np.testing.assert_array_equal(s, t)
    with pytest.raises(RuntimeError):
        soma.zeros(3).fill_diagonal_(1)
    with pytest.raises(RuntimeError):
        soma.zeros(2, 3, 2).fill_diagonal_(1)


@pytest.mark.parametrize("fmt, shape", [("contiguous_format", (2, 3)), ("preserve_format", (2, 3, 4, 5)),
                                        ("channels_last", (2, 3, 4, 5)), ("channels_last_3d", (2, 3, 2, 2, 2))])
def test_clone_memory_formats_change_strides_only(fmt, shape):
    x = np.random.default_rng(4).standard_normal(shape)
    s = soma.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    sc, tc = s.clone(memory_format=getattr(soma, fmt)), t.clone(memory_format=getattr(torch, fmt))
    np.testing.assert_array_equal(sc.detach().numpy(), x)
    item = x.itemsize
    assert tuple(st // item for st in sc._array.strides) == tc.stride()
    (sc * 2).sum().backward()
    np.testing.assert_array_equal(s.grad.numpy(), np.full(shape, 2.0))
    assert soma.clone(s, memory_format=getattr(soma, fmt)).grad_fn is not None
    assert repr(soma.channels_last) == "soma.channels_last"
    with pytest.raises(RuntimeError):
        soma.zeros(2, 3).clone(memory_format=soma.channels_last)


def test_preserve_format_keeps_a_transposed_layout():
    x = soma.randn(3, 4).t()
    assert x.clone()._array.strides == x._array.strides
    assert x.clone(memory_format=soma.contiguous_format)._array.flags.c_contiguous


def test_mm_bmm_neg_methods():
    a, b = np.random.default_rng(5).standard_normal((2, 3)), np.random.default_rng(6).standard_normal((3, 4))
    check_against_torch(lambda p, q: p.mm(q), lambda p, q: p.mm(q), [a, b])
    check_against_torch(lambda p, q: p.bmm(q), lambda p, q: p.bmm(q), [a[None], b[None]])
    check_against_torch(lambda p: p.neg() + p.negative(), lambda p: p.neg() + p.negative(), [a])
    x = soma.tensor(a)
    assert x.neg_() is x
    np.testing.assert_array_equal(x.numpy(), -a)
    assert gradcheck(lambda p: p.mm(p.t()), [soma.tensor(a, requires_grad=True)])
