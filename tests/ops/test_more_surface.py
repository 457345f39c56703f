"""quantile/nanquantile, bucketize, histogram, trapezoid, the number-representation functions, index_put/put/
select_scatter/diagonal_scatter, select/unfold/unravel_index, the aliases and the random fills, against PyTorch."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch, raises_like_torch
from soma.autograd import gradcheck


def r(*shape, seed=0):
    return np.random.default_rng(seed + 7 * len(shape)).standard_normal(shape)


WITH_NAN = r(3, 5)
WITH_NAN[0, 1] = WITH_NAN[2, 0] = WITH_NAN[2, 4] = np.nan
INDEX = (np.array([0, 2, 0]), np.array([1, 3, 1]))  # (0, 1) twice: accumulate adds, a plain write keeps one
UNIQUE = (np.array([0, 2, 1]), np.array([1, 3, 1]))


def both(name, *args, **kwargs):
    return (lambda *t: getattr(soma, name)(*t, *args, **kwargs), lambda *t: getattr(torch, name)(*t, *args, **kwargs))


def lib_call(function):
    return (lambda *t: function(soma, *t)), (lambda *t: function(torch, *t))


CASES = [
    *[(f"quantile {i}", *both("quantile", 0.3, 1, interpolation=i), [r(3, 5)])
      for i in ("linear", "lower", "higher", "midpoint", "nearest")],
    ("quantile flat keepdim", *both("quantile", 0.75, keepdim=True), [r(3, 4)]),
    ("quantile q tensor", *lib_call(lambda lib, x: lib.quantile(x, lib.tensor([0.1, 0.5, 1.0], dtype=lib.float64),
                                                                 dim=0)), [r(4, 3)]),
    ("nanquantile", *both("nanquantile", 0.4, 1), [WITH_NAN]),
    ("quantile with nan", *both("quantile", 0.4, 1), [WITH_NAN]),
    ("trapezoid", *both("trapezoid"), [r(3, 5)]),
    ("trapezoid x", *lib_call(lambda lib, y: lib.trapezoid(y, lib.tensor(np.arange(5.0) ** 2))), [r(3, 5)]),
    ("trapezoid dx dim", *both("trapezoid", dx=0.5, dim=0), [r(3, 5)]),
    ("cumulative_trapezoid", *both("cumulative_trapezoid"), [r(2, 6)]),
    ("ldexp", *lib_call(lambda lib, x: lib.ldexp(x, lib.tensor([1, 0, 3]))), [r(2, 3)]),
    ("index_put", *lib_call(lambda lib, x, v: x.index_put(tuple(map(lib.tensor, UNIQUE)), v)), [r(3, 4), r(3)]),
    ("index_put accumulate", *lib_call(lambda lib, x, v: x.index_put(tuple(map(lib.tensor, INDEX)), v, True)),
     [r(3, 4), r(3)]),
    ("put", *lib_call(lambda lib, x, v: x.put(lib.tensor([0, -1, 5]), v)), [r(3, 4), r(3)]),
    ("put accumulate", *lib_call(lambda lib, x, v: x.put(lib.tensor([[0, 5], [5, 2]]), v, accumulate=True)),
     [r(3, 4), r(2, 2)]),
    ("select_scatter", *both("select_scatter", 1, 2), [r(3, 4), r(3)]),
    ("diagonal_scatter", *both("diagonal_scatter", 1), [r(3, 4), r(3)]),
    ("diagonal_scatter dims", *both("diagonal_scatter", -1, 2, 0), [r(3, 2, 4), r(2, 3)]),
    ("select", *lib_call(lambda lib, x: x.select(1, -1)), [r(3, 4)]),
    ("unfold", *lib_call(lambda lib, x: x.unfold(1, 3, 2)), [r(2, 7, 2)]),
    ("cross default dim", *both("cross"), [r(4, 3), r(4, 3, seed=1)]),
    ("vander", *both("vander", N=4), [r(3)]),
    ("vander increasing", *both("vander", increasing=True), [r(3)]),
    ("rsub", *both("rsub", alpha=2), [r(3), r(3, seed=1)]),
    ("fill", *lib_call(lambda lib, x, v: lib.fill(x, v)), [r(2, 3), np.array(1.5)]),
]


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn_soma, fn_torch, inputs):
    # PyTorch's vander backward trips over its own in-place ops: values there, gradients by gradcheck below
    check_against_torch(fn_soma, fn_torch, inputs, grad="vander" not in name)


@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", [c for c in CASES if "nan" not in c[0]],
                         ids=[c[0] for c in CASES if "nan" not in c[0]])
def test_gradcheck(name, fn_soma, fn_torch, inputs):
    assert gradcheck(fn_soma, [soma.tensor(a, requires_grad=True) for a in inputs])


def test_outputs_without_gradient_match_torch():
    a, b = np.array([12, -18, 0, 7]), np.array([8, 12, 5, 0])
    for name in ("gcd", "lcm"):
        np.testing.assert_array_equal(getattr(soma, name)(soma.tensor(a), soma.tensor(b)).numpy(),
                                      getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
    x = np.array([0.0, -3.5, 1e-300, np.inf, 12.0])
    for s, t in zip(soma.frexp(soma.tensor(x)), torch.frexp(torch.tensor(x))):
        np.testing.assert_array_equal(s.numpy(), t.numpy())
        assert s.dtype == np.dtype(str(t.dtype).replace("torch.", ""))
    np.testing.assert_array_equal(soma.nextafter(soma.tensor(x), soma.tensor(0.0)).numpy(),
                                  torch.nextafter(torch.tensor(x), torch.tensor(0.0)).numpy())
    np.testing.assert_array_equal(soma.heaviside(soma.tensor(x - 1), soma.tensor(np.array([0.5]))).numpy(),
                                  torch.heaviside(torch.tensor(x - 1), torch.tensor(np.array([0.5]))).numpy())
    edges = np.array([-1.0, 0.0, 1.0])
    for right in (False, True):
        np.testing.assert_array_equal(soma.bucketize(soma.tensor(x), soma.tensor(edges), right=right).numpy(),
                                      torch.bucketize(torch.tensor(x), torch.tensor(edges), right=right).numpy())
    values = r(50)
    for s, t in zip(soma.histogram(soma.tensor(values), 7), torch.histogram(torch.tensor(values), 7)):
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-12)
    for s, t in zip(soma.unravel_index(soma.tensor([5, 11, 0]), (3, 4)), torch.unravel_index(torch.tensor([5, 11, 0]), (3, 4))):
        np.testing.assert_array_equal(s.numpy(), t.numpy())
    assert soma.scalar_tensor(3).dtype == torch.scalar_tensor(3).numpy().dtype
    assert soma.is_nonzero(soma.tensor([2])) and not soma.is_neg(soma.ones(1)) and soma.is_signed(soma.ones(1))
    np.testing.assert_array_equal(soma.concatenate([soma.ones(2), soma.zeros(1)]).numpy(), [1, 1, 0])
    assert soma.detach(soma.ones(2, requires_grad=True)).requires_grad is False


def test_random_fills_are_seeded_and_distributed():
    def draw():
        soma.manual_seed(5)
        return [soma.zeros(20000).exponential_(2.0), soma.zeros(20000).log_normal_(0.0, 0.5),
                soma.zeros(20000).geometric_(0.25), soma.zeros(20000, dtype=soma.int64).random_(3, 7),
                soma.zeros(20000).cauchy_()]

    first, second = draw(), draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    exponential, log_normal, geometric, integers, cauchy = (t.numpy() for t in first)
    assert abs(exponential.mean() - 0.5) < 0.02 and abs(np.log(log_normal).std() - 0.5) < 0.02
    assert abs(geometric.mean() - 4.0) < 0.15 and geometric.min() >= 1
    assert set(np.unique(integers)) == {3, 4, 5, 6}
    assert abs(np.median(cauchy)) < 0.05
    with pytest.raises(RuntimeError):
        soma.zeros(2).exponential_(-1.0)
    with pytest.raises(RuntimeError):
        soma.zeros(2).random_(5, 2)


BAD = {
    "quantile q range": lambda lib: lib.quantile(lib.ones(3), 1.5),
    "quantile integer": lambda lib: lib.quantile(lib.tensor([1, 2]), 0.5),
    "quantile interpolation": lambda lib: lib.quantile(lib.ones(3), 0.5, interpolation="cubic"),
    "quantile q dtype": lambda lib: lib.quantile(lib.ones(3), lib.tensor([0.5], dtype=lib.float64)),
    "gcd floats": lambda lib: lib.gcd(lib.ones(2), lib.ones(2)),
    "unfold too large": lambda lib: lib.ones(3, 4).unfold(1, 5, 1),
    "select out of range": lambda lib: lib.ones(3, 4).select(1, 4),
    "diagonal_scatter shape": lambda lib: lib.diagonal_scatter(lib.ones(3, 3), lib.ones(2)),
    "put out of range": lambda lib: lib.ones(3).put(lib.tensor([3]), lib.ones(1)),
    "heaviside dtypes": lambda lib: lib.heaviside(lib.ones(2), lib.ones(2, dtype=lib.float64)),
    "vander 2-D": lambda lib: lib.vander(lib.ones(2, 2)),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_errors_match_torch(case):
    raises_like_torch(BAD[case])
