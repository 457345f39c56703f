"""erf/erfc/erfinv, cumprod/cummax/cummin/logcumsumexp and einsum against PyTorch: values, dtypes,
gradients, float64 gradchecks, second-order gradients, the SciPy-free kernels, and errors."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch, raises_like_torch
from soma.autograd import gradcheck
from soma.ops import special

ZEROS = np.array([[2.0, 0.0, 3.0, -1.0, 0.5], [0.0, 0.0, 1.5, 2.0, -2.0], [1.0, -0.5, 2.0, 0.0, 3.0]])


def arrays(shapes, dtype=np.float64, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]


def unit(shape, dtype=np.float64, seed=0):
    return [np.random.default_rng(seed).uniform(-0.95, 0.95, shape).astype(dtype)]


CASES = [
    ("erf", soma.erf, torch.erf, arrays([(3, 4)], scale=2)),
    ("erfc", soma.erfc, torch.erfc, arrays([(3, 4)], scale=2)),
    ("erfinv", soma.erfinv, torch.erfinv, unit((3, 4))),
    ("cumprod", lambda x: soma.cumprod(x, 1), lambda x: torch.cumprod(x, 1), arrays([(3, 5)])),
    ("cumprod zeros", lambda x: soma.cumprod(x, 1), lambda x: torch.cumprod(x, 1), [ZEROS]),
    ("cumprod zeros dim0", lambda x: soma.cumprod(x, 0), lambda x: torch.cumprod(x, 0), [ZEROS]),
    ("cummax", lambda x: soma.cummax(x, 1), lambda x: torch.cummax(x, 1), arrays([(3, 5)])),
    ("cummin dim0", lambda x: soma.cummin(x, 0), lambda x: torch.cummin(x, 0), arrays([(4, 3)])),
    ("logcumsumexp", lambda x: soma.logcumsumexp(x, -1), lambda x: torch.logcumsumexp(x, -1), arrays([(3, 5)], scale=3)),
    ("einsum matmul", lambda a, b: soma.einsum("ij,jk->ik", a, b), lambda a, b: torch.einsum("ij,jk->ik", a, b),
     arrays([(2, 3), (3, 4)])),
    ("einsum implicit", lambda a, b: soma.einsum("ba,ca", a, b), lambda a, b: torch.einsum("ba,ca", a, b),
     arrays([(2, 3), (4, 3)])),
    ("einsum trace", lambda a: soma.einsum("ii", a), lambda a: torch.einsum("ii", a), arrays([(3, 3)])),
    ("einsum diagonal", lambda a: soma.einsum("ii->i", a), lambda a: torch.einsum("ii->i", a), arrays([(3, 3)])),
    ("einsum diagonal product", lambda a, b: soma.einsum("ii,ij->j", a, b),
     lambda a, b: torch.einsum("ii,ij->j", a, b), arrays([(3, 3), (3, 2)])),
    ("einsum sum away", lambda a: soma.einsum("ijk->j", a), lambda a: torch.einsum("ijk->j", a), arrays([(2, 3, 4)])),
    ("einsum ellipsis", lambda a, b: soma.einsum("...ij,...jk->...ik", a, b),
     lambda a, b: torch.einsum("...ij,...jk->...ik", a, b), arrays([(5, 2, 3), (3, 4)])),
    ("einsum ellipsis implicit", lambda a: soma.einsum("i...->...", a), lambda a: torch.einsum("i...->...", a),
     arrays([(3, 2, 4)])),
    ("einsum broadcast", lambda a, b: soma.einsum("bi,bj->bij", a, b), lambda a, b: torch.einsum("bi,bj->bij", a, b),
     arrays([(2, 3), (1, 4)])),
    ("einsum three operands", lambda a, b, c: soma.einsum("ij, jk, kl -> il", a, b, c),
     lambda a, b, c: torch.einsum("ij, jk, kl -> il", a, b, c), arrays([(2, 3), (3, 4), (4, 2)])),
    ("einsum list", lambda a, b: soma.einsum("i,i", [a, b]), lambda a, b: torch.einsum("i,i", [a, b]),
     arrays([(3,), (3,)])),
    ("einsum bilinear", lambda a, w, b: soma.einsum("bn,anm,bm->ba", a, w, b),
     lambda a, w, b: torch.einsum("bn,anm,bm->ba", a, w, b), arrays([(2, 3), (4, 3, 2), (2, 2)])),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn_soma, fn_torch, inputs, dtype):
    rtol = 1e-4 if dtype == np.float32 and "cumprod" in name else None
    check_against_torch(fn_soma, fn_torch, [a.astype(dtype) for a in inputs], rtol=rtol)


@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn_soma, fn_torch, inputs):
    tensors = [soma.tensor(a, requires_grad=True) for a in inputs]
    values = (lambda *t: fn_soma(*t)[0]) if name.startswith("cum") and "prod" not in name else fn_soma
    assert gradcheck(values, tensors)


SECOND_ORDER = ["erf", "erfc", "erfinv", "cumprod", "cumprod zeros", "cumprod zeros dim0", "logcumsumexp",
                "einsum matmul", "einsum diagonal product", "einsum ellipsis", "einsum three operands", "einsum bilinear"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order_against_torch(name):
    """d/dx of Σ (dL/dx · v) with create_graph=True, in both libraries (a Hessian-vector product)."""
    _, fn_soma, fn_torch, inputs = next(c for c in CASES if c[0] == name)
    rng = np.random.default_rng(5)
    results = []
    for lib, fn in ((soma, fn_soma), (torch, fn_torch)):
        leaves = [lib.tensor(a, requires_grad=True) for a in inputs]
        out = fn(*leaves)
        weight = lib.tensor(rng.standard_normal(tuple(out.shape)))
        grads = (soma.autograd if lib is soma else torch.autograd).grad((out * weight).sum(), leaves,
                                                                        create_graph=True)
        vectors = [lib.tensor(np.random.default_rng(7 + i).standard_normal(a.shape)) for i, a in enumerate(inputs)]
        total = sum((g * v).sum() for g, v in zip(grads, vectors))
        second = (soma.autograd if lib is soma else torch.autograd).grad(total, leaves, allow_unused=True)
        results.append([np.zeros(a.shape) if s is None else s.detach().numpy() for s, a in zip(second, inputs)])
        rng = np.random.default_rng(5)
    for s, t in zip(*results):
        np.testing.assert_allclose(s, t, rtol=1e-9, atol=1e-11)


def test_integer_inputs_compute_in_float32():
    for name in ("erf", "erfc", "erfinv"):
        assert getattr(soma, name)(soma.tensor([0, 1])).dtype == soma.float32
    assert soma.cumprod(soma.tensor([1, 2, 3], dtype=soma.int32), 0).dtype == soma.int64
    np.testing.assert_array_equal(soma.cumprod(soma.tensor([True, True, False]), 0).numpy(), [1, 1, 0])


def test_special_values_match_torch():
    y = np.array([-1.0, 1.0, 1.5, np.nan, 0.0, 1 - 1e-15, -1 + 1e-12, 1e-300])
    np.testing.assert_allclose(soma.erfinv(soma.tensor(y)).numpy(), torch.erfinv(torch.tensor(y)).numpy(), rtol=1e-12)
    x = np.array([-np.inf, np.inf, np.nan, 0.0, 26.0, -6.0])
    for name in ("erf", "erfc"):
        np.testing.assert_allclose(getattr(soma, name)(soma.tensor(x)).numpy(),
                                   getattr(torch, name)(torch.tensor(x)).numpy(), rtol=1e-15)


def test_kernels_without_scipy_match_torch_to_1e_12(monkeypatch):
    """The fallbacks used where SciPy is missing: math.erf/erfc elementwise and erfinv by Newton's method."""
    monkeypatch.setattr(special, "_kernels", dict(special._FALLBACKS))
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), 1 - np.logspace(-16, -1, 40), [-1.0, 1.0, 2.0]])
    np.testing.assert_allclose(soma.erfinv(soma.tensor(y)).numpy(), torch.erfinv(torch.tensor(y)).numpy(),
                               rtol=1e-12, atol=1e-12)
    x = np.linspace(-7, 7, 1001)
    np.testing.assert_allclose(soma.erf(soma.tensor(x)).numpy(), torch.erf(torch.tensor(x)).numpy(), atol=1e-15)
    np.testing.assert_allclose(soma.erfc(soma.tensor(x)).numpy(), torch.erfc(torch.tensor(x)).numpy(), rtol=1e-14)


