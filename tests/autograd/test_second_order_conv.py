"""Second derivatives (create_graph=True) through the convolution, pooling, fold, resize, normalization and
attention kernels, against PyTorch in float64; then a WGAN-GP penalty and a Hessian-vector product on a CNN.

Each case: the first derivatives recorded under create_graph equal the plain backward's and torch's, and the
derivatives of a random projection of them, w.r.t. the inputs and the parameters, equal torch's. The kernels'
composites (soma.nn.functional.decomp) must also give the kernels' own forward values.
"""

import datetime
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch.nn.attention import SDPBackend, sdpa_kernel

import soma
import soma.nn.functional as SF
from helpers import copy_weights_from_torch, graph_nodes, randomize_module

rng = np.random.default_rng(7)
RUNNING_MEAN, RUNNING_VAR = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
FLOAT_MASK = rng.standard_normal((4, 5))
BOOL_MASK = rng.random((2, 1, 4, 5)) > 0.4
BOOL_MASK[0, 0, 1] = False  # a query that sees no key: zero weights, zero derivatives


def _f(lib):
    return SF if lib is soma else TF


def _running(lib):
    return lib.tensor(RUNNING_MEAN), lib.tensor(RUNNING_VAR)


X4, X3 = (2, 4, 7, 6), (2, 3, 9)
# (name, fn(lib, *tensors), input shapes); the inputs are standard normal, "ties" rounds them
CASES = [
    ("conv2d stride padding dilation groups bias",
     lambda lib, x, w, b: _f(lib).conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
     [X4, (6, 2, 3, 2), (6,)]),
    ("conv2d same, uneven padding", lambda lib, x, w: _f(lib).conv2d(x, w, padding="same", dilation=(1, 2)),
     [X4, (3, 4, 2, 3)]),
    ("conv2d circular padding mode",
     lambda lib, x, w: _f(lib).conv2d(_f(lib).pad(x, (1, 1, 2, 2), mode="circular"), w), [X4, (3, 4, 3, 3)]),
    ("conv2d empty batch", lambda lib, x, w, b: _f(lib).conv2d(x, w, b, padding=1), [(0, 4, 5, 5), (3, 4, 3, 3), (3,)]),
    ("conv1d stride padding", lambda lib, x, w, b: _f(lib).conv1d(x, w, b, stride=2, padding=1),
     [X3, (4, 3, 3), (4,)]),
    ("conv1d depthwise", lambda lib, x, w: _f(lib).conv1d(x, w, groups=3, dilation=2), [X3, (6, 1, 3)]),
    ("conv_transpose2d stride padding output_padding dilation groups",
     lambda lib, x, w, b: _f(lib).conv_transpose2d(x, w, b, stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                                                   groups=2, dilation=(1, 2)),
     [X4, (4, 3, 3, 2), (6,)]),
    ("conv_transpose1d padding beyond the kernel",
     lambda lib, x, w: _f(lib).conv_transpose1d(x, w, stride=2, padding=3), [X3, (3, 2, 3)]),
    ("unfold", lambda lib, x: _f(lib).unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)) ** 2, [X4]),
    ("fold", lambda lib, c: _f(lib).fold(c, (5, 6), 2, stride=(2, 1)) ** 2, [(2, 8, 10)]),
    ("max_pool2d padding dilation ceil_mode",
     lambda lib, x: _f(lib).max_pool2d(x, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), ceil_mode=True) ** 2,
     [X4]),
    ("max_pool2d ties", lambda lib, x: _f(lib).max_pool2d(x, 3, stride=1) ** 2, ["ties", X4]),
    ("max_pool2d return_indices", lambda lib, x: _f(lib).max_pool2d(x, 2, return_indices=True)[0] ** 2, [X4]),
    ("max_pool1d", lambda lib, x: _f(lib).max_pool1d(x, 3, stride=2, padding=1, ceil_mode=True) ** 2, [X3]),
    ("avg_pool2d count_include_pad=False ceil_mode",
     lambda lib, x: _f(lib).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False) ** 2, [X4]),
    ("avg_pool2d divisor_override", lambda lib, x: _f(lib).avg_pool2d(x, 3, 2, 1, divisor_override=5) ** 2, [X4]),
    ("avg_pool1d", lambda lib, x: _f(lib).avg_pool1d(x, 3, stride=2, padding=1) ** 2, [X3]),
    ("adaptive_avg_pool2d", lambda lib, x: _f(lib).adaptive_avg_pool2d(x, (3, 4)) ** 2, [X4]),
    ("interpolate nearest", lambda lib, x: _f(lib).interpolate(x, size=(9, 4)) ** 2, [X4]),
    ("interpolate nearest-exact", lambda lib, x: _f(lib).interpolate(x, scale_factor=1.5, mode="nearest-exact") ** 2,
     [X4]),
    ("interpolate bilinear align_corners",
     lambda lib, x: _f(lib).interpolate(x, size=(9, 4), mode="bilinear", align_corners=True) ** 2, [X4]),
    ("interpolate bicubic", lambda lib, x: _f(lib).interpolate(x, size=(9, 4), mode="bicubic") ** 2, [X4]),
    ("interpolate linear", lambda lib, x: _f(lib).interpolate(x, scale_factor=1.7, mode="linear") ** 2, [X3]),
    ("batch_norm training",
     lambda lib, x, w, b: _f(lib).batch_norm(x, *_running(lib), w, b, training=True, eps=1e-3) ** 2,
     [(4, 3, 5, 2), (3,), (3,)]),
    ("batch_norm running statistics",
     lambda lib, x, w, b: _f(lib).batch_norm(x, *_running(lib), w, b, training=False) ** 2,
     [(4, 3, 5, 2), (3,), (3,)]),
    ("batch_norm no statistics no affine", lambda lib, x: _f(lib).batch_norm(x, None, None, training=True) ** 2,
     [(5, 3)]),
    ("layer_norm", lambda lib, x, w, b: _f(lib).layer_norm(x, (5, 2), w, b) ** 2, [(4, 3, 5, 2), (5, 2), (5, 2)]),
    ("layer_norm empty batch", lambda lib, x, w: _f(lib).layer_norm(x, (5,), w) ** 2, [(0, 5), (5,)]),
    ("group_norm", lambda lib, x, w, b: _f(lib).group_norm(x, 3, w, b) ** 2, [(4, 6, 5), (6,), (6,)]),
    ("instance_norm", lambda lib, x: _f(lib).instance_norm(x) ** 2, [(4, 3, 5, 2)]),
    ("rms_norm", lambda lib, x, w: _f(lib).rms_norm(x, (2,), w, eps=1e-4) ** 2, [(4, 3, 5, 2), (2,)]),
    ("rms_norm no weight", lambda lib, x: _f(lib).rms_norm(x, (5, 2)) ** 2, [(4, 3, 5, 2)]),
    ("attention", lambda lib, q, k, v: _f(lib).scaled_dot_product_attention(q, k, v),
     [(2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)]),
    ("attention causal scale",
     lambda lib, q, k, v: _f(lib).scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7),
     [(2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)]),
    ("attention float mask (differentiated)",
     lambda lib, q, k, v, m: _f(lib).scaled_dot_product_attention(q, k, v, attn_mask=m),
     [(2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3), (4, 5)]),
    ("attention bool mask with a dead row",
     lambda lib, q, k, v: _f(lib).scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(BOOL_MASK)),
     [(2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)]),
]


