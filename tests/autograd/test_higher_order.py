"""create_graph, autograd.grad, the graph objects and autograd.functional, against PyTorch."""

import numpy as np
import pytest
import torch

import soma
from soma.autograd import functional as SF

rng = np.random.default_rng(0)


def _pair(shape, requires_grad=True):
    a = rng.standard_normal(shape)
    return soma.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def _close(s, t, **kw):
    np.testing.assert_allclose(s.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12, **kw)


# ------------------------------------------------------------------ autograd.grad
def test_grad_returns_a_tuple_and_leaves_other_grads_alone():
    x, tx = _pair((3,))
    w, tw = _pair((3,))
    w.grad, tw.grad = soma.ones(3, dtype=soma.float64), torch.ones(3, dtype=torch.float64)
    out = soma.autograd.grad((x * w).sum(), x)
    tout = torch.autograd.grad((tx * tw).sum(), tx)
    assert isinstance(out, tuple) and len(out) == 1
    _close(out[0], tout[0])
    _close(w.grad, tw.grad)  # untouched: grad() accumulates nowhere
    assert x.grad is None


def test_grad_of_a_non_leaf_input_and_several_outputs():
    x, tx = _pair((4,))
    h, th = x.exp(), tx.exp()
    y1, y2 = (h * 2).sum(), (h * h).sum()
    ty1, ty2 = (th * 2).sum(), (th * th).sum()
    (gh,) = soma.autograd.grad([y1, y2], [h])
    (tgh,) = torch.autograd.grad([ty1, ty2], [th])
    _close(gh, tgh)
    assert x.grad is None


def test_grad_unused_input():
    x, _ = _pair((2,))
    z, _ = _pair((2,))
    with pytest.raises(RuntimeError, match="allow_unused"):
        soma.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = soma.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None and np.allclose(gx.numpy(), 2)
    _, gz = soma.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    assert np.array_equal(gz.numpy(), np.zeros(2))


def test_grad_outputs_and_retain_graph():
    x, tx = _pair((3, 2))
    v = rng.standard_normal((3, 2))
    y, ty = x.tanh(), tx.tanh()
    (g,) = soma.autograd.grad(y, x, grad_outputs=soma.tensor(v), retain_graph=True)
    (tg,) = torch.autograd.grad(ty, tx, grad_outputs=torch.tensor(v))
    _close(g, tg)
    soma.autograd.grad(y, x, grad_outputs=soma.tensor(v))  # retained once
    with pytest.raises(RuntimeError, match="second time"):
        soma.autograd.grad(y, x, grad_outputs=soma.tensor(v))


def test_backward_inputs_accumulates_only_there():
    x, tx = _pair((3,))
    w, tw = _pair((3,))
    (x * w).sum().backward(inputs=[w])
    (tx * tw).sum().backward(inputs=[tw])
    assert x.grad is None and tx.grad is None
    _close(w.grad, tw.grad)


# --------------------------------------------------------------- create_graph use cases
def _mlp(lib, x, params):
    w1, b1, w2, b2 = params
    return ((x @ w1 + b1).tanh() @ w2 + b2).sigmoid()