def test_cummax_ties_and_nan_indices_match_torch():
    x = np.array([[1.0, 3.0, 3.0, 2.0, np.nan, 5.0, np.nan, 1.0], [0.0, 0.0, -1.0, 0.0, 0.0, 2.0, 2.0, 1.0]])
    for name in ("cummax", "cummin"):
        s = getattr(soma, name)(soma.tensor(x), 1)
        t = getattr(torch, name)(torch.tensor(x), 1)
        np.testing.assert_array_equal(s.values.numpy(), t.values.numpy())
        np.testing.assert_array_equal(s.indices.numpy(), t.indices.numpy())
        assert s.indices.dtype == soma.int64
    s = soma.tensor([1, 1, 0, 1]).cummax(0)
    np.testing.assert_array_equal(s.indices.numpy(), torch.tensor([1, 1, 0, 1]).cummax(0).indices.numpy())


def test_methods_and_inplace_forms():
    x = np.random.default_rng(0).uniform(-0.9, 0.9, (3, 4))
    for name in ("erf", "erfc", "erfinv"):
        s, t = soma.tensor(x), torch.tensor(x)
        assert getattr(s, name + "_")() is s
        getattr(t, name + "_")()
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-12)
    s, t = soma.tensor(x), torch.tensor(x)
    s.cumprod_(1)
    t.cumprod_(1)
    np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(soma.tensor(x).logcumsumexp(0).numpy(), torch.tensor(x).logcumsumexp(0).numpy())


