"""Shared test helpers: run the same computation in soma and PyTorch and compare.

``check_against_torch(fn_soma, fn_torch, arrays)`` builds leaf tensors from the same
NumPy arrays in both frameworks, runs both functions, compares the outputs, then
back-propagates the same random output gradient through both and compares every
input gradient. Tolerances default to the design contract: 1e-10 in float64 and
1e-5 (relative) in float32.
"""

import numpy as np
import torch

import soma

TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def tolerance(dtype):
    return TOLERANCE[np.dtype(dtype).type]


def to_torch(value, requires_grad=False):
    if isinstance(value, soma.Tensor):
        value = value.detach().numpy()
    tensor = torch.from_numpy(np.array(value))
    return tensor.requires_grad_(requires_grad) if requires_grad else tensor


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_against_torch(fn_soma, fn_torch, arrays, grad=True, rtol=None, atol=None, seed=0):
    """Compare values and gradients of ``fn_soma(*tensors)`` and ``fn_torch(*tensors)``.

    ``arrays`` are NumPy arrays; floating-point ones become leaves requiring grad.
    Returns the soma outputs for further checks.
    """
    dtype = next((a.dtype for a in arrays if a.dtype.kind == "f"), np.dtype(np.float64))
    tol = tolerance(dtype)
    tol = dict(rtol=tol["rtol"] if rtol is None else rtol, atol=tol["atol"] if atol is None else atol)
    needs = [grad and a.dtype.kind == "f" for a in arrays]
    s_in = [soma.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    t_in = [torch.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    s_out = _as_list(fn_soma(*s_in))
    t_out = _as_list(fn_torch(*t_in))
    assert len(s_out) == len(t_out)
    for s, t in zip(s_out, t_out):
        assert tuple(s.shape) == tuple(t.shape), f"shape {tuple(s.shape)} != torch {tuple(t.shape)}"
        assert s.dtype == np.dtype(str(t.dtype).replace("torch.", "")), f"dtype {s.dtype} != {t.dtype}"
        np.testing.assert_allclose(s.detach().numpy(), t.detach().numpy(), **tol)
    if grad and any(needs):
        rng = np.random.default_rng(seed)
        s_total, t_total = None, None
        for s, t in zip(s_out, t_out):
            if not t.requires_grad:
                continue
            g = rng.standard_normal(tuple(t.shape)).astype(s.dtype)
            s_term = (s * soma.tensor(g)).sum()
            t_term = (t * torch.tensor(g)).sum()
            s_total = s_term if s_total is None else s_total + s_term
            t_total = t_term if t_total is None else t_total + t_term
        if t_total is not None:
            s_total.backward()
            t_total.backward()
            for i, (s, t) in enumerate(zip(s_in, t_in)):
                if not needs[i]:
                    continue
                if t.grad is None:
                    assert s.grad is None or not np.any(s.grad.numpy()), f"input {i}: torch has no grad"
                    continue
                assert s.grad is not None, f"input {i}: soma computed no gradient"
                np.testing.assert_allclose(
                    s.grad.numpy(), t.grad.numpy(), err_msg=f"gradient of input {i}", **tol
                )
    return s_out


def graph_nodes(out, keep):
    """Every node ``keep(node)`` accepts in the graph that made ``out`` (each once)."""
    seen, todo, found = set(), [out.grad_fn], []
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if keep(node):
            found.append(node)
        todo.extend(n for n, _ in node.next_functions)
    return found


def random_array(shape, dtype=np.float64, seed=0, low=None, high=None):
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, high, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def copy_weights_to_torch(soma_module, torch_module):
    """Copy every parameter and buffer of a soma module into the same-named torch ones."""
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in soma_module.state_dict().items()}
    torch_module.load_state_dict(state, strict=True)


def _flatten(out):
    """Outputs as a flat list of tensors: (out, (h, c)) from an LSTM becomes [out, h, c]."""
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _flatten(item)]
    return [out]


def randomize_module(torch_module, seed=0):
    """Overwrite every parameter and buffer of a torch module with random values, in place.

    Constant initializations (BatchNorm's γ = 1, β = 0 and running statistics, LayerNorm/GroupNorm
    affine, PReLU's 0.25, biases set to 0, Embedding's zero padding row) would let a wrong
    gradient or a wrong use of them pass unseen. Variances (``*var*``) stay positive; integer
    buffers (``num_batches_tracked``) get a small positive count.
    """
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, tensor in list(torch_module.named_parameters()) + list(torch_module.named_buffers()):
            if tensor.dtype.is_floating_point:
                shape = tuple(tensor.shape)
                value = rng.uniform(0.5, 2.0, shape) if "var" in name.rsplit(".", 1)[-1] else rng.standard_normal(shape)
                tensor.copy_(torch.from_numpy(np.asarray(value)))
            elif tensor.dtype != torch.bool:
                tensor.fill_(int(rng.integers(1, 5)))


