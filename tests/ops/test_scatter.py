"""The scatter family against PyTorch: values, dtypes, input and src gradients, float64 gradchecks,
the in-place forms, and PyTorch's errors on bad input."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch, raises_like_torch
from soma.autograd import gradcheck

INDEX = np.array([[0, 1, 0], [2, 0, 2], [1, 1, 3]])  # repeats within rows: ties and sums
INDEX0 = np.array([[0, 1, 2, 0], [2, 2, 1, 0]])  # along dim 0 of a (3, 4) input
UNIQUE = np.array([[0, 1, 3], [2, 0, 1], [1, 3, 0]])  # for writes: a repeated place keeps one write, so the
UNIQUE0 = np.array([[0, 1, 2, 0], [2, 2, 1, 1]])  # other write's gradient (gather, as PyTorch) is not numerical


def idx(lib, array=INDEX):
    return lib.tensor(array)


def with_index(name, *args, index=INDEX, **kwargs):
    """(soma fn, torch fn) calling ``name(x, dim, index, *tensors, *args)``."""
    def call(lib):
        return lambda x, *rest: getattr(lib, name)(x, kwargs.get("dim", 1), idx(lib, index), *rest, *args,
                                                   **{k: v for k, v in kwargs.items() if k != "dim"})
    return call(soma), call(torch)


CASES = [
    ("scatter src", *with_index("scatter", index=UNIQUE), [(3, 4), (3, 3)]),
    ("scatter src dim0", *with_index("scatter", index=UNIQUE0, dim=0), [(3, 4), (2, 4)]),
    ("scatter value", *with_index("scatter", 2.5), [(3, 4)]),
    ("scatter_add", *with_index("scatter_add"), [(3, 4), (3, 3)]),
    ("scatter_add dim0", *with_index("scatter_add", index=INDEX0, dim=0), [(3, 4), (2, 4)]),
    ("scatter_reduce sum", *with_index("scatter_reduce", "sum"), [(3, 4), (3, 3)]),
    ("scatter_reduce sum exclusive", *with_index("scatter_reduce", "sum", include_self=False), [(3, 4), (3, 3)]),
    ("scatter_reduce mean", *with_index("scatter_reduce", "mean"), [(3, 4), (3, 3)]),
    ("scatter_reduce mean exclusive", *with_index("scatter_reduce", "mean", include_self=False), [(3, 4), (3, 3)]),
    ("scatter_reduce prod", *with_index("scatter_reduce", "prod"), [(3, 4), (3, 3)]),
    ("scatter_reduce prod exclusive", *with_index("scatter_reduce", "prod", include_self=False), [(3, 4), (3, 3)]),
    ("scatter_reduce amax", *with_index("scatter_reduce", "amax"), [(3, 4), (3, 3)]),
    ("scatter_reduce amin exclusive", *with_index("scatter_reduce", "amin", include_self=False), [(3, 4), (3, 3)]),
    ("index_add", lambda x, s: soma.index_add(x, 1, soma.tensor([3, 0, 3]), s, alpha=-2.0),
     lambda x, s: torch.index_add(x, 1, torch.tensor([3, 0, 3]), s, alpha=-2.0), [(2, 4), (2, 3)]),
    ("index_copy", lambda x, s: soma.index_copy(x, 0, soma.tensor([2, 0]), s),
     lambda x, s: torch.index_copy(x, 0, torch.tensor([2, 0]), s), [(3, 4), (2, 4)]),
    ("index_fill", lambda x: soma.index_fill(x, 1, soma.tensor([1, -1, 1]), -3.0),
     lambda x: torch.index_fill(x, 1, torch.tensor([1, -1, 1]), -3.0), [(3, 4)]),
    ("index_fill tensor value", lambda x, v: soma.index_fill(x, 0, soma.tensor([1]), v),
     lambda x, v: torch.index_fill(x, 0, torch.tensor([1]), v), [(3, 4), ()]),
    ("masked_scatter", lambda x, s: soma.masked_scatter(x, soma.tensor([True, False, True, True]), s),
     lambda x, s: torch.masked_scatter(x, torch.tensor([True, False, True, True]), s), [(2, 4), (7,)]),
    ("take_along_dim", lambda x: soma.take_along_dim(x, soma.tensor([[0, 2], [3, 3], [1, 0]]), 1),
     lambda x: torch.take_along_dim(x, torch.tensor([[0, 2], [3, 3], [1, 0]]), 1), [(3, 4)]),
    ("take_along_dim broadcast", lambda x: soma.take_along_dim(x, soma.tensor([[[1], [3], [0]]]), -1),
     lambda x: torch.take_along_dim(x, torch.tensor([[[1], [3], [0]]]), -1), [(2, 3, 4)]),
    ("take_along_dim flat", lambda x: soma.take_along_dim(x, soma.tensor([5, 0, 11])),
     lambda x: torch.take_along_dim(x, torch.tensor([5, 0, 11])), [(3, 4)]),
]


def _arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, fn_soma, fn_torch, shapes", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn_soma, fn_torch, shapes, dtype):
    check_against_torch(fn_soma, fn_torch, _arrays(shapes, dtype))


@pytest.mark.parametrize("name, fn_soma, fn_torch, shapes", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn_soma, fn_torch, shapes):
    inputs = [soma.tensor(a, requires_grad=True) for a in _arrays(shapes, np.float64, seed=1)]
    assert gradcheck(fn_soma, inputs)


SECOND_ORDER = ["scatter src", "scatter value", "scatter_add", "scatter_reduce mean exclusive", "scatter_reduce amax",
                "scatter_reduce prod", "scatter_reduce prod exclusive",
                "index_add", "index_copy", "index_fill tensor value", "masked_scatter", "take_along_dim"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_gradgradcheck(name):
    """The differentiable backward (linear ops re-applied, formulas) under create_graph=True; the
    product with the input makes the second derivative non-zero."""
    _, fn_soma, _, shapes = next(c for c in CASES if c[0] == name)
    inputs = [soma.tensor(a, requires_grad=True) for a in _arrays(shapes, np.float64, seed=2)]
    assert soma.autograd.gradgradcheck(lambda *t: fn_soma(*t) * t[0].sum(), inputs)


@pytest.mark.parametrize("name", ["scatter", "scatter_add"])
def test_src_larger_than_index(name):
    """Only src's leading block pairs with the index; its gradient is zero elsewhere (PyTorch's backward
    refuses a src larger than the index, so the gradient is checked numerically)."""
    x, src = _arrays([(3, 4), (2, 3)], np.float64)
    index = UNIQUE[:2, :2]
    check_against_torch(*with_index(name, index=index), [x, src], grad=False)
    inputs = [soma.tensor(x, requires_grad=True), soma.tensor(src, requires_grad=True)]
    assert gradcheck(with_index(name, index=index)[0], inputs)


@pytest.mark.parametrize("reduce", ["amax", "amin", "prod", "mean"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_ties_and_zeros(reduce, include_self):
    """Ties in amax/amin share the gradient evenly; zero factors in prod (one and two per place)."""
    x = np.array([[1.0, 0.0, 2.0, 5.0], [3.0, 3.0, 0.0, 1.0]])
    src = np.array([[1.0, 1.0, 0.0, 2.0], [3.0, 0.0, 0.0, -1.0]])
    index = np.array([[0, 0, 1, 3], [0, 2, 2, 2]])
    check_against_torch(
        lambda a, b: soma.scatter_reduce(a, 1, soma.tensor(index), b, reduce, include_self=include_self),
        lambda a, b: torch.scatter_reduce(a, 1, torch.tensor(index), b, reduce, include_self=include_self),
        [x, src],
    )


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "prod"])
def test_scatter_reduce_integers(reduce):
    x = np.array([5, -3, 7, 2])
    src = np.array([4, -9, 1, 6, 3])
    index = np.array([0, 0, 1, 3, 3])
    for include_self in (True, False):
        s = soma.scatter_reduce(soma.tensor(x), 0, soma.tensor(index), soma.tensor(src), reduce,
                                include_self=include_self)
        t = torch.scatter_reduce(torch.tensor(x), 0, torch.tensor(index), torch.tensor(src), reduce,
                                 include_self=include_self)
        assert s.dtype == soma.int64
        np.testing.assert_array_equal(s.numpy(), t.numpy())


@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_legacy_reduce(reduce):
    x, src = _arrays([(3, 4), (3, 3)], np.float64)
    s = soma.tensor(x).scatter(1, idx(soma), soma.tensor(src), reduce=reduce)
    t = torch.tensor(x).scatter(1, idx(torch), torch.tensor(src), reduce=reduce)
    np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-12)
    v = soma.tensor(x).scatter(1, idx(soma), 1.5, reduce=reduce)
    np.testing.assert_allclose(v.numpy(), torch.tensor(x).scatter(1, idx(torch), 1.5, reduce=reduce).numpy())


def test_scatter_value_casts_to_input_dtype():
    s = soma.zeros(3, 4, dtype=soma.int64).scatter(1, idx(soma), 2.7)
    t = torch.zeros(3, 4, dtype=torch.long).scatter(1, idx(torch), 2.7)
    assert s.dtype == soma.int64
    np.testing.assert_array_equal(s.numpy(), t.numpy())


INPLACE = [
    ("scatter_", (1, INDEX, "src")), ("scatter_add_", (1, INDEX, "src")),
    ("scatter_reduce_", (1, INDEX, "src", "amax")), ("index_add_", (1, np.array([0, 3, 0]), "src")),
    ("index_copy_", (1, np.array([0, 3, 1]), "src")), ("index_fill_", (1, np.array([2]), -1.0)),
    ("masked_scatter_", ("mask", "src")),
]


@pytest.mark.parametrize("name, args", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_matches_torch_and_keeps_the_graph(name, args):
    x, src = _arrays([(3, 4), (3, 3)], np.float64, seed=3)
    mask = x > 0

    def build(lib):
        out = []
        for a in args:
            if isinstance(a, np.ndarray):
                out.append(lib.tensor(a))
            elif a == "src":
                out.append(src_leaf[lib])
            elif a == "mask":
                out.append(lib.tensor(mask))
            else:
                out.append(a)
        return out

    src_leaf = {soma: soma.tensor(src, requires_grad=True), torch: torch.tensor(src, requires_grad=True)}
    leaf = {soma: soma.tensor(x, requires_grad=True), torch: torch.tensor(x, requires_grad=True)}
    results = {}
    for lib in (soma, torch):
        y = leaf[lib] * 2
        returned = getattr(y, name)(*build(lib))
        assert returned is y
        (y * lib.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        results[lib] = (y.detach().numpy(), leaf[lib].grad.numpy(), src_leaf[lib].grad)
    np.testing.assert_allclose(results[soma][0], results[torch][0], rtol=1e-12)
    np.testing.assert_allclose(results[soma][1], results[torch][1], rtol=1e-12)
    if results[torch][2] is not None:
        np.testing.assert_allclose(results[soma][2].numpy(), results[torch][2].numpy(), rtol=1e-12)


def test_inplace_on_a_leaf_that_requires_grad_raises():
    x = soma.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.scatter_(1, idx(soma), 1.0)




X = np.zeros((3, 4))
BAD = {
    "scatter float index": lambda lib: lib.scatter(lib.tensor(X), 1, lib.tensor(INDEX * 1.0), 1.0),
    "scatter index out of range": lambda lib: lib.scatter(lib.tensor(X), 1, lib.tensor(INDEX + 2), 1.0),
    "scatter negative index": lambda lib: lib.scatter(lib.tensor(X), 1, lib.tensor(-INDEX - 1), 1.0),
    "scatter index ndim": lambda lib: lib.scatter(lib.tensor(X), 1, lib.tensor(INDEX[0]), 1.0),
    "scatter index too large": lambda lib: lib.scatter(lib.tensor(X), 1, lib.tensor(np.zeros((4, 2), np.int64)),
                                                       lib.tensor(np.zeros((4, 2)))),
    "scatter src smaller than index": lambda lib: lib.scatter(lib.tensor(X), 1, lib.tensor(INDEX),
                                                              lib.tensor(np.zeros((3, 2)))),
    "scatter dtype mismatch": lambda lib: lib.scatter(lib.tensor(X), 1, lib.tensor(INDEX),
                                                      lib.tensor(np.zeros((3, 3), np.float32))),
    "scatter dim out of range": lambda lib: lib.scatter(lib.tensor(X), 2, lib.tensor(INDEX), 1.0),
    "scatter bad reduce": lambda lib: lib.scatter(lib.tensor(X), 1, lib.tensor(INDEX), lib.tensor(np.ones((3, 3))),
                                                  reduce="mean"),
    "scatter_add dtype mismatch": lambda lib: lib.scatter_add(lib.tensor(X), 1, lib.tensor(INDEX),
                                                              lib.tensor(np.zeros((3, 3), np.float32))),
    "scatter_reduce bad reduce": lambda lib: lib.scatter_reduce(lib.tensor(X), 1, lib.tensor(INDEX),
                                                                lib.tensor(np.ones((3, 3))), "add"),
    "index_add count mismatch": lambda lib: lib.index_add(lib.tensor(X), 1, lib.tensor([0, 1]),
                                                          lib.tensor(np.ones((3, 3)))),
    "index_add out of range": lambda lib: lib.index_add(lib.tensor(X), 1, lib.tensor([0, 9]),
                                                        lib.tensor(np.ones((3, 2)))),
    "index_add float index": lambda lib: lib.index_add(lib.tensor(X), 1, lib.tensor([0.0]),
                                                       lib.tensor(np.ones((3, 1)))),
    "index_add 2-D index": lambda lib: lib.index_add(lib.tensor(X), 1, lib.tensor([[0]]),
                                                     lib.tensor(np.ones((3, 1)))),
    "index_add dtype mismatch": lambda lib: lib.index_add(lib.tensor(X), 1, lib.tensor([0]),
                                                          lib.tensor(np.ones((3, 1), np.float32))),
    "index_copy int32 index": lambda lib: lib.index_copy(lib.tensor(X), 1, lib.tensor(np.array([0], np.int32)),
                                                         lib.tensor(np.ones((3, 1)))),
    "index_copy negative": lambda lib: lib.index_copy(lib.tensor(X), 1, lib.tensor([-1]), lib.tensor(np.ones((3, 1)))),
    "index_fill out of range": lambda lib: lib.index_fill(lib.tensor(X), 1, lib.tensor([4]), 1.0),
    "index_fill int32 index": lambda lib: lib.index_fill(lib.tensor(X), 1, lib.tensor(np.array([0], np.int32)), 1.0),
    "masked_scatter float mask": lambda lib: lib.masked_scatter(lib.tensor(X), lib.tensor(X), lib.tensor(np.ones(12))),
    "masked_scatter short source": lambda lib: lib.masked_scatter(lib.tensor(X), lib.tensor(X == 0),
                                                                  lib.tensor(np.ones(5))),
    "masked_scatter dtype": lambda lib: lib.masked_scatter(lib.tensor(X), lib.tensor(X == 0),
                                                           lib.tensor(np.ones(12, np.float32))),
    "take_along_dim ndim": lambda lib: lib.take_along_dim(lib.tensor(X), lib.tensor(np.zeros(3, np.int64)), 1),
    "take_along_dim int32": lambda lib: lib.take_along_dim(lib.tensor(X), lib.tensor(np.zeros((3, 1), np.int32)), 1),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_errors_match_torch(case):
    raises_like_torch(BAD[case])


def test_error_names_the_function_and_the_shapes():
    with pytest.raises(RuntimeError, match=r"scatter_add\(\).*\[4, 2\].*\[3, 4\]"):
        soma.scatter_add(soma.zeros(3, 4), 1, soma.zeros(4, 2, dtype=soma.int64), soma.zeros(4, 2))


def test_empty_index_changes_nothing():
    x = soma.randn(3, 4, requires_grad=True)
    out = soma.scatter_add(x, 1, soma.zeros(3, 0, dtype=soma.int64), soma.zeros(3, 0))
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), x.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4)))


def test_nan_propagates_through_amax_like_torch():
    x = np.array([1.0, np.nan, 2.0])
    src = np.array([np.nan, 5.0])
    index = np.array([0, 2])
    s = soma.scatter_reduce(soma.tensor(x), 0, soma.tensor(index), soma.tensor(src), "amax")
    t = torch.scatter_reduce(torch.tensor(x), 0, torch.tensor(index), torch.tensor(src), "amax")
    np.testing.assert_array_equal(s.numpy(), t.numpy())


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_second_order_against_torch_with_zeros(include_self):
    x = np.array([[1.5, 0.0, 2.0, 5.0], [3.0, -1.0, 0.0, 1.0]])
    src = np.array([[1.2, 0.5, 0.0, 2.0], [3.0, 0.0, 0.7, -1.0]])
    index = np.array([[0, 0, 1, 3], [0, 2, 2, 2]])
    results = []
    for lib in (soma, torch):
        autograd = soma.autograd if lib is soma else torch.autograd
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(src, requires_grad=True)
        out = lib.scatter_reduce(a, 1, lib.tensor(index), b, "prod", include_self=include_self)
        grads = autograd.grad((out * lib.tensor(np.arange(8.0).reshape(2, 4))).sum(), [a, b], create_graph=True)
        total = (grads[0] * lib.tensor(x[::-1].copy())).sum() + (grads[1] * lib.tensor(src[::-1].copy())).sum()
        results.append([g.detach().numpy() for g in autograd.grad(total, [a, b])])
    for s, t in zip(*results):
        np.testing.assert_allclose(s, t, rtol=1e-12, atol=1e-12)
