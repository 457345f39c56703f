"""Every distribution's log_prob, entropy, moments, cdf/icdf and kl_divergence against torch.distributions:
values and gradients with respect to the parameters, in float32 and float64, on random parameters."""

import numpy as np
import pytest
import torch

import soma
from helpers import check_against_torch
from soma.autograd import gradcheck

SHAPE = (3, 4)


def _positive(rng, shape=SHAPE):
    return rng.uniform(0.5, 2.5, shape)


def _probs(rng, shape=SHAPE):
    return rng.uniform(0.05, 0.95, shape)


def _one_hot(rng, shape=SHAPE):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]


# name: (parameters(rng), build(lib, *params), value(rng, params) as NumPy, has cdf/icdf)
CASES = {
    "Normal": (lambda r: [r.standard_normal(SHAPE), _positive(r)],
               lambda lib, loc, scale: lib.distributions.Normal(loc, scale),
               lambda r, p: r.standard_normal(SHAPE) * 2, True),
    "Laplace": (lambda r: [r.standard_normal(SHAPE), _positive(r)],
                lambda lib, loc, scale: lib.distributions.Laplace(loc, scale),
                lambda r, p: r.standard_normal(SHAPE) * 2, True),
    "Uniform": (lambda r: [(low := r.standard_normal(SHAPE)), low + _positive(r)],
                lambda lib, low, high: lib.distributions.Uniform(low, high),
                lambda r, p: p[0] + r.uniform(0, 1, SHAPE) * (p[1] - p[0]), True),
    "Exponential": (lambda r: [_positive(r)], lambda lib, rate: lib.distributions.Exponential(rate),
                    lambda r, p: _positive(r), True),
    "Gamma": (lambda r: [_positive(r), _positive(r)],
              lambda lib, alpha, beta: lib.distributions.Gamma(alpha, beta),
              lambda r, p: _positive(r), False),
    "Beta": (lambda r: [_positive(r), _positive(r)],
             lambda lib, a, b: lib.distributions.Beta(a, b), lambda r, p: _probs(r), False),
    "Bernoulli": (lambda r: [_probs(r)], lambda lib, p: lib.distributions.Bernoulli(probs=p),
                  lambda r, p: r.integers(0, 2, SHAPE).astype(float), False),
    "BernoulliLogits": (lambda r: [r.standard_normal(SHAPE)], lambda lib, x: lib.distributions.Bernoulli(logits=x),
                        lambda r, p: r.integers(0, 2, SHAPE).astype(float), False),
    "Categorical": (lambda r: [_positive(r)], lambda lib, p: lib.distributions.Categorical(probs=p),
                    lambda r, p: r.integers(0, SHAPE[-1], (2, SHAPE[0])), False),
    "CategoricalLogits": (lambda r: [r.standard_normal(SHAPE)],
                          lambda lib, x: lib.distributions.Categorical(logits=x),
                          lambda r, p: r.integers(0, SHAPE[-1], (2, SHAPE[0])), False),
    "OneHotCategorical": (lambda r: [r.standard_normal(SHAPE)],
                          lambda lib, x: lib.distributions.OneHotCategorical(logits=x),
                          lambda r, p: _one_hot(r), False),
    "Independent": (lambda r: [r.standard_normal(SHAPE), _positive(r)],
                    lambda lib, loc, scale: lib.distributions.Independent(lib.distributions.Normal(loc, scale), 1),
                    lambda r, p: r.standard_normal(SHAPE), False),
}


def _setup(name, dtype, seed=0):
    params_of, build, value_of, has_cdf = CASES[name]
    rng = np.random.default_rng(seed)
    params = [np.asarray(p, dtype=dtype) for p in params_of(rng)]
    value = np.asarray(value_of(rng, params))
    return params, build, value.astype(dtype) if value.dtype.kind == "f" else value, has_cdf, rng


def _lib(tensor):
    return torch if isinstance(tensor, torch.Tensor) else soma


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_entropy_moments(name, dtype):
    params, build, value, has_cdf, rng = _setup(name, dtype)

    def quantities(*ps):
        lib = _lib(ps[0])
        d = build(lib, *ps)
        x = lib.tensor(value)
        out = [d.log_prob(x), d.entropy(), d.mean, d.variance, d.stddev]
        if has_cdf:
            out += [d.cdf(x), d.icdf(lib.tensor(rng_u))]
        return [o for o in out if not lib.isnan(o).any()]  # Categorical's mean and variance are NaN

    rng_u = rng.uniform(0.05, 0.95, SHAPE).astype(dtype)
    check_against_torch(quantities, quantities, params, **_tolerance(name, dtype))


def _tolerance(name, dtype):
    """Entropy's gradient needs the trigamma function, which PyTorch computes to ~1e-9 relative (soma's matches
    mpmath to 1e-15), so Gamma and Beta are compared to 1e-8 in float64."""
    return dict(rtol=1e-8) if name in ("Gamma", "Beta") and dtype == np.float64 else {}