def _arrays(shapes, seed):
    r = np.random.default_rng(seed)
    ties = shapes[0] == "ties"
    arrays = [r.standard_normal(shape) for shape in shapes[ties:]]
    return [np.round(a) for a in arrays] if ties else arrays


def _first(lib, fn, leaves, create_graph, seed=11):
    """The output and vᵀ·∂out/∂leaves (v random)."""
    out = fn(lib, *leaves)
    v = lib.tensor(np.random.default_rng(seed).standard_normal(tuple(out.shape)))
    return out, lib.autograd.grad((out * v).sum(), leaves, create_graph=create_graph)


def _second(lib, grads, leaves, seed=12):
    """∂(Σ uᵢ·gradᵢ)/∂leaves for random uᵢ: second derivatives w.r.t. every input and parameter."""
    r = np.random.default_rng(seed)
    total = sum((g * lib.tensor(r.standard_normal(tuple(g.shape)))).sum() for g in grads)
    return lib.autograd.grad(total, leaves, allow_unused=True)


def _close(s, t, what):
    np.testing.assert_allclose(s.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=what)


def check_second_order(fn, arrays, plain=True):
    s_leaves = [soma.tensor(a, requires_grad=True) for a in arrays]
    t_leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    s_out, s_first = _first(soma, fn, s_leaves, create_graph=True)
    _, s_plain = _first(soma, fn, s_leaves, create_graph=False)
    with sdpa_kernel(SDPBackend.MATH):  # torch's fused CPU attention has no double backward
        t_out, t_first = _first(torch, fn, t_leaves, create_graph=True)
        t_second = _second(torch, t_first, t_leaves)
    _close(s_out, t_out, "values")
    for i, (s, p, t) in enumerate(zip(s_first, s_plain, t_first)):
        if plain:
            _close(s, p, f"input {i}: first derivative under create_graph vs the plain backward")
        _close(s, t, f"input {i}: first derivative vs torch")
    s_second = _second(soma, s_first, s_leaves)
    for i, (s, t) in enumerate(zip(s_second, t_second)):
        if t is None:
            assert s is None or not np.any(s.numpy()), f"input {i}: torch has no second derivative"
        else:
            assert s is not None, f"input {i}: soma has no second derivative, torch has"
            _close(s, t, f"input {i}: second derivative vs torch")
    return s_out


