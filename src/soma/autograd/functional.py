"""Derivatives of whole functions, as ``torch.autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp.

All are built from reverse mode (:func:`soma.autograd.grad`):

- ``vjp``: vᵀJ, one backward.
- ``jvp``: Jv by the double-vjp trick. For a dummy u, vjp(u) = Jᵀu is linear in u, and
  the vjp of that map with v is (Jᵀ)ᵀv = Jv, so it costs two backwards and needs
  ``create_graph`` on the first.
- ``jacobian``: one vjp per output element (the rows of J).
- ``hessian``: the jacobian of the gradient.
- ``hvp``/``vhp``: H·v from the gradient of ⟨∇f, v⟩; H is symmetric, so they agree.
"""

import numpy as np

from soma.autograd.engine import grad
from soma.autograd.function import enable_grad
from soma.tensor import Tensor

__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]


def _tuple(value, name, what):
    single = isinstance(value, Tensor)
    values = (value,) if single else tuple(value)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}: {what} {i} must be a Tensor, not {type(v).__name__}")
    return values, single


def _prepare(inputs, create_graph):
    """Fresh leaves (or graph-connected aliases with create_graph) that require grad."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(t._array.dtype.kind in "fc"))
    return tuple(out)


def _linked_grad(outputs, inputs, grad_outputs, create_graph):
    """grad() of those outputs that have a graph (None per input when none has)."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], inputs, [g for _, g in pairs], create_graph=create_graph,
                allow_unused=True, retain_graph=True)


def _grads(outputs, inputs, grad_outputs, create_graph, strict, name):
    """grad() of the outputs that have a graph; zeros (or strict's error) for the inputs they do not reach."""
    found = _linked_grad(outputs, inputs, grad_outputs, create_graph)
    result = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if strict:
                raise RuntimeError(f"{name}: the output is independent of input {i} (strict=True)")
            g = Tensor._make(np.zeros_like(t._array), False)
        result.append(g if create_graph else g.detach())
    return tuple(result)


def _vectors(v, like, name, what):
    if v is None:
        if any(t.numel() != 1 for t in like):
            raise RuntimeError(f"{name}: v can be omitted only when the {what} has a single element")
        return tuple(Tensor._make(np.ones_like(t._array), False) for t in like)
    values, _ = _tuple(v, name, "v")
    if len(values) != len(like):
        raise RuntimeError(f"{name}: got {len(values)} vectors v for {len(like)} {what}s")
    for a, b in zip(values, like):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"{name}: v has shape {tuple(a.shape)} but the {what} has shape {tuple(b.shape)}")
    return values


def _call(func, inputs, name):
    with enable_grad():
        out = func(*inputs)
    outputs, single = _tuple(out, name, "output")
    return outputs, single


def _unwrap(values, single):
    return values[0] if single else values


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·J): the vector-Jacobian product at ``inputs``."""
    inputs, single_in = _tuple(inputs, "vjp", "input")
    inputs = _prepare(inputs, create_graph)
    outputs, single_out = _call(func, inputs, "vjp")
    v = _vectors(v, outputs, "vjp", "output")
    result = _grads(outputs, inputs, v, create_graph, strict, "vjp")
    outputs = tuple(o if create_graph else o.detach() for o in outputs)
    return _unwrap(outputs, single_out), _unwrap(result, single_in)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J·v): the Jacobian-vector product, by the double-vjp trick."""
    inputs, single_in = _tuple(inputs, "jvp", "input")
    inputs = _prepare(inputs, True)
    v = _vectors(v, inputs, "jvp", "input")
    outputs, single_out = _call(func, inputs, "jvp")
    with enable_grad():
        dummies = tuple(Tensor._make(np.zeros_like(o._array), False).requires_grad_(True) for o in outputs)
        transposed = _grads(outputs, inputs, dummies, True, strict, "jvp")  # Jᵀu, linear in u
        found = _linked_grad(transposed, dummies, v, create_graph)
    result = tuple(
        Tensor._make(np.zeros_like(o._array), False) if g is None else (g if create_graph else g.detach())
        for o, g in zip(outputs, found)
    )
    outputs = tuple(o if create_graph else o.detach() for o in outputs)
    return _unwrap(outputs, single_out), _unwrap(result, single_out)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """∂func(inputs)/∂inputs: for one input and one output, a tensor of shape output.shape + input.shape.

    Tuples give a tuple (per output) of tuples (per input), as PyTorch. ``vectorize`` is
    accepted and ignored (the rows are computed one backward each either way).
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    inputs, single_in = _tuple(inputs, "jacobian", "input")
    inputs = _prepare(inputs, create_graph)
    outputs, single_out = _call(func, inputs, "jacobian")
    blocks = []
    for out in outputs:
        rows = [[] for _ in inputs]
        flat_size = out.numel()
        for k in range(flat_size):
            seed = np.zeros(out._array.size, out._array.dtype, like=out._array)
            seed[k] = 1
            row = _grads([out], inputs, [Tensor._make(seed.reshape(out.shape), False)], create_graph, strict,
                         "jacobian")
            for i, r in enumerate(row):
                rows[i].append(r)
        per_input = []
        for i, t in enumerate(inputs):
            shape = tuple(out.shape) + tuple(t.shape)
            if rows[i]:
                from soma.ops.shape import stack

                block = stack(rows[i]).reshape(shape)
            else:
                block = Tensor._make(np.zeros(shape, t._array.dtype, like=t._array), False)
            per_input.append(block)
        blocks.append(_unwrap(tuple(per_input), single_in))
    return _unwrap(tuple(blocks), single_out)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """∂²func/∂inputs² of a scalar function: shape input.shape + input.shape for one input."""
    inputs, single_in = _tuple(inputs, "hessian", "input")

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hessian: the function must return a single-element Tensor")
        return _grads([out], xs, [Tensor._make(np.ones_like(out._array), False)], True, strict, "hessian")

    result = jacobian(gradient, inputs[0] if single_in else inputs, create_graph=create_graph, strict=strict)
    return result[0] if single_in else result  # gradient returns a tuple: one block per input


def _hessian_product(func, inputs, v, create_graph, strict, name):
    inputs, single_in = _tuple(inputs, name, "input")
    inputs = _prepare(inputs, True)
    v = _vectors(v, inputs, name, "input")
    with enable_grad():
        out = func(*inputs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError(f"{name}: the function must return a single-element Tensor")
        first = _grads([out], inputs, [Tensor._make(np.ones_like(out._array), False)], True, strict, name)
        result = _grads(list(first), inputs, list(v), create_graph, strict, name)
    return (out if create_graph else out.detach()), _unwrap(result, single_in)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H·v) for a scalar function."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·H) for a scalar function (equal to H·v: the Hessian is symmetric)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")
