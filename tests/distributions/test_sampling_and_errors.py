"""Draws (shapes, dtypes, moments, repeatability under soma.manual_seed), the reparametrization gradient of
rsample, and PyTorch's errors for bad parameters and values outside the support."""

import numpy as np
import pytest
import torch

import soma
from helpers import raises_like_torch

D = soma.distributions
N = 20000


def _families():
    loc, scale = soma.tensor([0.5, -1.0]), soma.tensor([0.7, 2.0])
    probs = soma.tensor([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    return {
        "Normal": D.Normal(loc, scale), "Laplace": D.Laplace(loc, scale), "Uniform": D.Uniform(loc, loc + scale),
        "Exponential": D.Exponential(scale), "Gamma": D.Gamma(scale + 1, scale), "Beta": D.Beta(scale, scale + 1),
        "Bernoulli": D.Bernoulli(probs=soma.tensor([0.2, 0.7])), "Categorical": D.Categorical(probs),
        "OneHotCategorical": D.OneHotCategorical(probs), "Independent": D.Independent(D.Normal(loc, scale), 1),
    }


@pytest.mark.parametrize("name", sorted(_families()))
def test_draws_have_the_shape_dtype_support_and_moments(name):
    d = _families()[name]
    x = d.sample((N,))
    assert tuple(x.shape) == (N,) + tuple(d.batch_shape) + tuple(d.event_shape)
    assert x.dtype == (np.int64 if name == "Categorical" else np.float32) and not x.requires_grad
    assert bool(d.support.check(x).all())
    if name == "Categorical":  # frequencies of each class
        counts = np.stack([(x.numpy() == k).mean(0) for k in range(3)], -1)
        np.testing.assert_allclose(counts, d.probs.numpy(), atol=0.02)
        return
    mean, var = d.mean.numpy(), d.variance.numpy()
    sample = x.numpy().astype(np.float64)
    np.testing.assert_allclose(sample.mean(0), mean, atol=5 * np.sqrt(var.max() / N))  # five standard errors
    np.testing.assert_allclose(sample.var(0), var, rtol=0.1)


@pytest.mark.parametrize("name", sorted(_families()))
def test_manual_seed_repeats_draws(name):
    soma.manual_seed(3)
    first = _families()[name].sample((4,))
    soma.manual_seed(3)
    np.testing.assert_array_equal(_families()[name].sample((4,)).numpy(), first.numpy())


def test_float64_parameters_draw_float64():
    for d in (D.Normal(soma.zeros(2, dtype=soma.float64), 1.0), D.Gamma(soma.ones(2, dtype=soma.float64), 2.0),
              D.Uniform(0.0, soma.ones(2, dtype=soma.float64))):
        assert d.sample((3,)).dtype == np.float64 and d.mean.dtype == np.float64


def _leaf(values):
    return soma.tensor(values, dtype=soma.float64, requires_grad=True)


@pytest.mark.parametrize("name", ["Normal", "Laplace", "Uniform", "Exponential"])
def test_rsample_gradient_is_the_reparametrization(name):
    """x = g(θ, ε): back-propagating x.sum() gives Σ ∂x/∂θ, written from the drawn x."""
    a, b = _leaf([0.3, -0.5]), _leaf([0.8, 1.5])
    if name == "Exponential":
        d = D.Exponential(b)
    else:
        d = getattr(D, name)(a, a + b if name == "Uniform" else b)
    x = d.rsample((50,))
    assert x.requires_grad and d.has_rsample
    x.sum().backward()
    x, a_, b_ = x.detach().numpy(), a.detach().numpy(), b.detach().numpy()
    if name == "Exponential":  # x = ε/λ: ∂x/∂λ = -x/λ
        np.testing.assert_allclose(b.grad.numpy(), (-x / b_).sum(0))
        return
    if name == "Uniform":  # x = low + u (high - low), high = a + b: ∂x/∂a = 1, ∂x/∂b = u = (x - a)/b
        np.testing.assert_allclose(a.grad.numpy(), np.full(2, 50.0))
    else:  # x = loc + scale ε: ∂x/∂loc = 1, ∂x/∂scale = ε = (x - loc)/scale
        np.testing.assert_allclose(a.grad.numpy(), np.full(2, 50.0))
    np.testing.assert_allclose(b.grad.numpy(), ((x - a_) / b_).sum(0))


def test_gamma_rsample_gradient_is_the_implicit_reparametrization():
    """∂x/∂α of each draw against PyTorch's own formula on the same draws (PyTorch's is an approximation to
    ~1e-3); ∂x/∂β = -x/β; and E[∂x/∂α] = ∂E[x]/∂α: 1/β for Gamma, b/(a+b)² for Beta."""
    from soma.distributions.gamma import StandardGamma

    alpha = np.repeat([0.01, 0.3, 1.0, 2.5, 10.0, 150.0], 20)
    a = soma.tensor(alpha, requires_grad=True)
    x = StandardGamma.apply(a)
    x.sum().backward()
    want = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x.detach().numpy()))
    np.testing.assert_allclose(a.grad.numpy(), want.numpy(), rtol=2e-3)
    conc, rate = _leaf([0.5, 4.0]), _leaf([2.0, 0.5])
    x = D.Gamma(conc, rate).rsample((N,))
    x.mean(0).sum().backward()
    np.testing.assert_allclose(conc.grad.numpy(), 1 / rate.detach().numpy(), rtol=0.03)
    np.testing.assert_allclose(rate.grad.numpy(), (-x.detach().numpy() / rate.detach().numpy()).mean(0))
    c1, c0 = _leaf([0.5, 3.0]), _leaf([2.0, 1.0])
    D.Beta(c1, c0).rsample((N,)).mean(0).sum().backward()
    total = (c1 + c0).detach().numpy()
    np.testing.assert_allclose(c1.grad.numpy(), c0.detach().numpy() / total**2, rtol=0.05)
    np.testing.assert_allclose(c0.grad.numpy(), -c1.detach().numpy() / total**2, rtol=0.05)