def _composite_nodes(out):
    """Every node in ``out``'s graph whose kernel has a composite (a decomposition)."""
    return graph_nodes(out, lambda node: getattr(type(node), "composite", None) is not None)


def check_composites_match_forward(out):
    """Each kernel's composite, on its recorded inputs, gives the kernel's own forward values."""
    for node in _composite_nodes(out):
        cls = type(node)
        with soma.no_grad():
            kernel = cls.apply(*node.inputs, **(node._kwargs or {}))
            composite = cls.composite(node, *node.inputs)
        composite, kernel = (o[0] if isinstance(o, tuple) else o for o in (composite, kernel))  # (max, indices)
        np.testing.assert_allclose(composite.numpy(), kernel.numpy(), rtol=1e-12, atol=1e-13,
                                   err_msg=f"{cls.__name__}: composite differs from the forward")


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's note on its own copy
@pytest.mark.parametrize("name, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_second_order_against_torch(name, fn, shapes):
    arrays = _arrays(shapes, seed=len(name))
    check_second_order(fn, arrays)
    check_composites_match_forward(fn(soma, *(soma.tensor(a, requires_grad=True) for a in arrays)))


def test_max_pool_window_holding_nan_routes_to_the_nan_as_torch():
    """A NaN window's gradient (NaN) reaches its NaN only, as in torch (the plain kernel's backward writes
    NaN·0 = NaN over the whole window, so it is not compared here)."""
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 6))
    x[0, 1, 2, 3] = np.nan
    check_second_order(lambda lib, x: _f(lib).max_pool2d(x, 3, stride=2, padding=1) ** 2, [x], plain=False)


PIECEWISE_LINEAR = {  # first derivatives constant in x: torch keeps the pools' connected (zero), not the others'
    "max_pool2d": lambda lib, x: _f(lib).max_pool2d(x, 2, padding=1),
    "avg_pool2d": lambda lib, x: _f(lib).avg_pool2d(x, 3, stride=2, count_include_pad=False),
    "interpolate nearest": lambda lib, x: _f(lib).interpolate(x, scale_factor=2),
    "unfold": lambda lib, x: _f(lib).unfold(x, 2),
}


