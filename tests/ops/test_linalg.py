"""soma.linalg against torch.linalg: values, dtypes and gradients on random well-conditioned batches
(gauge-invariant functions of singular and eigen vectors), float64 gradchecks, second-order
gradients of inv/solve/det/slogdet, and PyTorch's errors (LinAlgError for singular matrices)."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch, raises_like_torch
from soma.autograd import gradcheck


def general(shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    n = shape[-1]
    return a + n * np.eye(n) if len(shape) > 1 and shape[-1] == shape[-2] else a  # well conditioned


def spd(shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def both(function, *args, **kwargs):
    return (lambda *t: getattr(soma.linalg, function)(*t, *args, **kwargs),
            lambda *t: getattr(torch.linalg, function)(*t, *args, **kwargs))


def svd_invariants(lib, full_matrices=False):
    """Functions of (U, S, Vh) that do not depend on the signs of the singular vectors."""
    def fn(a):
        U, S, Vh = lib.linalg.svd(a, full_matrices=full_matrices)
        k = S.shape[-1]
        return S, U[..., :k] * U[..., :k], Vh[..., :k, :] * Vh[..., :k, :], U[..., :k] @ Vh[..., :k, :]
    return fn


def eigh_invariants(lib, uplo="L"):
    def fn(a):
        w, V = lib.linalg.eigh(a, UPLO=uplo)
        return w, V * V, (V * w.unsqueeze(-2)) @ V.transpose(-2, -1)
    return fn


def symmetric_input(fn):
    """fn of the symmetrized input, so a gradient is comparable whichever triangle a kernel reads."""
    return lambda a: fn((a + a.transpose(-2, -1)) / 2)


CASES = [
    ("inv", *both("inv"), [general((3, 3))]),
    ("inv batched", *both("inv"), [general((2, 4, 4))]),
    ("solve", *both("solve"), [general((3, 3)), general((3, 2), 1)]),
    ("solve vector", *both("solve"), [general((3, 3)), general((3,), 1)]),
    ("solve broadcast", *both("solve"), [general((2, 3, 3)), general((3, 4), 1)]),
    ("solve right", *both("solve", left=False), [general((3, 3)), general((2, 3), 1)]),
    ("det", *both("det"), [general((3, 3))]),
    ("det batched", *both("det"), [general((2, 3, 3))]),
    ("slogdet", *both("slogdet"), [general((2, 3, 3)) * np.array([1.0, -1.0])[:, None, None]]),
    ("cholesky", *(symmetric_input(f) for f in both("cholesky")), [spd((3, 3))]),
    ("cholesky upper", *(symmetric_input(f) for f in both("cholesky", upper=True)), [spd((2, 3, 3))]),
    ("qr square", *both("qr"), [general((3, 3))]),
    ("qr tall", *both("qr"), [general((4, 3))]),
    ("qr wide", *both("qr"), [general((3, 5))]),
    ("eigh", symmetric_input(eigh_invariants(soma)), symmetric_input(eigh_invariants(torch)), [spd((3, 3))]),
    ("eigh upper batched", symmetric_input(eigh_invariants(soma, "U")), symmetric_input(eigh_invariants(torch, "U")),
     [spd((2, 4, 4))]),
    ("eigvalsh", *(symmetric_input(f) for f in both("eigvalsh")), [spd((3, 3))]),
    ("svd square", svd_invariants(soma), svd_invariants(torch), [general((3, 3))]),
    ("svd tall", svd_invariants(soma), svd_invariants(torch), [general((5, 3))]),
    ("svd wide batched", svd_invariants(soma), svd_invariants(torch), [general((2, 3, 5))]),
    ("svdvals", *both("svdvals"), [general((4, 3))]),
    ("pinv", *both("pinv"), [general((4, 3))]),
    ("vector_norm", *both("vector_norm"), [general((3, 4))]),
    ("vector_norm ord 3 dim", *both("vector_norm", 3, 1, True), [general((3, 4))]),
    ("vector_norm inf", *both("vector_norm", float("inf"), (0, 1)), [general((3, 4))]),
    ("matrix_norm fro", *both("matrix_norm"), [general((2, 3, 4))]),
    ("matrix_norm nuc", *both("matrix_norm", "nuc"), [general((2, 3, 4))]),
    ("matrix_norm 2", *both("matrix_norm", 2), [general((3, 4))]),
    ("matrix_norm -2 keepdim", *both("matrix_norm", -2, keepdim=True), [general((2, 3, 3))]),
    ("matrix_norm 1", *both("matrix_norm", 1), [general((3, 4))]),
    ("matrix_norm -1", *both("matrix_norm", -1), [general((3, 4))]),
    ("matrix_norm inf dims", *both("matrix_norm", float("inf"), (0, 2)), [general((3, 2, 4))]),
    ("matrix_norm -inf keepdim", *both("matrix_norm", -float("inf"), keepdim=True), [general((3, 4))]),
    ("norm default", *both("norm"), [general((3, 4))]),
    ("norm matrix ord", *both("norm", "nuc"), [general((3, 4))]),
    ("norm vector dim", *both("norm", 1, 1), [general((3, 4))]),
    ("matrix_power", *both("matrix_power", 3), [general((3, 3))]),
    ("matrix_power negative", *both("matrix_power", -2), [general((2, 3, 3))]),
    ("multi_dot", lambda a, b, c: soma.linalg.multi_dot([a, b, c]), lambda a, b, c: torch.linalg.multi_dot([a, b, c]),
     [general((2, 3)), general((3, 4), 1), general((4,), 2)]),
    ("vecdot", *both("vecdot"), [general((3, 4)), general((4,), 1)]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn_soma, fn_torch, inputs, dtype):
    rtol = 2e-4 if dtype == np.float32 else 1e-9  # decompositions lose a few digits to conditioning
    check_against_torch(fn_soma, fn_torch, [a.astype(dtype) for a in inputs], rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn_soma, fn_torch, inputs):
    assert gradcheck(fn_soma, [soma.tensor(a, requires_grad=True) for a in inputs])


SECOND_ORDER = ["inv", "inv batched", "solve", "solve broadcast", "solve right", "det", "det batched", "slogdet",
                "matrix_power negative", "cholesky", "cholesky upper", "eigh", "eigvalsh", "svd square", "svd tall",
                "svd wide batched", "svdvals", "pinv", "matrix_norm nuc", "qr square", "qr tall", "qr wide"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order_against_torch(name):
    """Hessian-vector products through inv/solve/det/slogdet (their formulas in soma ops)."""
    _, fn_soma, fn_torch, inputs = next(c for c in CASES if c[0] == name)
    results = []
    for lib, fn in ((soma, fn_soma), (torch, fn_torch)):
        autograd = soma.autograd if lib is soma else torch.autograd
        leaves = [lib.tensor(a, requires_grad=True) for a in inputs]
        outs = fn(*leaves)
        outs = outs if isinstance(outs, tuple) else (outs,)
        loss = sum((o * lib.tensor(np.random.default_rng(i).standard_normal(tuple(o.shape)))).sum()
                   for i, o in enumerate(outs))  # a constant output (slogdet's sign) adds nothing
        grads = autograd.grad(loss, leaves, create_graph=True)
        total = sum((g * lib.tensor(np.random.default_rng(9 + i).standard_normal(g.shape))).sum()
                    for i, g in enumerate(grads))
        results.append([g.detach().numpy() for g in autograd.grad(total, leaves)])
    for s, t in zip(*results):
        np.testing.assert_allclose(s, t, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", ["inv", "solve", "det", "slogdet"])
def test_gradgradcheck(name):
    _, fn_soma, _, inputs = next(c for c in CASES if c[0] == name)
    assert soma.autograd.gradgradcheck(fn_soma, [soma.tensor(a, requires_grad=True) for a in inputs])


def test_det_gradient_of_a_singular_matrix_matches_torch():
    a = np.random.default_rng(3).standard_normal((3, 3))
    a[0] = a[1]  # rank 2: the gradient is the (non-zero) cofactor matrix
    check_against_torch(soma.linalg.det, torch.linalg.det, [a], rtol=1e-8, atol=1e-12)
    rank1 = np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 0.5])  # rank 1: cofactors are all zero
    check_against_torch(soma.linalg.det, torch.linalg.det, [rank1], rtol=1e-8, atol=1e-12)


def test_slogdet_of_singular_and_empty_matrices():
    s = soma.linalg.slogdet(soma.zeros(2, 2))
    t = torch.linalg.slogdet(torch.zeros(2, 2))
    assert s.sign.item() == t.sign.item() == 0 and s.logabsdet.item() == t.logabsdet.item() == -np.inf
    assert soma.linalg.det(soma.zeros(0, 0)).item() == torch.linalg.det(torch.zeros(0, 0)).item() == 1.0


def test_qr_complete_and_r_modes():
    a = general((4, 3))
    Q, R = soma.linalg.qr(soma.tensor(a), mode="complete")
    tQ, tR = torch.linalg.qr(torch.tensor(a), mode="complete")
    np.testing.assert_allclose(Q.numpy(), tQ.numpy(), atol=1e-12)
    np.testing.assert_allclose(R.numpy(), tR.numpy(), atol=1e-12)
    assert soma.linalg.qr(soma.tensor(a), mode="r").Q.shape == torch.linalg.qr(torch.tensor(a), mode="r").Q.shape
    np.testing.assert_allclose(soma.linalg.qr(soma.tensor(a), mode="r").R.numpy(), tR.numpy()[:3], atol=1e-12)
    assert gradcheck(lambda x: soma.linalg.qr(x, mode="r").R, [soma.tensor(a, requires_grad=True)])  # torch: none
    leaf = soma.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="complete"):
        soma.linalg.qr(leaf, mode="complete").Q.sum().backward()


def test_rank_and_full_svd():
    a = np.outer([1.0, 2.0, 3.0], [1.0, 0.0, 2.0, 1.0])
    assert soma.linalg.matrix_rank(soma.tensor(a)).item() == torch.linalg.matrix_rank(torch.tensor(a)).item() == 1
    U, S, Vh = soma.linalg.svd(soma.tensor(general((4, 3))))
    assert U.shape == (4, 4) and Vh.shape == (3, 3)
    np.testing.assert_allclose((U[:, :3] * S) @ Vh, general((4, 3)), atol=1e-12)
    check_against_torch(svd_invariants(soma, True), svd_invariants(torch, True), [general((4, 3))], rtol=1e-9)


def test_linalg_error_is_a_runtime_error_named_as_torch():
    assert issubclass(soma.linalg.LinAlgError, RuntimeError)
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    for call in (lambda lib: lib.linalg.inv(lib.tensor(singular)),
                 lambda lib: lib.linalg.solve(lib.tensor(singular), lib.ones(2, dtype=lib.float64)),
                 lambda lib: lib.linalg.cholesky(lib.tensor(singular)),
                 lambda lib: lib.linalg.cholesky(-lib.eye(3))):
        with pytest.raises(torch.linalg.LinAlgError):
            call(torch)
        with pytest.raises(soma.linalg.LinAlgError, match="linalg"):
            call(soma)


BAD = {
    "inv not square": lambda lib: lib.linalg.inv(lib.ones(2, 3)),
    "inv 1-D": lambda lib: lib.linalg.inv(lib.ones(3)),
    "inv integer": lambda lib: lib.linalg.inv(lib.ones(2, 2, dtype=lib.int64)),
    "solve shapes": lambda lib: lib.linalg.solve(lib.eye(2), lib.ones(3)),
    "solve dtypes": lambda lib: lib.linalg.solve(lib.eye(2), lib.ones(2, dtype=lib.float64)),
    "qr mode": lambda lib: lib.linalg.qr(lib.ones(2, 2), mode="x"),
    "eigh UPLO": lambda lib: lib.linalg.eigh(lib.eye(2), UPLO="X"),
    "matrix_norm order": lambda lib: lib.linalg.matrix_norm(lib.eye(2), ord=3),
    "matrix_norm 1-D": lambda lib: lib.linalg.matrix_norm(lib.ones(2)),
    "det not square": lambda lib: lib.linalg.det(lib.ones(2, 3)),
    "norm 3-D with ord": lambda lib: lib.linalg.norm(lib.ones(2, 2, 2), ord=2),
    "vector_norm integer": lambda lib: lib.linalg.vector_norm(lib.ones(2, dtype=lib.int64)),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_errors_match_torch(case):
    raises_like_torch(BAD[case])


def test_nan_input_propagates():
    a = general((3, 3))
    a[0, 0] = np.nan
    assert np.isnan(soma.linalg.det(soma.tensor(a)).item())
    assert np.isnan(soma.linalg.inv(soma.tensor(a)).numpy()).any()


def test_top_level_and_method_forms():
    a = general((2, 3, 3)) * np.array([1.0, -1.0])[:, None, None]
    check_against_torch(lambda x: (soma.det(x), x.det(), x.logdet(), soma.logdet(x)),
                        lambda x: (torch.det(x), x.det(), x.logdet(), torch.logdet(x)), [np.abs(a)], rtol=1e-9)
    np.testing.assert_array_equal(soma.logdet(soma.tensor(a)).numpy(), torch.logdet(torch.tensor(a)).numpy())  # nan
    check_against_torch(lambda x: (soma.inverse(x), x.inverse(), x.pinverse(), x.matrix_power(2), x.slogdet()[1]),
                        lambda x: (torch.inverse(x), x.inverse(), x.pinverse(), x.matrix_power(2), x.slogdet()[1]),
                        [a], rtol=1e-9)


TRIANGULAR = np.tril(general((3, 3))) + np.triu(np.ones((3, 3)), 1) * 0.3  # not triangular: only one side is read
MORE = [
    ("solve_triangular lower", *both("solve_triangular", upper=False), [TRIANGULAR, general((3, 2), 1)]),
    ("solve_triangular upper right unit", *both("solve_triangular", upper=True, left=False, unitriangular=True),
     [TRIANGULAR.T.copy(), general((2, 3), 1)]),
    ("cholesky_solve", lambda b, a: soma.cholesky_solve(b, soma.linalg.cholesky((a + a.mT) / 2)),
     lambda b, a: torch.cholesky_solve(b, torch.linalg.cholesky((a + a.mT) / 2)), [general((3, 2), 1), spd((3, 3))]),
    ("cholesky_inverse", lambda a: soma.cholesky_inverse(soma.linalg.cholesky((a + a.mT) / 2)),
     lambda a: torch.cholesky_inverse(torch.linalg.cholesky((a + a.mT) / 2)), [spd((3, 3))]),
    ("cross", *both("cross"), [general((4, 3)), general((1, 3), 1)]),
    ("cross dim", *both("cross", dim=0), [general((3, 2)), general((3, 2), 1)]),
    ("diagonal", *both("diagonal", offset=1), [general((2, 3, 4))]),
    ("vander", *both("vander", N=4), [general((2, 3))]),
    ("matrix_exp", *both("matrix_exp"), [general((3, 3)) * 0.4]),
    ("matrix_exp large norm", *both("matrix_exp"), [general((2, 3, 3)) * 2]),
    ("inv_ex", lambda a: soma.linalg.inv_ex(a)[0], lambda a: torch.linalg.inv_ex(a)[0], [general((3, 3))]),
    ("cond", *both("cond"), [general((2, 3, 3))]),
    ("cond -2", *both("cond", -2), [general((4, 3))]),
    ("lstsq", lambda a, b: soma.linalg.lstsq(a, b).solution, lambda a, b: torch.linalg.lstsq(a, b).solution,
     [general((5, 3)), general((5, 2), 1)]),
    ("tensorinv", *both("tensorinv", ind=1), [general((4, 4)).reshape(4, 2, 2)]),
    ("tensorsolve", *both("tensorsolve"), [general((6, 6)).reshape(2, 3, 6), general((2, 3), 1)]),
]


@pytest.mark.parametrize("name, fn_soma, fn_torch, inputs", MORE, ids=[c[0] for c in MORE])
def test_more_against_torch_with_gradcheck(name, fn_soma, fn_torch, inputs):
    check_against_torch(fn_soma, fn_torch, inputs, rtol=1e-9, atol=1e-11)
    assert gradcheck(fn_soma, [soma.tensor(a, requires_grad=True) for a in inputs])


def test_ex_forms_report_instead_of_raising():
    singular = soma.tensor([[1.0, 2.0], [2.0, 4.0]])
    _, info = soma.linalg.inv_ex(singular)
    assert info.item() > 0 and torch.linalg.inv_ex(torch.tensor(singular.numpy()))[1].item() > 0
    assert soma.linalg.cholesky_ex(soma.eye(2))[1].item() == 0
    assert soma.linalg.cholesky_ex(-soma.eye(2))[1].item() > 0
    with pytest.raises(soma.linalg.LinAlgError):
        soma.linalg.inv_ex(singular, check_errors=True)
    assert soma.linalg.solve_ex(soma.eye(2), soma.ones(2))[1].item() == 0


def test_cond_other_norms():
    """(PyTorch's backward of cond with a matrix norm trips over its own in-place inv_ex: values only there.)"""
    a = general((2, 3, 3))
    for p in ("fro", "nuc", 1, -np.inf):
        np.testing.assert_allclose(soma.linalg.cond(soma.tensor(a), p).numpy(),
                                   torch.linalg.cond(torch.tensor(a), p).numpy(), rtol=1e-10)
    assert gradcheck(lambda x: soma.linalg.cond(x, "fro"), [soma.tensor(a, requires_grad=True)])
