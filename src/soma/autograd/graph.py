"""The graph as PyTorch shows it, and the differentiable backward behind ``create_graph``.

``grad_fn`` objects answer ``name()``, ``next_functions``, ``register_hook`` and
``register_prehook`` as PyTorch's do; a leaf that requires grad appears in
``next_functions`` as its :class:`AccumulateGrad`.

With ``create_graph=True`` each node's backward must itself be recorded. A Function
gives that in one of three ways (first match wins):

1. ``linear``: the op is linear (or affine) in the operands at these argument positions,
   or in every tensor argument for ``linear = True`` (reshape, sum, indexing, add, ...).
   Its backward g ↦ Jᵀg is then linear in g with a constant Jacobian, and the backward
   of *that* is J itself: the op applied again to the incoming gradients (the adjoint of
   the adjoint). :class:`Adjoint` records exactly this.
2. ``formula(ctx, *grads)``: the gradient written in differentiable soma ops.
3. ``composite(ctx, *inputs)``: the forward written in differentiable primitive ops;
   the engine differentiates that graph (fused kernels: convolution, normalization,
   losses), stopping at aliases of the node's inputs so nothing upstream is walked.
"""

import weakref

import numpy as np

from soma.autograd.function import Function, enable_grad
from soma.backend import as_array
from soma.tensor import Tensor

__all__ = ["AccumulateGrad", "Adjoint", "Alias", "RemovableHandle", "differentiable_backward"]


# ------------------------------------------------------------------ graph objects
class RemovableHandle:
    """Returned by hook registrations; ``handle.remove()`` unregisters the hook."""

    def __init__(self, owner, attribute, hook):
        self._owner, self._attribute, self._hook = weakref.ref(owner), attribute, hook

    def remove(self):
        owner = self._owner()
        if owner is not None:
            hooks = getattr(owner, self._attribute) or ()
            setattr(owner, self._attribute, tuple(h for h in hooks if h is not self._hook))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class AccumulateGrad:
    """The sink of a leaf's gradient in ``next_functions`` (PyTorch's AccumulateGrad)."""

    def __init__(self, variable):
        self._variable = weakref.ref(variable)
        self._post_hooks = ()
        self.metadata = {}

    @property
    def variable(self):
        return self._variable()

    @property
    def next_functions(self):
        return ()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


_accumulators = {}  # id(leaf) -> AccumulateGrad, dropped with the leaf


def accumulator(leaf):
    """The one AccumulateGrad of ``leaf`` (created on first request, so identity is stable)."""
    key = id(leaf)
    acc = _accumulators.get(key)
    if acc is None or acc.variable is not leaf:
        acc = _accumulators[key] = AccumulateGrad(leaf)
        weakref.finalize(leaf, _accumulators.pop, key, None)
    return acc


def after_accumulate(leaf):
    """Run the leaf's post-accumulate-grad hooks (``Tensor.register_post_accumulate_grad_hook``)."""
    if _accumulators:
        acc = _accumulators.get(id(leaf))
        if acc is not None and acc.variable is leaf:
            for hook in acc._post_hooks:
                hook(leaf)


def next_functions(node):
    """``((producer node or AccumulateGrad or None, output index), ...)`` for each input."""
    edges = []
    for value, edge in zip(node.inputs, node.edges):
        if not isinstance(value, Tensor):
            continue  # settings (dims, shapes) and constants are not edges
        if edge is None:
            edges.append((None, 0))
        elif edge[0] is None:
            edges.append((accumulator(value), 0))
        else:
            edges.append(edge)
    return tuple(edges)


def register_output(tensor, attribute):
    """Record the non-leaf ``tensor`` in its producing node's ``attribute`` dict (output index -> weakref)."""
    node = tensor._ctx
    table = getattr(node, attribute)
    if table is None:
        table = {}
        setattr(node, attribute, table)
    table[tensor._out_index] = weakref.ref(tensor)


def mark_target(tensor):
    """Let ``grad`` capture the gradient of the non-leaf ``tensor`` at its producing node."""
    register_output(tensor, "_targets")


def run_prehooks(node, grads):
    for hook in node._prehooks:
        result = hook(tuple(_as_tensor(g) for g in grads))
        if result is not None:
            grads = [_like(r, g) for r, g in zip(result, grads)]
    return grads


def run_posthooks(node, input_grads, grads):
    for hook in node._posthooks:
        result = hook(tuple(_as_tensor(g) for g in input_grads), tuple(_as_tensor(g) for g in grads))
        if result is not None:
            input_grads = tuple(_like(r, g) for r, g in zip(result, input_grads))
    return input_grads


def _as_tensor(grad):
    if grad is None or isinstance(grad, Tensor):
        return grad
    return Tensor._make(grad, False)


def _like(new, old):
    """A hook's replacement gradient in the form the engine is using (array or Tensor)."""
    if new is None or isinstance(old, Tensor):
        return new
    return new._array if isinstance(new, Tensor) else as_array(new)


# ------------------------------------------------------- differentiable backward
def materialize(node, grads, tensors):
    """Multi-output ops get a zero gradient for outputs nothing depended on."""
    like = next(g for g in grads if g is not None)  # a node runs only when some output has a gradient
    like = like._array if tensors else like
    out = []
    for grad, (shape, dtype) in zip(grads, node._out_meta):
        if grad is None:
            grad = np.zeros(shape, dtype, like=like)  # beside the other gradients, on their backend
            if tensors:
                grad = Tensor._make(grad, False)
        out.append(grad)
    return out