@pytest.mark.parametrize("name", list(PIECEWISE_LINEAR))
def test_constant_first_derivatives_are_connected_as_in_torch(name):
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 5))
    for lib in (soma, torch):
        leaf = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(PIECEWISE_LINEAR[name](lib, leaf).sum(), leaf, create_graph=True)
        if lib is soma:
            connected = g.requires_grad
            if connected:
                (second,) = soma.autograd.grad((g * g).sum(), leaf)
                assert not np.any(second.numpy())
        else:
            assert g.requires_grad == connected, f"torch's first derivative requires_grad={g.requires_grad}"


GRADGRADCHECKED = {  # tiny shapes: finite differences over every input element
    "conv2d stride padding dilation groups bias": [(1, 2, 4, 3), (2, 1, 2, 2), (2,)],
    "conv_transpose2d stride padding output_padding dilation groups": [(1, 2, 3, 2), (2, 1, 3, 2), (2,)],
    "max_pool2d padding dilation ceil_mode": [(1, 2, 5, 4)],
    "batch_norm training": [(3, 3, 2), (3,), (3,)],
    "layer_norm": [(2, 5, 2), (5, 2), (5, 2)],
    "attention float mask (differentiated)": [(1, 4, 2), (1, 5, 2), (1, 5, 2), (4, 5)],
}


@pytest.mark.parametrize("name", list(GRADGRADCHECKED))
def test_gradgradcheck(name):
    fn = next(c[1] for c in CASES if c[0] == name)
    leaves = [soma.tensor(a, requires_grad=True) for a in _arrays(GRADGRADCHECKED[name], seed=3)]
    assert soma.autograd.gradgradcheck(lambda *t: fn(soma, *t), leaves)


def test_sync_batch_norm_in_a_group_of_one_is_batch_norm_to_second_order():
    pytest.importorskip("mpi4py", reason="needs soma[distributed]")
    import soma.distributed as dist
    from soma.nn.parallel import SyncBatchNorm

    def fn(lib, x, w, b):
        if lib is torch:
            return TF.batch_norm(x, None, None, w, b, training=True) ** 2
        layer = SyncBatchNorm(3, dtype=soma.float64)
        layer.weight, layer.bias = w, b  # the leaves, so the second derivatives reach them
        return layer(x) ** 2

    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=30))
    try:
        out = check_second_order(fn, _arrays([(4, 3, 5), (3,), (3,)], seed=5))
        assert type(out.grad_fn.next_functions[0][0]).__name__ == "_SyncBatchNorm"
    finally:
        dist.destroy_process_group()


