"""Top-level functions against PyTorch: nanmedian, unique_consecutive, combinations, renorm, and the older forms
(svd's V, qr's some, cholesky, frobenius/nuclear norms, range, trapz, row_stack, the removed ones)."""

import warnings

import numpy as np
import pytest
import torch
from tests.helpers import check_against_torch, raises_like_torch, random_array

import soma
from soma.autograd import gradcheck


def _with_nans(shape, seed=0):
    a = random_array(shape, seed=seed)
    a[np.random.default_rng(seed + 1).random(shape) < 0.3] = np.nan
    return a


@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_nanmedian_matches_torch(dim, keepdim):
    a = _with_nans((5, 6))
    a[2] = np.nan  # a row of NaN only: its median is NaN (its index is PyTorch's choice among equals)
    if dim is None:
        check_against_torch(soma.nanmedian, torch.nanmedian, [a])
        return
    mine, theirs = soma.nanmedian(soma.tensor(a), dim, keepdim), torch.nanmedian(torch.tensor(a), dim, keepdim)
    np.testing.assert_array_equal(mine.values.numpy(), theirs.values.numpy())
    defined = ~np.isnan(theirs.values.numpy())
    np.testing.assert_array_equal(mine.indices.numpy()[defined], theirs.indices.numpy()[defined])
    b = _with_nans((4, 7), seed=3)
    check_against_torch(lambda x: soma.nanmedian(x, dim, keepdim), lambda x: torch.nanmedian(x, dim, keepdim), [b])


def test_nanmedian_edges_and_gradcheck():
    ints = np.array([[3, 1, 2, 7], [5, 5, 0, 1]])
    for d in (0, 1):
        mine, theirs = soma.nanmedian(soma.tensor(ints), d), torch.nanmedian(torch.tensor(ints), d)
        np.testing.assert_array_equal(mine.values.numpy(), theirs.values.numpy())
    assert np.isnan(soma.nanmedian(soma.zeros(0, 3)).item()) and np.isnan(soma.nanmedian(soma.tensor(np.nan)).item())
    assert soma.nanmedian(soma.tensor(3.0), 0).values.item() == 3.0
    raises_like_torch(lambda lib: lib.nanmedian(lib.zeros(3, 0), 1))
    raises_like_torch(lambda lib: lib.nanmedian(lib.zeros(3, 2), 2))
    x = soma.tensor(_with_nans((4, 5), seed=7), requires_grad=True)
    assert gradcheck(lambda t: soma.nanmedian(t, 1).values, (x,))


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique_consecutive_matches_torch(dim):
    a = np.random.default_rng(0).integers(0, 2, (6, 3))
    a[1] = a[0]
    a[4] = a[3]
    for flags in ((False, False), (True, False), (False, True), (True, True)):
        kwargs = dict(return_inverse=flags[0], return_counts=flags[1], dim=dim)  # (torch's positional flags
        mine = soma.unique_consecutive(soma.tensor(a), **kwargs)               # dispatch wrongly)
        theirs = torch.unique_consecutive(torch.tensor(a), **kwargs)
        for m, t in zip(mine if isinstance(mine, tuple) else [mine], theirs if isinstance(theirs, tuple) else [theirs]):
            np.testing.assert_array_equal(m.numpy(), t.numpy())
            assert m.dtype == np.dtype(str(t.dtype).replace("torch.", ""))
    floats = np.array([1.0, 1.0, np.nan, np.nan, 2.0])
    np.testing.assert_array_equal(soma.unique_consecutive(soma.tensor(floats), return_counts=True)[1].numpy(),
                                  torch.unique_consecutive(torch.tensor(floats), return_counts=True)[1].numpy())
    assert soma.unique_consecutive(soma.tensor([])).shape == (0,)


@pytest.mark.parametrize("r, replace", [(0, False), (1, False), (2, False), (3, True), (5, False)])
def test_combinations_match_torch(r, replace):
    a = random_array((4,))
    if r == 0:
        assert soma.combinations(soma.tensor(a), 0).shape == torch.combinations(torch.tensor(a), 0).shape
        return
    check_against_torch(lambda x: soma.combinations(x, r, replace), lambda x: torch.combinations(x, r, replace), [a])


def test_combinations_errors():
    raises_like_torch(lambda lib: lib.combinations(lib.ones(2, 2)))
    raises_like_torch(lambda lib: lib.combinations(lib.ones(2), r=-1))


@pytest.mark.parametrize("p, dim", [(2, 0), (1, 1), (3.0, -1)])
def test_renorm_matches_torch(p, dim):
    a = random_array((4, 3, 2))
    check_against_torch(lambda x: soma.renorm(x, p, dim, 1.2), lambda x: torch.renorm(x, p, dim, 1.2), [a])
    assert gradcheck(lambda t: soma.renorm(t, p, dim, 1.2), (soma.tensor(a, requires_grad=True),))


def test_renorm_errors():
    raises_like_torch(lambda lib: lib.renorm(lib.ones(3), 2, 0, 1.0))
    raises_like_torch(lambda lib: lib.renorm(lib.ones(3, 2), 0, 0, 1.0))
    raises_like_torch(lambda lib: lib.renorm(lib.ones(3, 2), 2, 0, -1.0))


