"""Run a soma module and its PyTorch twin (weights copied) on the same inputs; compare values and all gradients."""

import numpy as np
import torch

import soma
from helpers import copy_weights_to_torch, tolerance


def randomize_(module, seed=0):
    """Give every parameter random values (zero-initialized biases would hide bugs)."""
    rng = np.random.default_rng(seed)
    with soma.no_grad():
        for _, p in module.named_parameters():
            p.copy_(soma.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(p.dtype)))
    return module


def twin(s_module, t_module, seed=0):
    """Randomize the soma module, copy it into the torch one; both in training mode unless changed after."""
    randomize_(s_module, seed)
    copy_weights_to_torch(s_module, t_module)
    return s_module, t_module


def compare(s_module, t_module, arrays, run_s=None, run_t=None, masks=(), grad_masks=False, seed=1, tol=None):
    """``run(module, *inputs, *masks)``: outputs (a tensor or a tuple, None entries skipped) compared,
    then a random weighted sum of them back-propagated; input and parameter gradients compared.

    ``arrays`` are float arrays (inputs requiring grad); ``masks`` are arrays passed after them
    (float ones require grad only with ``grad_masks``).
    """
    dtype = arrays[0].dtype
    tol = tol or tolerance(dtype)
    run_s = run_s or (lambda m, *a: m(*a))
    run_t = run_t or run_s
    s_in = [soma.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    s_masks = [None if m is None else soma.tensor(m, requires_grad=grad_masks and m.dtype.kind == "f")
               for m in masks]
    t_masks = [None if m is None else torch.tensor(m, requires_grad=grad_masks and m.dtype.kind == "f")
               for m in masks]
    s_out, t_out = run_s(s_module, *s_in, *s_masks), run_t(t_module, *t_in, *t_masks)
    s_out = s_out if isinstance(s_out, tuple) else (s_out,)
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    rng = np.random.default_rng(seed)
    s_loss = t_loss = 0
    for i, (s, t) in enumerate(zip(s_out, t_out, strict=True)):
        assert (s is None) == (t is None), f"output {i}: soma {s is None}, torch {t is None}"
        if s is None:
            continue
        assert tuple(s.shape) == tuple(t.shape), f"output {i}: {tuple(s.shape)} != torch {tuple(t.shape)}"
        assert s.dtype == np.dtype(dtype)
        np.testing.assert_allclose(s.detach().numpy(), t.detach().numpy(), err_msg=f"output {i}", **tol)
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        ok = np.isfinite(t.detach().numpy())  # NaN rows (as PyTorch) take no part in the loss
        s_loss = s_loss + (s * soma.tensor(np.where(ok, w, 0))).masked_fill(soma.tensor(~ok), 0).sum()
        t_loss = t_loss + (t * torch.tensor(np.where(ok, w, 0))).masked_fill(torch.tensor(~ok), 0).sum()
    s_loss.backward()
    t_loss.backward()
    for k, (s, t) in enumerate(zip(s_in + s_masks, t_in + t_masks)):
        if t is None or not t.requires_grad:
            continue
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), err_msg=f"gradient of input {k}", **tol)
    t_params = dict(t_module.named_parameters())
    s_params = dict(s_module.named_parameters())
    assert list(s_params) == list(t_params)
    for name, p in s_params.items():
        want = t_params[name].grad
        if want is None:
            assert p.grad is None or not np.any(p.grad.numpy()), name
            continue
        np.testing.assert_allclose(p.grad.numpy(), want.numpy(), err_msg=f"gradient of {name}", **tol)
    return s_out