SYNC_WORKER = """
import datetime, sys
import numpy as np, soma, torch
import soma.distributed as dist
from soma.nn.parallel import SyncBatchNorm

dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=60))
rank, world = dist.get_rank(), dist.get_world_size()
r = np.random.default_rng(0)
X, w0, b0, uw = r.standard_normal((4 * world, 3, 5)), r.standard_normal(3), r.standard_normal(3), r.standard_normal(3)
V, U = r.standard_normal(X.shape), r.standard_normal(X.shape)
part = slice(4 * rank, 4 * rank + 4)


def over_ranks(t):
    t = soma.tensor(t.detach().numpy().copy())
    dist.all_reduce(t)
    return t.numpy()


def close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=what)


x, w, b = (soma.tensor(a, requires_grad=True) for a in (X[part], w0, b0))
layer = SyncBatchNorm(3, dtype=soma.float64)
layer.weight, layer.bias = w, b
gx, gw = soma.autograd.grad((layer(x) ** 2 * soma.tensor(V[part])).sum(), [x, w], create_graph=True)
hx, hw, hb = soma.autograd.grad((gx * soma.tensor(U[part])).sum() + (gw * soma.tensor(uw)).sum(), [x, w, b])
# torch on the whole batch; the loss is the sum of the ranks' losses, a weight gradient the sum of the ranks' shares
tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (X, w0, b0))
ty = torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True) ** 2
tgx, tgw = torch.autograd.grad((ty * torch.tensor(V)).sum(), [tx, tw], create_graph=True)
thx, thw, thb = torch.autograd.grad((tgx * torch.tensor(U)).sum() + (tgw * torch.tensor(uw)).sum(), [tx, tw, tb])
close(gx.detach().numpy(), tgx.detach().numpy()[part], "first derivative x")
close(over_ranks(gw), tgw.detach().numpy(), "first derivative weight")
close(hx.numpy(), thx.numpy()[part], "second derivative x")
close(over_ranks(hw), thw.numpy(), "second derivative weight")
close(over_ranks(hb), thb.numpy(), "second derivative bias")
print("rank", rank, "matches torch", flush=True)
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_sync_batch_norm_on_two_ranks_matches_torch_on_the_whole_batch_to_second_order(tmp_path):
    pytest.importorskip("mpi4py", reason="needs soma[distributed]")
    from soma.distributed.launch import mpiexec_command

    script = tmp_path / "worker.py"
    script.write_text(SYNC_WORKER)
    env = dict(os.environ, SOMA_DISTRIBUTED_TIMEOUT="60", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run(mpiexec_command(2, [str(script)], python=sys.executable), capture_output=True, text=True,
                          timeout=240, env=env, cwd=tmp_path)
    log = f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, log
    assert done.stdout.count("matches torch") == 2, log


# ----------------------------------------------------------------------------------------- use cases
def _cnn(lib, norm):
    nn = lib.nn
    layers = [nn.Conv2d(2, 4, 3, padding=1), nn.GroupNorm(2, 4) if norm == "group" else nn.BatchNorm2d(4),
              nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3)]
    return nn.Sequential(*layers).double() if lib is torch else nn.Sequential(*layers).to(soma.float64)


def _models(norm):
    theirs = _cnn(torch, norm)
    randomize_module(theirs, seed=4)
    ours = _cnn(soma, norm)
    copy_weights_from_torch(theirs, ours)
    return ours, theirs


def _wgan_gp_loss(lib, critic, real, fake, alpha):
    """Critic loss of WGAN-GP: E[D(fake)] − E[D(real)] + 10·E[(‖∇ₓD(x̂)‖ − 1)²] at x̂ = α·real + (1 − α)·fake."""
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (slopes,) = lib.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    penalty = ((slopes.flatten(1).norm(dim=1) - 1) ** 2).mean()
    return critic(fake).mean() - critic(real).mean() + 10 * penalty


def _parameter_grads_close(ours, theirs):
    for (name, s), (_, t) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_wgan_gp_gradient_penalty_on_a_cnn_critic_matches_torch():
    ours, theirs = _models("group")
    r = np.random.default_rng(9)
    real, fake, alpha = r.standard_normal((3, 2, 6, 6)), r.standard_normal((3, 2, 6, 6)), r.random((3, 1, 1, 1))
    for lib, critic in ((soma, ours), (torch, theirs)):
        _wgan_gp_loss(lib, critic, *(lib.tensor(a) for a in (real, fake, alpha))).backward()
    _parameter_grads_close(ours, theirs)


def test_hessian_vector_product_on_a_cnn_with_batch_norm_matches_torch():
    ours, theirs = _models("batch")
    r = np.random.default_rng(10)
    x, labels = r.standard_normal((4, 2, 6, 6)), r.integers(0, 3, 4)
    vectors = [r.standard_normal(tuple(p.shape)) for p in theirs.parameters()]
    products = []
    for lib, model in ((soma, ours), (torch, theirs)):
        params = list(model.parameters())
        loss = _f(lib).cross_entropy(model(lib.tensor(x)), lib.tensor(labels))
        grads = lib.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, vectors))
        products.append(lib.autograd.grad(dot, params))  # H·v
    for (name, _), s, t in zip(theirs.named_parameters(), *products):
        _close(s, t, f"H·v for {name}")