def differentiable_backward(node, grads):
    """The input gradients of ``node`` as Tensors with a graph (``create_graph=True``)."""
    cls = type(node)
    if not (cls.linear or cls.formula or cls.composite):
        import soma.nn.functional.decomp  # noqa: F401  (sets ``composite`` on the fused kernels, on first need)
    if node._n_out > 1:
        grads = materialize(node, grads, tensors=True)
    with enable_grad():
        if cls.linear:
            result = _adjoint(node, grads)
        elif cls.formula is not None:
            result = cls.formula(node, *grads)
        elif cls.composite is not None:
            result = _through_composite(node, grads)
        else:
            raise RuntimeError(
                f"{node.name()} does not support higher-order gradients yet (create_graph=True): "
                f"{cls.__module__}.{cls.__name__} has no differentiable backward"
            )
    result = result if isinstance(result, tuple) else (result,)
    sources = [v for v in node.inputs if isinstance(v, Tensor) and v.requires_grad]
    if node.connected and sources and any(r is not None and not r.requires_grad for r in result):
        # PyTorch's gradients of a mask-times-grad formula still hang on the inputs (with zero
        # derivative), so differentiating them again gives zeros, not an error: keep that.
        result = tuple(r if r is None or r.requires_grad else Connect.apply(r, *sources) for r in result)
    return result


class Connect(Function):
    """y = g, recorded as depending on ``sources`` with zero derivative (see differentiable_backward)."""

    linear = (0,)

    @staticmethod
    def forward(ctx, g, *sources):
        return g

    @staticmethod
    def backward(ctx, grad):
        return (grad, *(np.zeros_like(source._array) for source in ctx.inputs[1:]))


def _adjoint(node, grads):
    wanted = [i for i, value in enumerate(node.inputs) if isinstance(value, Tensor) and node.needs_input_grad[i]]
    outs = Adjoint.apply(node, tuple(wanted), *grads)
    result = [None] * len(node.inputs)
    for i, out in zip(wanted, outs if isinstance(outs, tuple) else (outs,)):
        result[i] = out
    return tuple(result)


class Adjoint(Function):
    """g ↦ Jᵀg of a linear op, recorded; its own backward applies the op (J) again.

    Shape:
        inputs: the gradients of the op's outputs; outputs: the gradients of the op's
        tensor inputs at the positions ``wanted``.
    """

    @staticmethod
    def forward(ctx, node, wanted, *grads):
        ctx.node, ctx.wanted = node, wanted
        if node._n_out == 1:
            result = node.backward(node, grads[0])
        else:
            result = node.backward(node, *grads)
        result = result if isinstance(result, tuple) else (result,)
        outs = []
        for i in wanted:
            value = node.inputs[i]
            g = result[i]
            outs.append(np.zeros_like(value._array) if g is None else as_array(g))  # beside the value
        return tuple(outs)

    @staticmethod
    def backward(ctx, *ws):
        return (None, None, *_apply_op(ctx, ws, differentiable=False))

    @staticmethod
    def formula(ctx, *ws):
        return (None, None, *_apply_op(ctx, ws, differentiable=True))


def _apply_op(ctx, ws, differentiable):
    """The linear op of ``ctx.node`` applied to ``ws`` in place of its operands (zero for constants)."""
    node = ctx.node
    cls = type(node)
    if isinstance(cls.linear, tuple):
        operands = cls.linear
    else:  # linear = True: linear in every tensor argument, the others are settings
        operands = [i for i, value in enumerate(node.inputs) if isinstance(value, Tensor)]
    by_position = dict(zip(ctx.wanted, ws))
    args = list(node.inputs)
    for i in operands:
        if i in by_position:
            args[i] = by_position[i]
        else:
            args[i] = _zero_like(args[i])
    kwargs = node._kwargs or {}
    if differentiable:
        out = cls.apply(*args, **kwargs)
        return out if isinstance(out, tuple) else (out,)
    fresh = cls.__new__(cls)
    fresh.needs_input_grad = (False,) * len(args)
    out = cls.forward(fresh, *[a._array if isinstance(a, Tensor) else a for a in args], **kwargs)
    return out if isinstance(out, tuple) else (out,)


def _zero_like(value):
    """Zero in place of a constant operand, keeping a Python number's weak dtype."""
    if isinstance(value, (bool, int, float)):
        return type(value)(0)
    array = value._array if isinstance(value, Tensor) else as_array(value)
    return np.zeros_like(array)


class Alias(Function):
    """y = x: a fresh name for a node's input, where a composite's inner backward stops."""

    linear = True

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad


def _through_composite(node, grads):
    from soma.autograd.engine import grad as autograd_grad

    cls = type(node)
    args, aliases, positions = [], [], []
    for i, value in enumerate(node.inputs):
        if isinstance(value, Tensor) and node.needs_input_grad[i]:
            alias = Alias.apply(value)
            args.append(alias)
            aliases.append(alias)
            positions.append(i)
        else:
            args.append(value)
    outs = cls.composite(node, *args)
    outs = outs if isinstance(outs, tuple) else (outs,)
    pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and isinstance(o, Tensor) and o.requires_grad]
    result = [None] * len(node.inputs)
    if not pairs:
        return tuple(result)
    found = autograd_grad([o for o, _ in pairs], aliases, [g for _, g in pairs], create_graph=True,
                          allow_unused=True)
    for i, g in zip(positions, found):
        result[i] = g
    return tuple(result)
