"""Second order through the activation, loss, dropout, linear, bilinear and embedding kernels.

Their composites (soma.ops.decomp.{activation,loss,layers}) must give, under create_graph=True,
the plain backward's first derivatives and PyTorch's first and second derivatives (float64,
random inputs and parameters).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import soma
import soma.nn.functional as F


def randn(*shape, scale=1.0, grad=True):
    return ("randn", shape, scale, grad)


def uniform(*shape, low, high, grad=True):
    return ("uniform", shape, (low, high), grad)


def classes(*shape, high):
    return ("int", shape, high, False)


def _arrays(specs, seed):
    rng = np.random.default_rng(seed)
    out = []
    for kind, shape, option, _ in specs:
        if kind == "randn":
            out.append(rng.standard_normal(shape) * option)
        elif kind == "uniform":
            out.append(rng.uniform(*option, shape))
        else:
            out.append(rng.integers(0, option, shape))
    return out


def _leaves(lib, arrays, specs):
    return [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a, (*_, grad) in zip(arrays, specs)]


def _projected_first(lib, fn, leaves, seed, create_graph=True):
    """∂(vᵀfn)/∂x for the leaves that require grad, and a random projection uᵀ of those derivatives."""
    out = fn(*leaves)
    rng = np.random.default_rng(seed)
    total = (out * lib.tensor(rng.standard_normal(tuple(out.shape)))).sum()
    wanted = [t for t in leaves if t.requires_grad]
    grads = lib.autograd.grad(total, wanted, create_graph=create_graph, allow_unused=True)
    scalar = 0
    for g in grads:
        if g is not None and g.requires_grad:
            scalar = scalar + (g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum()
    return out, grads, scalar


def _numpy(t):
    return None if t is None else t.detach().numpy()


def check_second_order(fs, ft, specs, seed=0, torch_second=True, arrays=None):
    """Values and create_graph first derivatives against the plain backward and torch; second derivatives
    against torch's (``torch_second``) or, where torch has none, finite differences (gradgradcheck)."""
    arrays = _arrays(specs, seed) if arrays is None else arrays
    s_in, t_in = _leaves(soma, arrays, specs), _leaves(torch, arrays, specs)
    s_out, s_grads, s_scalar = _projected_first(soma, fs, s_in, seed + 1)
    t_out, t_grads, t_scalar = _projected_first(torch, ft, t_in, seed + 1)
    _, plain, _ = _projected_first(soma, fs, s_in, seed + 1, create_graph=False)
    np.testing.assert_allclose(_numpy(s_out), _numpy(t_out), rtol=1e-10, atol=1e-12, err_msg="values")
    for i, (s, p, t) in enumerate(zip(s_grads, plain, t_grads)):
        np.testing.assert_allclose(_numpy(s), _numpy(p), rtol=1e-12, atol=1e-14, err_msg=f"input {i}: plain")
        np.testing.assert_allclose(_numpy(s), _numpy(t), rtol=1e-10, atol=1e-12, err_msg=f"input {i}: torch")
    wanted_s = [t for t in s_in if t.requires_grad]
    wanted_t = [t for t in t_in if t.requires_grad]
    if not torch_second:
        assert soma.autograd.gradgradcheck(fs, s_in)
        return
    if not isinstance(t_scalar, torch.Tensor) or not t_scalar.requires_grad:
        assert not isinstance(s_scalar, soma.Tensor) or not s_scalar.requires_grad, "soma has a graph torch has not"
        return
    s_second = soma.autograd.grad(s_scalar, wanted_s, allow_unused=True)
    t_second = torch.autograd.grad(t_scalar, wanted_t, allow_unused=True)
    for i, (s, t) in enumerate(zip(s_second, t_second)):
        if t is not None and t._is_zerotensor():
            t = torch.zeros(t.shape, dtype=t.dtype)
        if t is None:
            assert s is None or not np.any(s.numpy()), f"input {i}: torch has no second derivative"
            continue
        assert s is not None, f"input {i}: soma has no second derivative, torch has"
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-9, atol=1e-11, err_msg=f"input {i}: second")


X = randn(4, 5, scale=2.0)
ACTIVATIONS = [
    ("leaky_relu", lambda f: lambda x: f.leaky_relu(x, 0.2), [X]),
    ("elu", lambda f: lambda x: f.elu(x, 0.7), [X]),
    ("selu", lambda f: f.selu, [X]),
    ("celu", lambda f: lambda x: f.celu(x, 1.5), [X]),
    ("hardtanh", lambda f: lambda x: f.hardtanh(x, -1.5, 2.0), [X]),
    ("relu6", lambda f: f.relu6, [randn(4, 5, scale=5.0)]),
    ("threshold", lambda f: lambda x: f.threshold(x, 0.3, -2.0), [X]),
    ("prelu", lambda f: f.prelu, [randn(3, 4, 2, scale=2.0), uniform(4, low=0.1, high=0.5)]),
    ("prelu shared", lambda f: f.prelu, [randn(3, 4, scale=2.0), uniform(1, low=0.1, high=0.5)]),
    ("gelu", lambda f: f.gelu, [X]),
    ("gelu tanh", lambda f: lambda x: f.gelu(x, approximate="tanh"), [X]),
    ("silu", lambda f: f.silu, [X]),
    ("softplus", lambda f: lambda x: f.softplus(x, beta=1.5, threshold=2.0), [X]),
    ("logsigmoid", lambda f: f.logsigmoid, [randn(4, 5, scale=4.0)]),
    ("mish", lambda f: f.mish, [X]),
    ("softsign", lambda f: f.softsign, [X]),
    ("hardswish", lambda f: f.hardswish, [randn(4, 5, scale=4.0)]),
]
NO_TORCH_SECOND = [  # torch: "derivative for aten::hardsigmoid_backward is not implemented"
    ("hardsigmoid", lambda f: f.hardsigmoid, [randn(4, 5, scale=4.0)]),
]


@pytest.mark.parametrize("name, fn, specs", ACTIVATIONS, ids=[c[0] for c in ACTIVATIONS])
def test_activation_second_order_against_torch(name, fn, specs):
    check_second_order(fn(F), fn(TF), specs)


@pytest.mark.parametrize("name, fn, specs", NO_TORCH_SECOND, ids=[c[0] for c in NO_TORCH_SECOND])
def test_second_order_where_torch_has_none(name, fn, specs):
    check_second_order(fn(F), fn(TF), specs, torch_second=False)


KINKS = np.array([-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.3, 1.0, 2.0, 3.0, 6.0, 25.0])
AT_KINKS = [
    ("leaky_relu", lambda f: lambda x: f.leaky_relu(x, 0.2)),
    ("elu", lambda f: f.elu),
    ("hardtanh", lambda f: lambda x: f.hardtanh(x, -1.5, 2.0)),
    ("relu6", lambda f: f.relu6),
    ("threshold", lambda f: lambda x: f.threshold(x, 0.3, -2.0)),
    ("softplus", lambda f: lambda x: f.softplus(x, beta=2.0, threshold=12.0)),
    ("logsigmoid", lambda f: f.logsigmoid),
    ("hardswish", lambda f: f.hardswish),
]


@pytest.mark.parametrize("name, fn", AT_KINKS, ids=[c[0] for c in AT_KINKS])
def test_first_derivative_at_the_kinks_is_torchs(name, fn):
    check_second_order(fn(F), fn(TF), [randn(12)], arrays=[KINKS.copy()])