BAD_PARAMETERS = {
    "Normal scale <= 0": lambda lib: lib.distributions.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 0.0])),
    "Normal NaN loc": lambda lib: lib.distributions.Normal(lib.tensor([float("nan")]), lib.tensor([1.0])),
    "Uniform low >= high": lambda lib: lib.distributions.Uniform(lib.tensor([1.0]), lib.tensor([1.0])),
    "Exponential rate < 0": lambda lib: lib.distributions.Exponential(lib.tensor([-1.0])),
    "Gamma concentration 0": lambda lib: lib.distributions.Gamma(lib.tensor([0.0]), lib.tensor([1.0])),
    "Beta negative": lambda lib: lib.distributions.Beta(lib.tensor([1.0]), lib.tensor([-2.0])),
    "Bernoulli probs > 1": lambda lib: lib.distributions.Bernoulli(probs=lib.tensor([1.5])),
    "Bernoulli both": lambda lib: lib.distributions.Bernoulli(probs=lib.tensor([0.5]), logits=lib.tensor([0.0])),
    "Bernoulli neither": lambda lib: lib.distributions.Bernoulli(),
    "Categorical negative": lambda lib: lib.distributions.Categorical(probs=lib.tensor([0.5, -0.1, 0.6])),
    "Categorical 0-d": lambda lib: lib.distributions.Categorical(logits=lib.tensor(1.0)),
    "Categorical NaN logits": lambda lib: lib.distributions.Categorical(logits=lib.tensor([0.0, float("nan")])),
    "Independent too many dims": lambda lib: lib.distributions.Independent(
        lib.distributions.Normal(lib.zeros(3), lib.ones(3)), 2),
    "not a number": lambda lib: lib.distributions.Normal("a", 1.0),
}


@pytest.mark.parametrize("case", sorted(BAD_PARAMETERS))
def test_bad_parameters_raise_like_torch(case):
    raises_like_torch(BAD_PARAMETERS[case])


def test_parameter_error_names_the_parameter_and_constraint():
    with pytest.raises(ValueError, match=r"Expected parameter scale .*shape \(2,\).* Normal.*GreaterThan\(lower_bound=0"):
        D.Normal(soma.tensor([0.0, 1.0]), soma.tensor([1.0, -1.0]))


BAD_VALUES = {
    "Normal NaN": lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob(lib.tensor([float("nan")])),
    "Exponential negative": lambda lib: lib.distributions.Exponential(lib.tensor([1.0])).log_prob(lib.tensor([-1.0])),
    "Uniform outside": lambda lib: lib.distributions.Uniform(0.0, 1.0).log_prob(lib.tensor([1.5])),
    "Uniform cdf outside": lambda lib: lib.distributions.Uniform(0.0, 1.0).cdf(lib.tensor([-0.5])),
    "Beta outside": lambda lib: lib.distributions.Beta(2.0, 2.0).log_prob(lib.tensor([1.5])),
    "Bernoulli 0.5": lambda lib: lib.distributions.Bernoulli(lib.tensor([0.3])).log_prob(lib.tensor([0.5])),
    "Categorical out of range": lambda lib: lib.distributions.Categorical(lib.ones(3)).log_prob(lib.tensor(3)),
    "OneHot not one-hot": lambda lib: lib.distributions.OneHotCategorical(lib.ones(3)).log_prob(lib.ones(3)),
    "not a tensor": lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob(0.5),
    "wrong event shape": lambda lib: lib.distributions.OneHotCategorical(lib.ones(3)).log_prob(lib.ones(4)),
    "not broadcastable": lambda lib: lib.distributions.Normal(lib.zeros(3), 1.0).log_prob(lib.zeros(2)),
    "Independent outside": lambda lib: lib.distributions.Independent(
        lib.distributions.Exponential(lib.ones(2)), 1).log_prob(lib.tensor([1.0, -1.0])),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_values_outside_the_support_raise_like_torch(case):
    raises_like_torch(BAD_VALUES[case])


def test_validate_args_off_skips_the_checks():
    d = D.Normal(soma.tensor([0.0]), soma.tensor([-1.0]), validate_args=False)
    with np.errstate(invalid="ignore"):  # soma's log of a negative number warns as NumPy's does
        assert np.isnan(d.log_prob(soma.tensor([0.0])).numpy()).all()
    out = D.Exponential(soma.tensor([1.0]), validate_args=False).log_prob(soma.tensor([-1.0]))
    want = torch.distributions.Exponential(torch.tensor([1.0]), validate_args=False).log_prob(torch.tensor([-1.0]))
    np.testing.assert_allclose(out.numpy(), want.numpy())
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)