def test_range_includes_its_end_and_warns():
    for args, kwargs in (((1, 4), {}), ((0, 1, 0.25), {}), ((1, 4), {"dtype": "int64"}), ((3, 1, -1), {}),
                         ((0, 0.9, 0.3), {"dtype": "float64"})):
        s_kwargs = {k: getattr(soma, v) for k, v in kwargs.items()}
        t_kwargs = {k: getattr(torch, v) for k, v in kwargs.items()}
        with pytest.warns(UserWarning, match="deprecated"):
            mine = soma.range(*args, **s_kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.range(*args, **t_kwargs)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)
        assert mine.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like_torch(lambda lib: lib.range(1, 4, 0))
        raises_like_torch(lambda lib: lib.range(4, 1))
        raises_like_torch(lambda lib: lib.range(5))


def test_trapz_and_row_stack():
    y, x = random_array((3, 5)), np.sort(random_array((5,), seed=1))
    check_against_torch(lambda y, x: soma.trapz(y, x), lambda y, x: torch.trapz(y, x), [y, x])
    check_against_torch(lambda y: soma.trapz(y, dx=0.5, dim=0), lambda y: torch.trapz(y, dx=0.5, dim=0), [y])
    check_against_torch(lambda a, b: soma.row_stack([a, b]), lambda a, b: torch.row_stack([a, b]), [y, y + 1])


@pytest.mark.parametrize("shape, some", [((5, 3), True), ((3, 5), False), ((2, 4, 4), True)])
def test_svd_returns_v(shape, some):
    a = random_array(shape)
    U, S, V = soma.svd(soma.tensor(a), some)
    tU, tS, tV = torch.svd(torch.tensor(a), some)
    assert (U.shape, S.shape, V.shape) == (tU.shape, tS.shape, tV.shape)
    np.testing.assert_allclose(S.numpy(), tS.numpy(), rtol=1e-10)
    k = S.shape[-1]
    rebuilt = (U[..., :k] * S.unsqueeze(-2)) @ V[..., :k].mT
    np.testing.assert_allclose(rebuilt.numpy(), a, atol=1e-10)
    # the gradient of quantities the signs of singular vectors leave alone
    check_against_torch(lambda x: (lambda u, s, v: (s.sum(), (u[..., :k] * s.unsqueeze(-2)) @ v[..., :k].mT))(
                            *soma.svd(x, some)),
                        lambda x: (lambda u, s, v: (s.sum(), (u[..., :k] * s.unsqueeze(-2)) @ v[..., :k].mT))(
                            *torch.svd(x, some)), [a], rtol=1e-8, atol=1e-9)
    U0, S0, V0 = soma.svd(soma.tensor(a), compute_uv=False)
    tU0, _, tV0 = torch.svd(torch.tensor(a), compute_uv=False)
    assert U0.shape == tU0.shape and V0.shape == tV0.shape and not U0.numpy().any() and not V0.numpy().any()
    np.testing.assert_allclose(S0.numpy(), tS.numpy(), rtol=1e-10)


def test_qr_cholesky_and_norms_match_torch():
    a = random_array((5, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that its old forms are deprecated
        for some in (True, False):
            Q, R = soma.qr(soma.tensor(a), some)
            tQ, tR = torch.qr(torch.tensor(a), some)
            assert Q.shape == tQ.shape and R.shape == tR.shape
            np.testing.assert_allclose(np.abs((Q @ R).numpy()), np.abs(a), atol=1e-10)
            np.testing.assert_allclose(np.abs(R.numpy()), np.abs(tR.numpy()), atol=1e-10)
        spd = a.T @ a + np.eye(3)
        for upper in (False, True):
            check_against_torch(lambda m, u=upper: soma.cholesky(m, u), lambda m, u=upper: torch.cholesky(m, u),
                                [spd], grad=False)
        check_against_torch(lambda m: soma.frobenius_norm(m, (0, 1)), lambda m: torch.frobenius_norm(m, (0, 1)), [a])
        check_against_torch(lambda m: soma.frobenius_norm(m, 0, True), lambda m: torch.frobenius_norm(m, 0, True), [a])
        check_against_torch(soma.nuclear_norm, torch.nuclear_norm, [a], rtol=1e-8, atol=1e-10)
        check_against_torch(lambda m: soma.nuclear_norm(m, True), lambda m: torch.nuclear_norm(m, True), [a],
                            rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name, args", [("matrix_rank", 1), ("lstsq", 2), ("solve", 2)])
def test_removed_functions_raise_like_torch(name, args):
    raises_like_torch(lambda lib: getattr(lib, name)(*[lib.eye(2)] * args))
    with pytest.raises(RuntimeError, match="soma.linalg"):
        getattr(soma, name)(*[soma.eye(2)] * args)


def test_tensor_methods_of_the_new_functions():
    a = _with_nans((3, 5), seed=4)
    check_against_torch(lambda x: x.nanmedian(1).values, lambda x: torch.Tensor.nanmedian(x, 1).values, [a])
    b = random_array((3, 4))
    check_against_torch(lambda x: x.renorm(2, 1, 0.7), lambda x: x.renorm(2, 1, 0.7), [b])
    mine, theirs = soma.tensor(b), torch.tensor(b)
    assert mine.renorm_(1, 0, 0.5) is mine
    np.testing.assert_allclose(mine.numpy(), theirs.renorm_(1, 0, 0.5).numpy(), rtol=1e-12)
    runs = np.array([2, 2, 0, 2])
    np.testing.assert_array_equal(soma.tensor(runs).unique_consecutive().numpy(),
                                  torch.tensor(runs).unique_consecutive().numpy())
    assert soma.tensor(b).svd().V.shape == torch.tensor(b).svd().V.shape