def test_gradient_penalty_on_an_mlp_matches_torch():
    """WGAN-GP: ‖∂D(x)/∂x‖ penalised, differentiated with respect to D's weights."""
    shapes = [(5, 8), (8,), (8, 1), (1,)]
    pairs = [_pair(s) for s in shapes]
    params, tparams = [p for p, _ in pairs], [t for _, t in pairs]
    x, tx = _pair((6, 5))

    def penalty(lib, x, params):
        out = _mlp(lib, x, params)
        (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        return ((g.pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()

    p, tp = penalty(soma, x, params), penalty(torch, tx, tparams)
    _close(p, tp)
    p.backward()
    tp.backward()
    for s, t in zip(params + [x], tparams + [tx]):
        _close(s.grad, t.grad)


def test_hessian_vector_product_on_an_mlp():
    shapes = [(4, 6), (6,), (6, 1), (1,)]
    pairs = [_pair(s) for s in shapes]
    params, tparams = [p for p, _ in pairs], [t for _, t in pairs]
    x = rng.standard_normal((5, 4))
    vs = [rng.standard_normal(s) for s in shapes]

    def hvp(lib, params):
        loss = _mlp(lib, lib.tensor(x), params).pow(2).mean()
        grads = lib.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, vs))
        return lib.autograd.grad(dot, params)

    for s, t in zip(hvp(soma, params), hvp(torch, tparams)):
        _close(s, t)


def test_backward_create_graph_then_differentiate_the_grad():
    x, tx = _pair((3,))
    (x ** 3).sum().backward(create_graph=True)
    (tx ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    _close(x.grad, tx.grad)
    (g2,) = soma.autograd.grad(x.grad.sum(), x)
    (tg2,) = torch.autograd.grad(tx.grad.sum(), tx)
    _close(g2, tg2)  # 6x


def test_third_derivative():
    x, tx = _pair((4,))

    def third(lib, x):
        y = (x.sin() * x.exp()).sum()
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        return lib.autograd.grad(g2.sum(), x)[0]

    _close(third(soma, x), third(torch, tx))


def test_a_node_without_a_differentiable_backward_names_itself():
    class Cube(soma.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    x, _ = _pair((2,))
    with pytest.raises(RuntimeError, match="CubeBackward0 does not support higher-order gradients"):
        soma.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (g,) = soma.autograd.grad(Cube.apply(x).sum(), x)  # first order still works
    np.testing.assert_allclose(g.numpy(), 3 * x.detach().numpy() ** 2)


def test_gradgradcheck_catches_a_wrong_formula():
    class BadSquare(soma.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2 * ctx.inputs[0]._array

        @staticmethod
        def formula(ctx, grad):
            return grad * 2.5 * ctx.inputs[0]  # wrong: the first derivative is 2x

    x = soma.tensor(rng.standard_normal(3), requires_grad=True)
    assert soma.autograd.gradcheck(BadSquare.apply, (x,))
    with pytest.raises(soma.autograd.GradcheckError):
        soma.autograd.gradgradcheck(BadSquare.apply, (x,))


# ------------------------------------------------------------------- graph objects
def test_grad_fn_names_and_next_functions_as_torch():
    x, tx = _pair((3,))
    w, tw = _pair((3,), requires_grad=False)
    y, ty = (x * w).exp().sum(), (tx * tw).exp().sum()
    assert y.grad_fn.name() == ty.grad_fn.name() == "SumBackward0"
    (exp_fn, _), = y.grad_fn.next_functions
    assert exp_fn.name() == "ExpBackward0"
    (mul_fn, index), = exp_fn.next_functions
    assert mul_fn.name() == "MulBackward0" and index == 0
    (acc, _), (none, _) = mul_fn.next_functions
    (tacc, _), (tnone, _) = ty.grad_fn.next_functions[0][0].next_functions[0][0].next_functions
    assert acc.name() == tacc.name() and acc.variable is x and none is None and tnone is None
    assert mul_fn.next_functions[0][0] is acc  # one AccumulateGrad per leaf


def test_node_hooks():
    x, _ = _pair((3,))
    y = x * 2
    seen = []
    handle = y.grad_fn.register_prehook(lambda grad_outputs: seen.append(grad_outputs[0].numpy().copy()))
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10, None))
    y.sum().backward(retain_graph=True)
    assert np.allclose(seen[0], 1) and np.allclose(x.grad.numpy(), 20)
    handle.remove()
    y.sum().backward()
    assert len(seen) == 1


def test_tensor_hook_handle_and_post_accumulate_hook():
    x, _ = _pair((2,))
    handle = x.register_hook(lambda g: g * 3)
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.numpy().copy()))
    (x * 1).sum().backward()
    assert np.allclose(x.grad.numpy(), 3) and np.allclose(calls[0], 3)
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert np.allclose(x.grad.numpy(), 1) and len(calls) == 2