def test_logcumsumexp_does_not_overflow():
    x = np.array([1000.0, 1000.0, -1000.0])
    s = soma.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    soma.logcumsumexp(s, 0).sum().backward()
    torch.logcumsumexp(t, 0).sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12)




M = np.ones((2, 3))
BAD = {
    "einsum too few operands": lambda lib: lib.einsum("ij,jk", lib.tensor(M)),
    "einsum too many operands": lambda lib: lib.einsum("ij", lib.tensor(M), lib.tensor(M)),
    "einsum ndim mismatch": lambda lib: lib.einsum("ij", lib.tensor(np.ones((2, 3, 1)))),
    "einsum size mismatch": lambda lib: lib.einsum("ij,jk", lib.tensor(M), lib.tensor(np.ones((4, 4)))),
    "einsum unknown output letter": lambda lib: lib.einsum("ij->ik", lib.tensor(M)),
    "einsum dtype mismatch": lambda lib: lib.einsum("ij,jk", lib.tensor(M), lib.tensor(np.ones((3, 2), np.float32))),
    "einsum bad character": lambda lib: lib.einsum("i1", lib.tensor(M)),
    "logcumsumexp integer": lambda lib: lib.logcumsumexp(lib.tensor([1, 2]), 0),
    "cumprod dim out of range": lambda lib: lib.cumprod(lib.tensor(M), 2),
    "cummax dim out of range": lambda lib: lib.cummax(lib.tensor(M), -3),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_errors_match_torch(case):
    raises_like_torch(BAD[case])


def test_empty_inputs():
    for lib in (soma, torch):
        assert tuple(lib.einsum("ij,jk->ik", lib.zeros(2, 0), lib.zeros(0, 3)).shape) == (2, 3)
    assert soma.einsum("ij,jk->ik", soma.zeros(2, 0), soma.zeros(0, 3)).abs().sum().item() == 0
    assert soma.cumprod(soma.zeros(0, 3), 0).shape == (0, 3)
    assert soma.cummax(soma.zeros(2, 0), 1).indices.shape == (2, 0)


P = np.random.default_rng(11).uniform(0.02, 0.98, (3, 4))
SPECIAL = [
    ("ndtr", lambda x: soma.special.ndtr(x), lambda x: torch.special.ndtr(x), [arrays([(3, 4)], scale=2)[0]]),
    ("ndtri", lambda x: soma.special.ndtri(x), lambda x: torch.special.ndtri(x), [P]),
    ("entr", lambda x: soma.special.entr(x), lambda x: torch.special.entr(x), [P]),
    ("xlog1py", lambda x, y: soma.special.xlog1py(x, y), lambda x, y: torch.special.xlog1py(x, y), [P, P[::-1].copy()]),
    ("expit", lambda x: soma.special.expit(x), lambda x: torch.special.expit(x), arrays([(3, 4)])),
    ("softmax", lambda x: soma.special.softmax(x, 1), lambda x: torch.special.softmax(x, 1), arrays([(3, 4)])),
    ("log_softmax", lambda x: soma.special.log_softmax(x, 0), lambda x: torch.special.log_softmax(x, 0),
     arrays([(3, 4)])),
    ("logsumexp", lambda x: soma.special.logsumexp(x, 1), lambda x: torch.special.logsumexp(x, 1), arrays([(3, 4)])),
    ("erfinv", lambda x: soma.special.erfinv(x), lambda x: torch.special.erfinv(x), [P]),
]


@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", SPECIAL, ids=[c[0] for c in SPECIAL])
def test_soma_special_against_torch_special(name, fn_soma, fn_torch, inputs):
    check_against_torch(fn_soma, fn_torch, inputs)
    assert gradcheck(fn_soma, [soma.tensor(a, requires_grad=True) for a in inputs])


def test_soma_special_edges():
    x = np.array([0.0, -1.0, 1.0, np.nan])
    np.testing.assert_array_equal(soma.special.entr(soma.tensor(x)).numpy(), torch.special.entr(torch.tensor(x)).numpy())
    p = np.array([0.0, 1.0, 0.5, 1.5])
    np.testing.assert_array_equal(soma.special.ndtri(soma.tensor(p)).numpy(), torch.special.ndtri(torch.tensor(p)).numpy())


GAMMA_INPUT = np.random.default_rng(12).uniform(0.3, 4.0, (3, 4))
SIGNED = np.append(np.random.default_rng(13).uniform(-3, 3, 11), 0.0).reshape(3, 4)
GAMMA = [
    ("lgamma", soma.lgamma, torch.lgamma, GAMMA_INPUT),
    ("digamma", soma.digamma, torch.digamma, GAMMA_INPUT),
    ("polygamma 1", lambda x: soma.polygamma(1, x), lambda x: torch.polygamma(1, x), GAMMA_INPUT),
    ("polygamma 3 method", lambda x: x.polygamma(3), lambda x: x.polygamma(3), GAMMA_INPUT),
    ("mvlgamma", lambda x: soma.mvlgamma(x + 1, 3), lambda x: torch.mvlgamma(x + 1, 3), GAMMA_INPUT),
    ("gammaln", soma.special.gammaln, torch.special.gammaln, GAMMA_INPUT),
    ("multigammaln", lambda x: soma.special.multigammaln(x + 1, 2), lambda x: torch.special.multigammaln(x + 1, 2),
     GAMMA_INPUT),
    ("i0", soma.i0, torch.i0, SIGNED),
    ("i0e", soma.special.i0e, torch.special.i0e, SIGNED),
    ("i1", soma.special.i1, torch.special.i1, SIGNED),
    ("i1e", soma.special.i1e, torch.special.i1e, SIGNED),
    ("erfcx", soma.special.erfcx, torch.special.erfcx, SIGNED),
    ("log_ndtr", soma.special.log_ndtr, torch.special.log_ndtr, SIGNED * 3),
]


@pytest.mark.parametrize("name, fn_soma, fn_torch, x", GAMMA, ids=[c[0] for c in GAMMA])
def test_gamma_and_bessel_against_torch(name, fn_soma, fn_torch, x):
    check_against_torch(fn_soma, fn_torch, [x], rtol=1e-9, atol=1e-12)
    check_against_torch(fn_soma, fn_torch, [x.astype(np.float32)])
    assert gradcheck(fn_soma, [soma.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("name", ["lgamma", "digamma", "i0", "i1", "i1e", "erfcx", "log_ndtr"])
def test_gamma_and_bessel_second_order(name):
    _, fn_soma, _, x = next(c for c in GAMMA if c[0] == name)
    assert soma.autograd.gradgradcheck(fn_soma, [soma.tensor(x, requires_grad=True)])


def test_gamma_family_without_scipy_names_the_extra(monkeypatch):
    import builtins

    from soma.ops import gamma

    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError("no scipy here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    with pytest.raises(ImportError, match=r"soma\[special\]"):
        gamma.scipy_special("gammaln")