def test_constraints_check_like_torch():
    C, TC = D.constraints, torch.distributions.constraints
    x = np.array([[-1.0, 0.0, 0.5, 1.0], [2.0, 0.25, 0.25, 0.5]])
    for name in ["real", "positive", "nonnegative", "unit_interval", "boolean", "simplex", "nonnegative_integer",
                 "real_vector", "one_hot"]:
        got, want = getattr(C, name).check(soma.tensor(x)), getattr(TC, name).check(torch.tensor(x))
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=name)
        assert repr(getattr(C, name)).split("(")[0] == repr(getattr(TC, name)).split("(")[0]
    np.testing.assert_array_equal(C.integer_interval(0, 1).check(soma.tensor(x)).numpy(),
                                  TC.integer_interval(0, 1).check(torch.tensor(x)).numpy())
    m = np.array([[[1.0, 0.0], [0.5, 2.0]], [[1.0, 0.3], [0.3, 1.0]], [[-1.0, 0.0], [0.0, 1.0]]])
    for name in ["lower_triangular", "lower_cholesky", "symmetric", "positive_definite"]:
        got, want = getattr(C, name).check(soma.tensor(m)), getattr(TC, name).check(torch.tensor(m))
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=name)
    assert C.simplex.event_dim == 1 and C.boolean.is_discrete and C.is_dependent(C.dependent)


def test_enumerate_support_like_torch():
    for build in (lambda lib: lib.distributions.Bernoulli(lib.tensor([0.2, 0.9])),
                  lambda lib: lib.distributions.Categorical(lib.ones(2, 3)),
                  lambda lib: lib.distributions.OneHotCategorical(lib.ones(2, 3))):
        for expand in (True, False):
            got, want = build(soma).enumerate_support(expand), build(torch).enumerate_support(expand)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
            assert got.dtype == np.dtype(str(want.dtype).replace("torch.", ""))


PATHS = {"normal": "Normal", "laplace": "Laplace", "uniform": "Uniform", "exponential": "Exponential",
         "gamma": "Gamma", "beta": "Beta", "bernoulli": "Bernoulli", "categorical": "Categorical",
         "one_hot_categorical": "OneHotCategorical", "independent": "Independent",
         "multivariate_normal": "MultivariateNormal", "kl": "kl_divergence", "distribution": "Distribution"}


@pytest.mark.parametrize("module", sorted(PATHS))
def test_pytorch_module_paths(module):
    """``from torch.distributions.normal import Normal`` runs unchanged with soma."""
    import importlib

    name = PATHS[module]
    assert hasattr(importlib.import_module(f"torch.distributions.{module}"), name)
    assert getattr(importlib.import_module(f"soma.distributions.{module}"), name) is getattr(D, name)


def test_empty_batches_like_torch():
    for build, value in [(lambda lib: lib.distributions.Normal(lib.zeros(0), lib.ones(0)), (0,)),
                         (lambda lib: lib.distributions.Bernoulli(logits=lib.zeros(0)), (0,)),
                         (lambda lib: lib.distributions.Categorical(logits=lib.zeros(0, 3), validate_args=False), (0,)),
                         (lambda lib: lib.distributions.MultivariateNormal(lib.zeros(0, 2), lib.eye(2),
                                                                           validate_args=False), (0, 2))]:
        s, t = build(soma), build(torch)
        assert tuple(s.sample((2,)).shape) == tuple(t.sample((2,)).shape)
        assert tuple(s.log_prob(soma.zeros(value)).shape) == tuple(t.log_prob(torch.zeros(value)).shape)
        assert tuple(s.entropy().shape) == tuple(t.entropy().shape)
