"""MultivariateNormal (covariance, precision or scale_tril) and its KL divergence against PyTorch: values and
gradients with respect to loc and the matrix's free entries, in float32 and float64; draws' moments."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch, raises_like_torch

N_EVENT = 3
FORMS = ["covariance_matrix", "precision_matrix", "scale_tril"]


def _lib(tensor):
    return torch if isinstance(tensor, torch.Tensor) else soma


def _build(form, loc, a):
    """The matrix from free entries ``a``: ``aaᵀ + I`` (positive definite) or the lower triangle of ``a``."""
    lib = _lib(loc)
    eye = lib.eye(N_EVENT, dtype=loc.dtype)
    matrix = lib.tril(a) if form == "scale_tril" else a @ a.transpose(-2, -1) + eye
    return lib.distributions.MultivariateNormal(loc, **{form: matrix})


def _arrays(rng, dtype, batch=(2,)):
    a = rng.standard_normal(batch + (N_EVENT, N_EVENT))
    a[..., np.arange(N_EVENT), np.arange(N_EVENT)] = rng.uniform(0.5, 1.5, batch + (N_EVENT,))  # positive diagonal
    return [rng.standard_normal(batch + (N_EVENT,)).astype(dtype), a.astype(dtype)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("form", FORMS)
def test_log_prob_entropy_moments_matrices(form, dtype):
    rng = np.random.default_rng(0)
    arrays = _arrays(rng, dtype)
    value = rng.standard_normal((4, 1, N_EVENT)).astype(dtype)

    def quantities(loc, a):
        d = _build(form, loc, a)
        x = _lib(loc).tensor(value)
        return [d.log_prob(x), d.entropy(), d.mean, d.mode, d.variance, d.stddev, d.scale_tril,
                d.covariance_matrix, d.precision_matrix]

    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}  # an inverse of an inverse in float32
    check_against_torch(quantities, quantities, arrays, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("forms", [("covariance_matrix", "scale_tril"), ("precision_matrix", "covariance_matrix")])
def test_kl_divergence(forms, dtype):
    rng = np.random.default_rng(1)
    arrays = _arrays(rng, dtype) + _arrays(rng, dtype, batch=())  # q broadcast over p's batch

    def kl(loc_p, a_p, loc_q, a_q):
        lib = _lib(loc_p)
        return lib.distributions.kl_divergence(_build(forms[0], loc_p, a_p), _build(forms[1], loc_q, a_q))

    check_against_torch(kl, kl, arrays, **(dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}))


def test_batch_shapes_broadcast_and_expand_like_torch():
    for loc_shape, matrix_batch in [((N_EVENT,), (2,)), ((4, 1, N_EVENT), (3,)), ((2, N_EVENT), ())]:
        loc = np.zeros(loc_shape)
        cov = np.broadcast_to(np.eye(N_EVENT) * 2, matrix_batch + (N_EVENT, N_EVENT)).copy()
        s = soma.distributions.MultivariateNormal(soma.tensor(loc), soma.tensor(cov))
        t = torch.distributions.MultivariateNormal(torch.tensor(loc), torch.tensor(cov))
        assert tuple(s.batch_shape) == tuple(t.batch_shape) and tuple(s.event_shape) == tuple(t.event_shape)
        big = (5,) + tuple(t.batch_shape)
        assert tuple(s.expand(big).sample((2,)).shape) == tuple(t.expand(big).sample((2,)).shape)
        np.testing.assert_allclose(s.expand(big).covariance_matrix.numpy(), t.expand(big).covariance_matrix.numpy())


def test_draws_have_the_covariance_and_rsample_is_reparametrized():
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    loc = soma.tensor([1.0, -2.0, 0.5], dtype=soma.float64, requires_grad=True)
    d = soma.distributions.MultivariateNormal(loc, soma.tensor(cov))
    x = d.rsample((20000,))
    assert tuple(x.shape) == (20000, 3) and x.dtype == np.float64
    np.testing.assert_allclose(np.cov(x.detach().numpy().T), cov, atol=0.06)
    np.testing.assert_allclose(x.detach().numpy().mean(0), loc.detach().numpy(), atol=0.05)
    x.sum().backward()  # x = μ + Lε: ∂Σx/∂μ = the number of draws
    np.testing.assert_allclose(loc.grad.numpy(), np.full(3, 20000.0))


BAD = {
    "0-d loc": lambda lib: lib.distributions.MultivariateNormal(lib.tensor(0.0), lib.eye(1)),
    "two matrices": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2), scale_tril=lib.eye(2)),
    "no matrix": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2)),
    "1-d matrix": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2)),
    "not positive definite": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "not symmetric": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.tensor([[1.0, 0.5], [0.0, 1.0]])),
    "scale_tril upper": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), scale_tril=lib.tensor([[1.0, 0.5], [0.0, 1.0]])),
    "value shape": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2)).log_prob(lib.zeros(3)),
    "KL event shapes": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2)),
        lib.distributions.MultivariateNormal(lib.zeros(3), lib.eye(3))),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_like_torch(case):
    raises_like_torch(BAD[case])


def test_positive_definite_constraint_like_torch():
    m = np.array([[[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]]])
    for name in ["positive_definite", "symmetric"]:
        got = getattr(soma.distributions.constraints, name).check(soma.tensor(m))
        want = getattr(torch.distributions.constraints, name).check(torch.tensor(m))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
