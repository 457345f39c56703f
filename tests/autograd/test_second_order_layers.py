"""Second order through the activation, loss, dropout, linear, bilinear and embedding kernels.

Their composites (soma.nn.functional.decomp.{activation,loss,layers}) must give, under create_graph=True,
the plain backward's first derivatives and PyTorch's first and second derivatives (float64,
random inputs and parameters).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import soma
import soma.nn.functional as F
from helpers import check_second_derivatives


def randn(*shape, scale=1.0, grad=True):
    return ("randn", shape, scale, grad)


def uniform(*shape, low, high, grad=True):
    return ("uniform", shape, (low, high), grad)


def classes(*shape, high):
    return ("int", shape, high, False)


def choice(*shape, values, grad=False):
    return ("choice", shape, values, grad)


def _arrays(specs, seed):
    rng = np.random.default_rng(seed)
    out = []
    for kind, shape, option, _ in specs:
        if kind == "randn":
            out.append(rng.standard_normal(shape) * option)
        elif kind == "uniform":
            out.append(rng.uniform(*option, shape))
        elif kind == "choice":
            out.append(rng.choice(np.asarray(option), shape))
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


def _check_composites(out):
    """Every kernel in out's graph: its composite, evaluated on the recorded inputs, gives the kernel's values."""
    import soma.nn.functional.decomp  # noqa: F401  (sets the composites)

    seen, stack, checked = set(), [out._ctx], 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(v._ctx for v in node.inputs if isinstance(v, soma.Tensor))
        cls = type(node)
        if cls.composite is not None and cls.__module__.split(".")[-1] in ("activation", "loss", "dropout", "linear"):
            with soma.no_grad():
                expected = cls.apply(*node.inputs, **(node._kwargs or {}))
                found = cls.composite(node, *node.inputs)
            np.testing.assert_allclose(found.numpy(), expected.numpy(), rtol=1e-13, atol=1e-15,
                                       err_msg=f"{cls.__name__}: composite's values")
            checked += 1
    return checked


def check_second_order(fs, ft, specs, seed=0, arrays=None, second=True):
    """Values and create_graph first derivatives against the plain backward and torch, second derivatives
    (``second``) against torch's."""
    arrays = _arrays(specs, seed) if arrays is None else arrays
    s_in, t_in = _leaves(soma, arrays, specs), _leaves(torch, arrays, specs)
    s_out, s_grads, s_scalar = _projected_first(soma, fs, s_in, seed + 1)
    t_out, t_grads, t_scalar = _projected_first(torch, ft, t_in, seed + 1)
    _, plain, _ = _projected_first(soma, fs, s_in, seed + 1, create_graph=False)
    np.testing.assert_allclose(_numpy(s_out), _numpy(t_out), rtol=1e-10, atol=1e-12, err_msg="values")
    _check_composites(s_out)
    for i, (s, p, t) in enumerate(zip(s_grads, plain, t_grads)):
        np.testing.assert_allclose(_numpy(s), _numpy(p), rtol=1e-12, atol=1e-14, err_msg=f"input {i}: plain")
        np.testing.assert_allclose(_numpy(s), _numpy(t), rtol=1e-10, atol=1e-12, err_msg=f"input {i}: torch")
    if not second:
        return
    check_second_derivatives(s_scalar, t_scalar, [t for t in s_in if t.requires_grad],
                             [t for t in t_in if t.requires_grad])


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
    ("swish beta", lambda f: (lambda x: soma.nn.Swish(1.7)(x)) if f is F else lambda x: x * (1.7 * x).sigmoid(), [X]),
    ("softplus", lambda f: lambda x: f.softplus(x, beta=1.5, threshold=2.0), [X]),
    ("logsigmoid", lambda f: f.logsigmoid, [randn(4, 5, scale=4.0)]),
    ("mish", lambda f: f.mish, [X]),
    ("softsign", lambda f: f.softsign, [X]),
    ("hardswish", lambda f: f.hardswish, [randn(4, 5, scale=4.0)]),
]
NO_TORCH_SECOND = [  # torch has no second derivative here, or no derivative for this input at all
    ("hardsigmoid", lambda f: f.hardsigmoid, [randn(4, 5, scale=4.0)]),
    ("bce_with_logits pos_weight grad", lambda f: lambda x, y, pw: f.binary_cross_entropy_with_logits(
        x, y, pos_weight=pw), [randn(3, 4, scale=2.0), uniform(3, 4, low=0, high=1), uniform(4, low=0.5, high=3)]),
]