@pytest.mark.parametrize("name", sorted(CASES))
def test_mode_batch_event_shapes_and_expand(name):
    params, build, value, _, _ = _setup(name, np.float64)
    s = build(soma, *[soma.tensor(p) for p in params])
    t = build(torch, *[torch.tensor(p) for p in params])
    assert tuple(s.batch_shape) == tuple(t.batch_shape) and tuple(s.event_shape) == tuple(t.event_shape)
    assert s.has_rsample == t.has_rsample
    np.testing.assert_allclose(s.mode.numpy(), t.mode.numpy())
    big = (2,) + tuple(t.batch_shape)
    se, te = s.expand(big), t.expand(big)
    assert tuple(se.batch_shape) == tuple(te.batch_shape) and tuple(se.event_shape) == tuple(te.event_shape)
    np.testing.assert_allclose(se.log_prob(soma.tensor(value)).numpy(), te.log_prob(torch.tensor(value)).numpy(),
                               rtol=1e-10)
    assert tuple(se.sample((5,)).shape) == (5,) + tuple(te.sample().shape)


KL_CASES = ["Normal", "Laplace", "Uniform", "Exponential", "Gamma", "Beta", "Bernoulli", "BernoulliLogits",
            "Categorical", "CategoricalLogits", "OneHotCategorical", "Independent"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", KL_CASES)
def test_kl_divergence(name, dtype):
    params_of, build = CASES[name][:2]
    rng = np.random.default_rng(1)
    p_params, q_params = params_of(rng), params_of(rng)
    if name == "Uniform":  # q's interval holds p's, so the divergence is finite
        q_params = [p_params[0] - 0.5, p_params[1] + 0.5]
    arrays = [np.asarray(a, dtype=dtype) for a in p_params + q_params]
    n = len(p_params)

    def kl(*ps):
        lib = _lib(ps[0])
        return lib.distributions.kl_divergence(build(lib, *ps[:n]), build(lib, *ps[n:]))

    check_against_torch(kl, kl, arrays, **_tolerance(name, dtype))


def test_kl_infinite_where_supports_differ():
    for lib in (torch, soma):
        D = lib.distributions
        out = D.kl_divergence(D.Uniform(lib.tensor([0.0, 0.0]), lib.tensor([1.0, 2.0])),
                              D.Uniform(lib.tensor([0.5, -1.0]), lib.tensor([1.0, 3.0])))
        cat = D.kl_divergence(D.Categorical(lib.tensor([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])),
                              D.Categorical(lib.tensor([[0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])))
        bern = D.kl_divergence(D.Bernoulli(lib.tensor([0.0, 0.5, 0.0, 1.0])), D.Bernoulli(lib.tensor([0.5, 1.0, 0.0, 1.0])))
        if lib is torch:
            expected = [o.numpy() for o in (out, cat, bern)]
        else:
            for got, want in zip((out, cat, bern), expected):
                np.testing.assert_allclose(got.numpy(), want)
    assert np.isinf(expected[0][0]) and np.isinf(expected[1][0]) and np.isinf(expected[2][1])
    assert np.isfinite(expected[1][1]) and np.isfinite(expected[2][[0, 2, 3]]).all()  # 0 log 0 = 0


def test_beta_mode_at_the_edges():
    a, b = [0.5, 2.0, 1.0, 0.5, 1.0], [0.7, 1.0, 0.5, 3.0, 1.0]
    want = torch.distributions.Beta(torch.tensor(a), torch.tensor(b)).mode.numpy()
    np.testing.assert_allclose(soma.distributions.Beta(soma.tensor(a), soma.tensor(b)).mode.numpy(), want)


def test_register_kl_most_specific_rule():
    D = soma.distributions

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return soma.zeros(p.batch_shape)

    p = MyNormal(soma.tensor([0.0]), soma.tensor([1.0]))
    q = D.Normal(soma.tensor([3.0]), soma.tensor([1.0]))
    assert float(D.kl_divergence(p, q)) == 0.0
    assert float(D.kl_divergence(q, p)) == 4.5  # Normal-Normal still applies with MyNormal as q
    with pytest.raises(NotImplementedError):
        D.kl_divergence(p, D.Exponential(soma.tensor([1.0])))


@pytest.mark.parametrize("name", ["Normal", "Laplace", "Gamma", "Beta", "BernoulliLogits", "CategoricalLogits"])
def test_gradcheck_float64(name):
    params, build, value, _, _ = _setup(name, np.float64)
    params = [soma.tensor(p[:2], requires_grad=True) for p in params]
    x = soma.tensor(value[:, :2] if name == "CategoricalLogits" else value[:2])

    def fn(*ps):
        d = build(soma, *ps)
        return d.log_prob(x).sum() + d.entropy().sum()

    assert gradcheck(fn, params)


@pytest.mark.parametrize("name", ["Normal", "Laplace", "Uniform", "Exponential", "Gamma", "Beta", "Independent"])
def test_log_prob_and_cdf_gradient_in_the_value(name):
    params, build, value, has_cdf, _ = _setup(name, np.float64, seed=2)

    def fn(x, *ps):
        d = build(_lib(x), *ps)
        return [d.log_prob(x)] + ([d.cdf(x)] if has_cdf else [])

    check_against_torch(fn, fn, [value] + params)