# ------------------------------------------------------------- autograd.functional
def _f(lib):
    return lambda a, b: (a.sin() * b).sum(0) + a.pow(2).sum()


def test_functional_jacobian_and_hessian():
    a, ta = _pair((3, 2))
    b, tb = _pair((3, 2))
    jac = SF.jacobian(_f(soma), (a, b))
    tjac = torch.autograd.functional.jacobian(_f(torch), (ta, tb))
    for s, t in zip(jac, tjac):
        assert tuple(s.shape) == tuple(t.shape)
        _close(s, t)
    scalar = lambda lib: (lambda a: (a.exp() * a).sum())
    _close(SF.hessian(scalar(soma), a), torch.autograd.functional.hessian(scalar(torch), ta))
    single = SF.jacobian(lambda a: a.tanh(), a)
    _close(single, torch.autograd.functional.jacobian(lambda a: a.tanh(), ta))


def test_functional_products():
    a, ta = _pair((3, 2))
    b, tb = _pair((3, 2))
    v, tv = _pair((2,), requires_grad=False)
    u, tu = _pair((3, 2), requires_grad=False)
    for s, t in zip(SF.vjp(_f(soma), (a, b), v), torch.autograd.functional.vjp(_f(torch), (ta, tb), tv)):
        for si, ti in zip(s if isinstance(s, tuple) else (s,), t if isinstance(t, tuple) else (t,)):
            _close(si, ti)
    out, jv = SF.jvp(lambda a: _f(soma)(a, b), a, u)
    tout, tjv = torch.autograd.functional.jvp(lambda a: _f(torch)(a, tb), ta, tu)
    _close(out, tout)
    _close(jv, tjv)
    scalar = lambda lib: (lambda a: (a.exp() * a.sin()).sum())
    for fn in ("hvp", "vhp"):
        s_out, s_prod = getattr(SF, fn)(scalar(soma), a, u)
        t_out, t_prod = getattr(torch.autograd.functional, fn)(scalar(torch), ta, tu)
        _close(s_out, t_out)
        _close(s_prod, t_prod)


def test_functional_errors():
    a, _ = _pair((3,))
    with pytest.raises(RuntimeError, match="v can be omitted only"):
        SF.vjp(lambda a: a * 2, a)
    with pytest.raises(RuntimeError, match="shape"):
        SF.jvp(lambda a: a * 2, a, soma.ones(4, dtype=soma.float64))
    with pytest.raises(RuntimeError, match="independent of input"):
        SF.jacobian(lambda a, b: a * 2, (a, a.detach()), strict=True)


def test_backward_frees_every_array_a_node_kept():
    x = soma.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = soma.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    F = soma.nn.functional
    out = F.dropout(F.gelu(x @ w).relu(), 0.5, training=True).sum()  # gelu keeps arrays as attributes
    nodes, stack = [], [out.grad_fn]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack += [n for n, _ in node.next_functions if n is not None and hasattr(n, "inputs")]
    out.backward()
    for node in nodes:
        assert node.saved_tensors == ()
        kept = [k for k, v in vars(node).items() if isinstance(v, np.ndarray) and k != "inputs"]
        assert not kept, f"{node.name()} still holds arrays {kept}"


def test_a_leaf_hook_sees_the_total_gradient_once_as_torch():
    """A leaf used by several nodes: its hook runs once, on the sum (a clipping hook is not linear)."""
    x, tx = _pair((3,))
    calls, tcalls = [], []
    x.register_hook(lambda g: (calls.append(1), g.clamp(-1, 1))[1])
    tx.register_hook(lambda g: (tcalls.append(1), g.clamp(-1, 1))[1])
    post, tpost = [], []
    x.register_post_accumulate_grad_hook(lambda t: post.append(1))
    tx.register_post_accumulate_grad_hook(lambda t: tpost.append(1))
    (x * 3 + x * 2 + x.exp()).sum().backward()
    (tx * 3 + tx * 2 + tx.exp()).sum().backward()
    assert len(calls) == len(tcalls) == 1 and len(post) == len(tpost) == 1
    _close(x.grad, tx.grad)
