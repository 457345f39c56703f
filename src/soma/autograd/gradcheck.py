"""``gradcheck``: compare backward's gradients with central finite differences.

For each input element xₖ the numerical derivative is
    ∂f/∂xₖ ≈ (f(x + ε·eₖ) - f(x - ε·eₖ)) / 2ε,
whose error is O(ε²). In float64 with ε = 1e-6 that leaves about 1e-10 of
truncation and rounding error, far below the tolerances, so a wrong backward
cannot hide.
"""

import numpy as np

from soma.autograd.function import enable_grad, no_grad
from soma.tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients differ."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _flat_output(fn, inputs):
    with no_grad():
        outs = _outputs(fn, inputs)
    return np.concatenate([o._array.reshape(-1).astype(np.float64) for o in outs])


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, max_rows=256):
    """True when every gradient of ``fn`` at ``inputs`` matches finite differences.

    Args:
        fn: a function of tensors returning a tensor or a tuple of tensors.
        inputs: a tensor or tuple of tensors; those with ``requires_grad`` are checked.
            Use float64: float32's rounding error swamps the finite differences.
        eps: the finite-difference step.
        atol, rtol: an element passes when |analytic - numeric| <= atol + rtol·|numeric|.
        raise_exception: raise :class:`GradcheckError` naming the input and element (default)
            instead of returning False.
        max_rows: above this many output elements, the Jacobian is checked through 16 random
            vector-Jacobian products instead of row by row.

    Example::

        >>> x = soma.randn(3, 4, dtype=soma.float64, requires_grad=True)
        >>> soma.autograd.gradcheck(lambda t: (t.tanh() * t).sum(dim=1), (x,))
        True
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = _checked_inputs(inputs)
    rows = _flat_output(fn, inputs).size
    projections = np.eye(rows) if rows <= max_rows else np.random.default_rng(0).standard_normal((16, rows))
    numeric = _numerical(fn, inputs, checked, projections, eps)
    analytic = _analytical(fn, inputs, checked, projections)
    for i, (t, num, ana) in enumerate(zip(checked, numeric, analytic)):
        bad = np.abs(ana - num) > atol + rtol * np.abs(num)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            message = (
                f"gradcheck: Jacobian mismatch for input {i} (shape {tuple(t.shape)}) at "
                f"output row {row}, input element {col}: analytical {ana[row, col]:.10g}, "
                f"numerical {num[row, col]:.10g}"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _checked_inputs(inputs):
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for t in checked:
        if t.dtype != np.float64:
            raise ValueError(f"gradcheck: input of shape {tuple(t.shape)} is {t.dtype}; use float64 inputs")
    return checked


def _numerical(fn, inputs, checked, projections, eps):
    """P·J for each checked input, J's columns by central differences: (f(x+ε) - f(x-ε)) / 2ε."""
    numeric = []
    for t in checked:
        flat = t._array.reshape(-1)
        columns = np.empty((projections.shape[1], flat.size))
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = _flat_output(fn, inputs)
            flat[k] = original - eps
            minus = _flat_output(fn, inputs)
            flat[k] = original
            columns[:, k] = (plus - minus) / (2 * eps)
        numeric.append(projections @ columns)
    return numeric


def _analytical(fn, inputs, checked, projections):
    """P·J for each checked input, one backward per row vᵀ of the projection P."""
    analytic = [np.zeros((len(projections), t._array.size)) for t in checked]
    for r, vector in enumerate(projections):
        saved = [t.grad for t in checked]
        for t in checked:
            t.grad = None
        total, offset = None, 0
        for o in _outputs(fn, inputs):
            piece = vector[offset : offset + o._array.size].reshape(o.shape)
            offset += o._array.size
            if o.requires_grad:
                term = (o * Tensor._make(piece.astype(o.dtype), False)).sum()
                total = term if total is None else total + term
        if total is not None:
            total.backward()
        for i, t in enumerate(checked):
            if t.grad is not None:
                if t.grad.shape != t.shape:
                    raise GradcheckError(
                        f"gradcheck: gradient of shape {tuple(t.grad.shape)} for an input of shape {tuple(t.shape)}"
                    )
                analytic[i][r] = t.grad._array.reshape(-1)
            t.grad = saved[i]
    return analytic


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  max_rows=256, seed=0):
    """True when the second derivatives of ``fn`` match finite differences of its first derivatives.

    The first derivatives vᵀ·∂fn/∂x are computed with ``create_graph=True`` (v: ``grad_outputs``,
    random by default), as a function of the inputs and of v; :func:`gradcheck` then compares
    *their* backward (the second-order graph) with finite differences, as PyTorch's gradgradcheck.
    """
    from soma.autograd.engine import grad

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    with no_grad():
        outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor._make(rng.standard_normal(o.shape), False).requires_grad_() for o in outs]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    n = len(inputs)

    def first_derivatives(*args):
        xs, vs = args[:n], args[n:]
        with enable_grad():  # also while gradcheck evaluates it for finite differences
            return _first(xs, vs)

    def _first(xs, vs):
        ys = _outputs(fn, xs)
        pairs = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
        wanted = [xs[i] for i in checked]
        found = grad([y for y, _ in pairs], wanted, [v for _, v in pairs], create_graph=True, allow_unused=True)
        return tuple(g for g in found if g is not None and g.requires_grad)

    # the recorded first derivatives must be the plain backward's (two code paths compute them)
    recorded = first_derivatives(*inputs, *grad_outputs)
    ys = _outputs(fn, inputs)
    pairs = [(y, v) for y, v in zip(ys, grad_outputs) if y.requires_grad]
    plain = grad([y for y, _ in pairs], [inputs[i] for i in checked], [v.detach() for _, v in pairs],
                 allow_unused=True)
    plain = [g for g in plain if g is not None]
    for k, (r, p) in enumerate(zip(recorded, plain)):
        if not np.allclose(r._array, p._array, rtol=rtol, atol=atol, equal_nan=True):
            message = (f"gradgradcheck: the first derivative for input {checked[k]} under create_graph=True differs "
                       "from the plain backward's (the differentiable backward is wrong)")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return gradcheck(first_derivatives, (*inputs, *grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, max_rows=max_rows)