@pytest.mark.parametrize("name, fn, specs", ACTIVATIONS, ids=[c[0] for c in ACTIVATIONS])
def test_activation_second_order_against_torch(name, fn, specs):
    check_second_order(fn(F), fn(TF), specs)


@pytest.mark.parametrize("name, fn, specs", NO_TORCH_SECOND, ids=[c[0] for c in NO_TORCH_SECOND])
def test_second_order_where_torch_has_none(name, fn, specs):
    arrays = _arrays(specs, 0)
    s_in = _leaves(soma, arrays, specs)
    _, s_grads, _ = _projected_first(soma, fn(F), s_in, 1)
    _, plain, _ = _projected_first(soma, fn(F), s_in, 1, create_graph=False)
    for s, p in zip(s_grads, plain):
        np.testing.assert_allclose(_numpy(s), _numpy(p), rtol=1e-12, atol=1e-14)
    assert soma.autograd.gradgradcheck(fn(F), s_in)


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


LOGITS = randn(6, 4, scale=2.0)
LABELS = classes(6, high=4)
WEIGHT = uniform(4, low=0.2, high=2.0, grad=False)
LOSSES = [
    ("cross_entropy", lambda f: f.cross_entropy, [LOGITS, LABELS]),
    ("cross_entropy weighted sum", lambda f: lambda x, y, w: f.cross_entropy(x, y, w, reduction="sum"),
     [LOGITS, LABELS, WEIGHT]),
    ("cross_entropy ignore smoothing weighted", lambda f: lambda x, y, w: f.cross_entropy(
        x, y, w, ignore_index=1, label_smoothing=0.3), [LOGITS, LABELS, WEIGHT]),
    ("cross_entropy 3-d none smoothing", lambda f: lambda x, y: f.cross_entropy(
        x, y, reduction="none", label_smoothing=0.2), [randn(2, 4, 3), classes(2, 3, high=4)]),
    ("cross_entropy 1-d", lambda f: f.cross_entropy, [randn(5), classes(high=5)]),
    ("cross_entropy all ignored", lambda f: lambda x, y: f.cross_entropy(x, y, ignore_index=0),
     [LOGITS, choice(6, values=[0])]),
    ("cross_entropy probabilities", lambda f: lambda x, p: f.cross_entropy(x, p.softmax(1), label_smoothing=0.1),
     [LOGITS, randn(6, 4)]),
    ("nll_loss", lambda f: lambda x, y: f.nll_loss(x.log_softmax(1), y), [LOGITS, LABELS]),
    ("nll_loss weighted ignore", lambda f: lambda x, y, w: f.nll_loss(x, y, w, ignore_index=2),
     [LOGITS, LABELS, WEIGHT]),
    ("nll_loss 3-d none", lambda f: lambda x, y: f.nll_loss(x, y, reduction="none"),
     [randn(2, 4, 3), classes(2, 3, high=4)]),
    ("binary_cross_entropy", lambda f: f.binary_cross_entropy,
     [uniform(3, 4, low=0.05, high=0.95), uniform(3, 4, low=0.0, high=1.0)]),
    ("binary_cross_entropy weighted sum", lambda f: lambda p, y, w: f.binary_cross_entropy(p, y, w, reduction="sum"),
     [uniform(3, 4, low=0.05, high=0.95), choice(3, 4, values=[0.0, 1.0]),
      uniform(3, 4, low=0.5, high=2.0, grad=False)]),
    ("bce_with_logits", lambda f: f.binary_cross_entropy_with_logits,
     [randn(3, 4, scale=3.0), uniform(3, 4, low=0, high=1)]),
    ("bce_with_logits pos_weight weight", lambda f: lambda x, y, w, pw: f.binary_cross_entropy_with_logits(
        x, y, w, pos_weight=pw, reduction="none"),
     [randn(3, 4, scale=3.0), uniform(3, 4, low=0, high=1), uniform(4, low=0.5, high=2, grad=False),
      uniform(4, low=0.5, high=3, grad=False)]),
    ("huber", lambda f: lambda x, y: f.huber_loss(x, y, delta=0.8), [randn(3, 4), randn(3, 4)]),
    ("huber broadcast none", lambda f: lambda x, y: f.huber_loss(x, y.expand(3, 4), reduction="none", delta=1.3),
     [randn(3, 4, scale=2.0), randn(1, 4)]),
    ("smooth_l1", lambda f: lambda x, y: f.smooth_l1_loss(x, y, beta=0.5, reduction="sum"), [randn(3, 4), randn(3, 4)]),
    ("kl_div batchmean", lambda f: lambda x, y: f.kl_div(x.log_softmax(1), y.softmax(1), reduction="batchmean"),
     [randn(3, 4), randn(3, 4)]),
    ("kl_div log_target", lambda f: lambda x, y: f.kl_div(x, y, reduction="none", log_target=True),
     [randn(3, 4), randn(3, 4)]),
    ("kl_div zeros in target", lambda f: lambda x, y: f.kl_div(x, y, reduction="sum"),
     [randn(3, 4), choice(3, 4, values=[0.0, 0.25, 0.5])]),
    ("soft_margin", lambda f: f.soft_margin_loss, [randn(3, 4, scale=2.0), choice(3, 4, values=[-1.0, 1.0])]),
]


