"""The backward engine: walk the graph from an output back to the leaves.

Nodes are the ``Function`` instances recorded by ``Function.apply``. The engine sorts
them topologically (iteratively: a recursive walk would overflow on a long LSTM
unroll), hands each node the sum of the gradients of its outputs, and adds what its
``backward`` returns into its inputs: into the next node's pending gradient for an
intermediate tensor, into ``.grad`` for a leaf. Unless ``retain_graph`` is set, the
saved arrays are freed as soon as a node has run.
"""

import weakref

import numpy as np

from soma.autograd.function import _Mode, check_finite, modified_saved_arrays
from soma.tensor import Tensor

__all__ = ["backward", "grad"]


def _topological_order(root):
    """Nodes reachable from ``root``, each after every node that consumes its outputs."""
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for value in node.inputs:
            if isinstance(value, Tensor) and value._ctx is not None and value._ctx not in visited:
                stack.append((value._ctx, False))
    order.reverse()
    return order


def _own(array, handed_out):
    """A gradient array safe to store in ``.grad``: not a view, not given to another tensor."""
    if array.base is not None or id(array) in handed_out or not array.flags.writeable:
        array = array.copy()
    handed_out.add(id(array))
    return array


def _run_hooks(tensor, grad):
    for hook in tensor._hooks:
        result = hook(Tensor._make(grad, False))
        if result is not None:
            grad = result._array if isinstance(result, Tensor) else np.asarray(result)
    return grad


def _accumulate_leaf(leaf, grad, handed_out):
    if grad.shape != leaf._array.shape:
        grad = np.broadcast_to(grad, leaf._array.shape)
    if grad.dtype != leaf._array.dtype:
        grad = grad.astype(leaf._array.dtype)
    if leaf._hooks:
        grad = _run_hooks(leaf, grad)
    _store_grad(leaf, grad, handed_out)


def _store_grad(tensor, grad, handed_out):
    """Put ``grad`` in ``tensor.grad``, or add it to what an earlier backward left there."""
    if tensor.grad is None:
        tensor.grad = Tensor._make(_own(grad, handed_out), False)
    else:
        tensor.grad._array += grad  # the stored array is owned, so accumulating in place is safe


def _visit_outputs(node, grads, handed_out):
    """Apply hooks and retain_grad for the watched outputs of ``node``; returns the grads."""
    for index, ref in node._watch.items():
        tensor = ref()
        if tensor is None:
            continue
        grad = grads[index]
        if grad is None:
            continue
        if tensor._hooks:
            grad = _run_hooks(tensor, grad)
            grads[index] = grad
        if tensor._retains_grad:
            _store_grad(tensor, grad, handed_out)
    return grads


def _check_versions(node):
    for array in modified_saved_arrays(node):
        raise RuntimeError(
            f"one of the variables needed for gradient computation of {node.name} "
            f"(shape {tuple(array.shape)}) has been modified by an inplace operation "
            "after the forward pass. Use an out-of-place operation (x = x + y instead of "
            "x += y), or call backward before changing it."
        )


def backward(tensor, gradient=None, retain_graph=False):
    """Accumulate d(tensor)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: "
            "call .requires_grad_() on a leaf before computing the output"
        )
    if gradient is None:
        if tensor._array.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has shape "
                f"{tuple(tensor.shape)}: pass backward(gradient=...) of that shape"
            )
        gradient = np.ones_like(tensor._array)
    else:
        gradient = gradient._array if isinstance(gradient, Tensor) else np.asarray(gradient)
        if gradient.shape != tensor._array.shape:
            raise RuntimeError(
                f"backward: gradient has shape {tuple(gradient.shape)} but the output has shape "
                f"{tuple(tensor.shape)}"
            )
        gradient = gradient.astype(tensor._array.dtype, copy=True)
    handed_out = set()
    root = tensor._ctx
    if root is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(tensor, gradient, handed_out)
        return

    pending = {root: _seed(root, tensor, gradient)}
    anomaly = _Mode.anomaly
    for node in _topological_order(root):
        grads = pending.pop(node, None)
        if grads is None:
            continue
        if node._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (at {node.name}): its saved "
                "arrays were freed after the first backward; pass retain_graph=True the first time"
            )
        if node._stamp != _Mode.clock:
            _check_versions(node)
        if node._watch:
            grads = _visit_outputs(node, grads, handed_out)
        if anomaly:
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                input_grads = _call_backward(node, grads)
            check_finite(node.name, input_grads, node.inputs, "backward")
        else:
            input_grads = _call_backward(node, grads)
        for value, grad in zip(node.inputs, input_grads):
            if grad is None or not isinstance(value, Tensor) or not value.requires_grad:
                continue
            producer = value._ctx
            if producer is None:
                _accumulate_leaf(value, grad, handed_out)
                continue
            slot = pending.get(producer)
            if slot is None:
                slot = pending[producer] = [None] * producer._n_out
            index = value._out_index
            slot[index] = grad if slot[index] is None else slot[index] + grad
        if not retain_graph:
            node.saved_tensors = ()
            node._freed = True


def _call_backward(node, grads):
    if node._n_out == 1:
        input_grads = node.backward(node, grads[0])
    else:
        input_grads = node.backward(node, *_materialize(node, grads))
    return input_grads if isinstance(input_grads, tuple) else (input_grads,)


def _seed(root, tensor, gradient):
    slot = [None] * root._n_out
    slot[tensor._out_index] = gradient
    return slot


def _materialize(node, grads):
    """Multi-output ops get a zero gradient for outputs nothing depended on."""
    return [
        np.zeros(shape, dtype) if grad is None else grad
        for grad, (shape, dtype) in zip(grads, node._out_meta)
    ]


def watch(tensor):
    """Register ``tensor`` with its producing node so hooks and retain_grad see its gradient."""
    node = tensor._ctx
    if node._watch is None:
        node._watch = {}
    node._watch[tensor._out_index] = weakref.ref(tensor)


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) without touching any ``.grad`` (like ``torch.autograd.grad``)."""
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    saved = [(t.grad, t._hooks, t._retains_grad) for t in inputs]
    for t in inputs:
        t.grad = None
        if t._ctx is not None:
            t._retains_grad = True
            watch(t)
    try:
        backward(outputs, grad_outputs, retain_graph=retain_graph)
        result = []
        for t in inputs:
            if t.grad is None and not allow_unused:
                raise RuntimeError(
                    f"grad: an input of shape {tuple(t.shape)} was not used to compute the outputs; "
                    "pass allow_unused=True"
                )
            result.append(t.grad)
    finally:
        for t, (old_grad, hooks, retains) in zip(inputs, saved):
            t.grad, t._hooks, t._retains_grad = old_grad, hooks, retains
    return result[0] if single else tuple(result)