def copy_weights_from_torch(torch_module, soma_module):
    """Copy every parameter and buffer of a torch module into the same-named soma ones."""
    state = {k: soma.tensor(v.detach().numpy().copy()) for k, v in torch_module.state_dict().items()}
    soma_module.load_state_dict(state, strict=True)


def check_module_against_torch(soma_module, torch_module, arrays, randomize=True, seed=0, rtol=None, atol=None):
    """Compare a soma module with the same torch module: outputs, input AND parameter gradients, buffers.

    The torch module's parameters and buffers are randomized first (``randomize_module``) and copied
    into the soma module by name, so the two must have the same ``state_dict`` keys. Then one
    forward and backward on ``arrays`` (as in :func:`check_against_torch`) in each framework, after
    which every parameter's gradient is compared by name, and every buffer (running statistics after
    a training forward). Returns the soma outputs.
    """
    if randomize:
        randomize_module(torch_module, seed)
    copy_weights_from_torch(torch_module, soma_module)
    s_params, t_params = dict(soma_module.named_parameters()), dict(torch_module.named_parameters())
    assert list(s_params) == list(t_params), f"parameter names {list(s_params)} != torch {list(t_params)}"
    for p in s_params.values():
        p.grad = None
    torch_module.zero_grad(set_to_none=True)
    floating = [a.dtype for a in arrays if a.dtype.kind == "f"] + [p.dtype for p in s_params.values()]
    tol = tolerance(floating[0] if floating else np.float64)
    tol = dict(rtol=tol["rtol"] if rtol is None else rtol, atol=tol["atol"] if atol is None else atol)
    out = check_against_torch(lambda *a: _flatten(soma_module(*a)), lambda *a: _flatten(torch_module(*a)),
                              arrays, seed=seed + 1, **tol)
    for name, t in t_params.items():
        s = s_params[name]
        if t.grad is None:
            assert s.grad is None or not np.any(s.grad.numpy()), f"{name}: torch has no gradient, soma has one"
            continue
        assert s.grad is not None, f"{name}: soma computed no gradient"
        assert s.grad.dtype == s.dtype, f"{name}: gradient dtype {s.grad.dtype} != parameter dtype {s.dtype}"
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), err_msg=f"gradient of parameter {name}", **tol)
    s_buffers = dict(soma_module.named_buffers())
    for name, t in torch_module.named_buffers():
        np.testing.assert_allclose(s_buffers[name].numpy(), t.numpy(), err_msg=f"buffer {name}", **tol)
    return out


def check_second_derivatives(s_scalar, t_scalar, s_inputs, t_inputs, rtol=1e-9, atol=1e-11):
    """soma's ∂s_scalar/∂s_inputs equal torch's ∂t_scalar/∂t_inputs (scalars built from first derivatives
    taken with create_graph=True): a graph exactly where torch has one; where torch's derivative is None or
    a zero tensor soma's may be None or zeros, elsewhere soma must have it."""
    if not isinstance(t_scalar, torch.Tensor) or not t_scalar.requires_grad:
        assert not isinstance(s_scalar, soma.Tensor) or not s_scalar.requires_grad, "soma has a graph torch has not"
        return
    with np.errstate(invalid="ignore", divide="ignore"):  # 0**0 and norm at 0: NaN (0·∞) in both, as PyTorch
        s_second = soma.autograd.grad(s_scalar, s_inputs, allow_unused=True)
    t_second = torch.autograd.grad(t_scalar, t_inputs, allow_unused=True)
    for i, (s, t) in enumerate(zip(s_second, t_second)):
        if t is not None and t._is_zerotensor():
            t = torch.zeros(t.shape, dtype=t.dtype)
        if t is None:
            assert s is None or not np.any(s.numpy()), f"input {i}: torch has no second derivative"
            continue
        assert s is not None, f"input {i}: soma has no second derivative, torch has"
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=rtol, atol=atol, err_msg=f"input {i}: second")


def raises_like_torch(call):
    """``call(torch)`` raises; ``call(soma)`` raises the same exception type (or a subclass)."""
    import pytest

    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type):
        call(soma)