def test_binary_cross_entropy_at_saturated_probabilities_is_torchs():
    """p exactly 0 or 1 (a saturated sigmoid): the kernel's and torch's slope (p - y)/max(p(1 - p), 1e-12)."""
    p = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.9])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.6, 0.1])
    check_second_order(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"),
                       lambda a, b: TF.binary_cross_entropy(a, b, reduction="sum"),
                       [randn(6), randn(6, grad=False)], arrays=[p, y])
    # a wrong certain prediction: slope ∓y·10¹² (torch's second derivative there is ~10²⁴, soma's 0)
    check_second_order(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"),
                       lambda a, b: TF.binary_cross_entropy(a, b, reduction="sum"),
                       [randn(4), randn(4, grad=False)],
                       arrays=[np.array([0.0, 1.0, 0.5, 1e-13]), np.array([0.5, 0.2, 1.0, 0.0])],
                       second=False)


@pytest.mark.parametrize("name, fn, specs", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_second_order_against_torch(name, fn, specs):
    with np.errstate(invalid="ignore"):  # every target ignored: the mean is 0/0
        check_second_order(fn(F), fn(TF), specs)


LAYERS = [
    ("linear", lambda f: f.linear, [randn(5, 3), randn(4, 3), randn(4)]),
    ("linear 3-d no bias", lambda f: lambda x, w: f.linear(x, w).tanh(), [randn(2, 5, 3), randn(4, 3)]),
    ("linear squared", lambda f: lambda x, w, b: f.linear(x, w, b) ** 2, [randn(5, 3), randn(4, 3), randn(4)]),
    ("bilinear", lambda f: lambda a, b, w, c: f.bilinear(a, b, w, c) ** 2,
     [randn(5, 3), randn(5, 2), randn(4, 3, 2), randn(4)]),
    ("bilinear 3-d no bias", lambda f: lambda a, b, w: f.bilinear(a, b, w).sin(),
     [randn(2, 5, 3), randn(2, 5, 2), randn(4, 3, 2)]),
    ("embedding", lambda f: lambda i, w: f.embedding(i, w) ** 2, [classes(3, 4, high=6), randn(6, 3)]),
    # y·Σw²: the first derivative's dependence on w reaches the padding positions too
    ("embedding padding_idx", lambda f: lambda i, w: f.embedding(i, w, padding_idx=2) * (w * w).sum(),
     [classes(3, 4, high=6), randn(6, 3)]),
    ("embedding scale_grad_by_freq", lambda f: lambda i, w: f.embedding(
        i, w, padding_idx=1, scale_grad_by_freq=True) ** 2 * w.sum(), [classes(3, 4, high=5), randn(5, 3)]),
]


@pytest.mark.parametrize("name, fn, specs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_second_order_against_torch(name, fn, specs):
    check_second_order(fn(F), fn(TF), specs)


def _seeded(fn, seed=7):
    """fn with soma's generator reset before each call: the same dropout mask every time."""
    def call(*args):
        soma.manual_seed(seed)
        return fn(*args)
    return call


@pytest.mark.parametrize("name, dropout, shape", [
    ("dropout", lambda x: F.dropout(x, 0.4), (4, 5)),
    ("dropout2d", lambda x: F.dropout2d(x, 0.5), (3, 4, 2, 2)),
])
def test_dropout_second_order_uses_the_recorded_mask(name, dropout, shape):
    mask = _seeded(dropout)(soma.ones(*shape, dtype=soma.float64)).numpy()
    assert 0 < (mask == 0).sum() < mask.size
    fs = _seeded(lambda x: dropout(x) * x.sin())
    check_second_order(fs, lambda x: x * torch.tensor(mask) * x.sin(), [randn(*shape)])


def test_heaviside_second_order_against_torchs_straight_through_trick():
    def straight_through(x):
        return x + ((x >= 0.2).double() - x).detach()

    check_second_order(lambda x: F.heaviside(x, 0.2, straight_through=True) * x.exp(),
                       lambda x: straight_through(x) * x.exp(), [randn(3, 4)])
    check_second_order(lambda x: F.heaviside(x, 0.2) * x.exp(), lambda x: (x >= 0.2).double() * x.exp(),
                       [randn(3, 4)])


def _critic(lib, seed):
    """An MLP critic (Linear, LeakyReLU, Dropout in eval) with the same random weights in soma and torch."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(8, 8), nn.LeakyReLU(0.2),
                          nn.Linear(8, 1)).double().eval()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    return model


@pytest.mark.parametrize("loss", ["wasserstein", "bce_with_logits", "mse"])
def test_wgan_gp_gradient_penalty_matches_torch(loss):
    """WGAN-GP: E = critic loss + λ·(‖∂D(x̂)/∂x̂‖ - 1)², x̂ between real and fake samples; its parameter
    gradients need the second derivatives of every layer."""
    rng = np.random.default_rng(0)
    real, fake, alpha = rng.standard_normal((6, 3)), rng.standard_normal((6, 3)), rng.uniform(size=(6, 1))
    results = []
    for lib, functional in ((soma, F), (torch, TF)):
        critic = _critic(lib, 1)
        r, f = lib.tensor(real), lib.tensor(fake)
        mixed = (lib.tensor(alpha) * r + (1 - lib.tensor(alpha)) * f).requires_grad_()
        (slope,) = lib.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
        penalty = ((slope.norm(2, dim=1) - 1) ** 2).mean()
        d_real, d_fake = critic(r), critic(f)
        if loss == "wasserstein":
            critic_loss = d_fake.mean() - d_real.mean()
        elif loss == "bce_with_logits":
            critic_loss = functional.binary_cross_entropy_with_logits(
                lib.cat([d_real, d_fake]), lib.cat([lib.ones(6, 1), lib.zeros(6, 1)]).double())
        else:
            critic_loss = functional.mse_loss(d_real, lib.ones(6, 1).double()) + (d_fake ** 2).mean()
        (critic_loss + 10 * penalty).backward()
        results.append([p.grad.numpy() for p in critic.parameters()])
        assert np.all([np.any(g) for g in results[-1][::2]])
    for s, t in zip(*results):
        np.testing.assert_allclose(s, t, rtol=1e-10, atol=1e-12)


NON_FINITE = np.array([np.nan, np.inf, -np.inf, 0.0, -1.0, 2.0, 40.0, -800.0])


@pytest.mark.parametrize("name, fn, specs", [c for c in ACTIVATIONS + NO_TORCH_SECOND[:1] if len(c[2]) == 1],
                         ids=[c[0] for c in ACTIVATIONS + NO_TORCH_SECOND[:1] if len(c[2]) == 1])
def test_non_finite_inputs_give_the_kernels_first_derivatives(name, fn, specs):
    x = soma.tensor(NON_FINITE, requires_grad=True)
    with np.errstate(all="ignore"):
        _, (recorded,), scalar = _projected_first(soma, fn(F), [x], 1)
        _, (plain,), _ = _projected_first(soma, fn(F), [x], 1, create_graph=False)
        np.testing.assert_allclose(_numpy(recorded), _numpy(plain), rtol=1e-12, atol=1e-14)
        if isinstance(scalar, soma.Tensor):
            (second,) = soma.autograd.grad(scalar, x, allow_unused=True)
            assert second is None or second.shape == x.shape


ALL = ACTIVATIONS + LOSSES + LAYERS


@pytest.mark.parametrize("name, fn, specs", ALL, ids=[c[0] for c in ALL])
def test_float32_recorded_first_derivatives_are_the_plain_ones(name, fn, specs):
    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in _arrays(specs, 3)]
    leaves = _leaves(soma, arrays, specs)
    with np.errstate(invalid="ignore"):
        _, recorded, _ = _projected_first(soma, fn(F), leaves, 4)
        _, plain, _ = _projected_first(soma, fn(F), leaves, 4, create_graph=False)
    for r, p in zip(recorded, plain):
        assert r.dtype == p.dtype == soma.float32
        np.testing.assert_allclose(_numpy(r), _numpy(p), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name, fn", [
    ("elu", lambda x, w: F.elu(x)),
    ("softplus", lambda x, w: F.softplus(x)),
    ("cross_entropy sum", lambda x, w: F.cross_entropy(x, soma.zeros(0, dtype=soma.int64), reduction="sum")),
    ("linear", lambda x, w: F.linear(x, w) ** 2),
    ("bce_with_logits", lambda x, w: F.binary_cross_entropy_with_logits(x, x.detach(), reduction="sum")),
])
def test_empty_inputs_differentiate_twice(name, fn):
    x = soma.zeros(0, 4, dtype=soma.float64, requires_grad=True)
    w = soma.randn(3, 4, dtype=soma.float64, requires_grad=True)
    (first,) = soma.autograd.grad(fn(x, w).sum(), x, create_graph=True)
    assert first.shape == (0, 4)
    if first.requires_grad:
        second = soma.autograd.grad((first * 2).sum(), [x, w], allow_unused=True)
        assert second[0] is None or second[0].shape == (0, 4)


def test_hessian_vector_product_of_a_classifier_matches_torch():
    """hvp of a label-smoothed cross-entropy through Linear, GELU, Linear, w.r.t. the input and both weights."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s) for s in ((4, 3), (6, 3), (6,), (5, 6))]
    vectors = [rng.standard_normal(a.shape) for a in arrays]
    labels = rng.integers(0, 5, 4)
    results = []
    for lib, functional in ((soma, F), (torch, TF)):
        def loss(x, w1, b1, w2, lib=lib, functional=functional):
            hidden = functional.gelu(functional.linear(x, w1, b1), approximate="tanh")
            return functional.cross_entropy(functional.linear(hidden, w2), lib.tensor(labels), label_smoothing=0.1)

        value, product = lib.autograd.functional.hvp(loss, tuple(lib.tensor(a) for a in arrays),
                                                     tuple(lib.tensor(v) for v in vectors))
        results.append([value.detach().numpy()] + [p.detach().numpy() for p in product])
    for s, t in zip(*results):
        np.testing.assert_allclose(s, t, rtol=1e-10, atol=1e-12)


GRADGRADCHECKED = ["elu", "gelu", "softplus", "mish", "prelu", "cross_entropy ignore smoothing weighted",
                   "binary_cross_entropy", "bce_with_logits pos_weight weight", "huber broadcast none",
                   "kl_div log_target", "bilinear", "linear 3-d no bias"]


@pytest.mark.parametrize("name", GRADGRADCHECKED)
def test_gradgradcheck(name):
    (_, fn, specs) = next(c for c in ALL if c[0] == name)
    assert soma.autograd.gradgradcheck(fn(F), _leaves(soma, _arrays(specs, 8), specs))
