"""The backward engine: walk the graph from the outputs back to the leaves.

Nodes are the ``Function`` instances recorded by ``Function.apply``. The engine sorts
them topologically (iteratively: a recursive walk would overflow on a long LSTM
unroll), hands each node the sum of the gradients of its outputs, and adds what its
backward returns into its inputs: into the producing node's pending gradient for an
intermediate tensor, into ``.grad`` for a leaf (or into the answer of :func:`grad`).

Two modes share the walk. Normally gradients are NumPy arrays and each node's
``backward`` runs on arrays, fast and unrecorded; the saved arrays are freed as soon as
a node has run, unless ``retain_graph``. With ``create_graph=True`` gradients are
Tensors and each node's *differentiable* backward (:mod:`soma.autograd.graph`) runs with
recording on, so the gradients themselves have a graph: differentiate them again for
Hessian-vector products or gradient penalties.
"""

import numpy as np

from soma.autograd import graph
from soma.autograd.function import _Mode, check_finite, modified_saved_arrays
from soma.backend import as_array
from soma.tensor import Tensor

__all__ = ["backward", "grad"]


def _topological_order(roots):
    """Nodes reachable from ``roots``, each after every node that consumes its outputs.

    Also counts, for each leaf with hooks, the node inputs that are that leaf: the number of
    contributions to wait for before its total gradient is delivered, as soon as it is complete
    (DDP's hooks start their all-reduce then, while backward goes on). Hooks and ``.grad`` see
    the total once, as PyTorch's AccumulateGrad; leaves without hooks get theirs at the end.
    """
    order = []
    visited = set()
    uses = {}
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for value, edge in zip(node.inputs, node.edges):
            if edge is not None:
                producer = edge[0]
                if producer is None:
                    if value._hooks:
                        uses[id(value)] = uses.get(id(value), 0) + 1
                elif producer not in visited:
                    stack.append((producer, False))
    order.reverse()
    return order, uses


def _needed(order, targets):
    """The nodes whose backward leads to a target (``grad``/``inputs=`` skip the rest)."""
    needed = set()
    for node in reversed(order):  # producers before consumers
        for value, edge in zip(node.inputs, node.edges):
            if edge is not None and (id(value) in targets or edge[0] in needed):
                needed.add(node)
                break
    return needed


class _Run:
    """One backward pass: its mode, where gradients go, and the bookkeeping of arrays handed out."""

    def __init__(self, create_graph, retain_graph, targets=None, accumulate=True):
        self.create_graph = create_graph
        self.retain_graph = retain_graph
        self.targets = targets  # {id(tensor): tensor} or None for every leaf
        self.accumulate = accumulate  # into .grad (backward), or only into self.captured (grad)
        self.captured = {}
        self.handed_out = set()

    # -------------------------------------------------------------- gradient arithmetic
    def add(self, a, b):
        if a is None:
            return b
        return a + b

    def own(self, array):
        """A gradient array safe to store in ``.grad``: not a view, not given to another tensor."""
        if array.base is not None or id(array) in self.handed_out or not array.flags.writeable:
            array = array.copy()
        self.handed_out.add(id(array))
        return array

    def run_hooks(self, tensor, grad):
        for hook in tensor._hooks:
            result = hook(grad if self.create_graph else Tensor._make(grad, False))
            if result is not None:
                if self.create_graph:
                    grad = result if isinstance(result, Tensor) else Tensor(result)
                else:
                    grad = result._array if isinstance(result, Tensor) else as_array(result)
        return grad

    # ------------------------------------------------------------------- destinations
    def to_leaf(self, leaf, grad):
        """Deliver the total gradient of a leaf: hooks, then ``.grad`` or the captured answer."""
        shape, dtype = leaf._array.shape, leaf._array.dtype
        if self.create_graph:
            if grad.shape != shape:
                grad = grad.expand(shape)
            if grad.dtype != dtype:
                grad = grad.to(dtype)
        else:
            if grad.shape != shape:
                grad = np.broadcast_to(grad, shape)
            if grad.dtype != dtype:
                grad = grad.astype(dtype)
        if leaf._hooks:
            grad = self.run_hooks(leaf, grad)
        if self.targets is not None and id(leaf) in self.targets:
            self.captured[id(leaf)] = self.add(self.captured.get(id(leaf)), grad)
            if not self.accumulate:
                return
        elif self.targets is not None:
            return
        self.store(leaf, grad)
        graph.after_accumulate(leaf)

    def store(self, tensor, grad):
        """Put ``grad`` in ``tensor.grad``, or add it to what an earlier backward left there."""
        if self.create_graph:
            tensor.grad = grad if tensor.grad is None else tensor.grad + grad
        elif tensor.grad is None:
            tensor.grad = Tensor._make(self.own(grad), False)
        elif tensor.grad.requires_grad:  # a graph-carrying grad from an earlier create_graph pass
            tensor.grad = tensor.grad.detach() + Tensor._make(grad, False)
        else:
            tensor.grad._array += grad  # the stored array is owned, so accumulating in place is safe

    def visit_outputs(self, node, grads):
        """Hooks, retain_grad and capture for the watched outputs of ``node``."""
        for index, ref in (node._watch or {}).items():
            tensor = ref()
            if tensor is None or grads[index] is None:
                continue
            if tensor._hooks:
                grads[index] = self.run_hooks(tensor, grads[index])
            if tensor._retains_grad and self.targets is None:
                self.store(tensor, grads[index])
        if self.targets is not None:
            for index, ref in (node._targets or {}).items():
                tensor = ref()
                if tensor is not None and id(tensor) in self.targets and grads[index] is not None:
                    self.captured[id(tensor)] = self.add(self.captured.get(id(tensor)), grads[index])
                    if self.accumulate:
                        self.store(tensor, grads[index])
        return grads

    # ------------------------------------------------------------------------- one node
    def call(self, node, grads):
        if self.create_graph:
            return graph.differentiable_backward(node, grads)
        if node._n_out == 1:
            input_grads = node.backward(node, grads[0])
        else:
            input_grads = node.backward(node, *graph.materialize(node, grads, tensors=False))
        return input_grads if isinstance(input_grads, tuple) else (input_grads,)

    def step(self, node, grads):
        if node._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (at {node.name()}): its saved "
                "arrays were freed after the first backward; pass retain_graph=True the first time"
            )
        if node._stamp != _Mode.clock:
            _check_versions(node)
        if node._prehooks:
            grads = graph.run_prehooks(node, grads)
        if _Mode.anomaly:
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                input_grads = self.call(node, grads)
            arrays = [g._array if isinstance(g, Tensor) else g for g in input_grads]
            check_finite(node.name(), arrays, node.inputs, "backward")
        else:
            input_grads = self.call(node, grads)
        if node._posthooks:
            input_grads = graph.run_posthooks(node, input_grads, grads)
        return input_grads

    def walk(self, seeds):
        """Propagate ``seeds`` ([(tensor, gradient)]) through the graph."""
        pending = {}
        leaves = {}  # id(leaf) -> [leaf, gradient summed so far]
        for tensor, gradient in seeds:
            if tensor._ctx is None:
                leaves[id(tensor)] = [tensor, self.add(leaves.get(id(tensor), (None, None))[1], gradient)]
                continue
            slot = pending.setdefault(tensor._ctx, [None] * tensor._ctx._n_out)
            slot[tensor._out_index] = self.add(slot[tensor._out_index], gradient)
        order, uses = _topological_order(list(pending))
        needed = None if self.targets is None else _needed(order, self.targets)
        for node in order:
            grads = pending.pop(node, None)
            if grads is not None:
                if node._watch or (needed is not None and node._targets):
                    grads = self.visit_outputs(node, grads)
                if needed is None or node in needed:
                    self.propagate(node, grads, pending, leaves)
            if uses:  # this node's contributions to leaves with hooks are in: deliver the complete ones
                for value, edge in zip(node.inputs, node.edges):
                    if edge is not None and edge[0] is None and id(value) in uses:
                        key = id(value)
                        uses[key] -= 1
                        if uses[key] == 0 and key in leaves:
                            self.to_leaf(*leaves.pop(key))
        for leaf, gradient in leaves.values():  # every other leaf, and seeds given directly on leaves
            self.to_leaf(leaf, gradient)

    def propagate(self, node, grads, pending, leaves):
        """Run ``node``'s backward and add its input gradients to the producers' (or leaves') totals."""
        # (the hot path of every backward: the plain case is inlined, measured 40% faster on small graphs)
        if (node._n_out != 1 or node._freed or node._stamp != _Mode.clock or node._prehooks or node._posthooks
                or _Mode.anomaly or self.create_graph):
            input_grads = self.step(node, grads)
        else:
            input_grads = node.backward(node, grads[0])
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
        for value, edge, grad in zip(node.inputs, node.edges, input_grads):
            if grad is None or edge is None:
                continue
            producer, index = edge
            if producer is None:
                entry = leaves.get(id(value))
                if entry is None:
                    leaves[id(value)] = [value, grad]
                else:
                    entry[1] = entry[1] + grad
                continue
            slot = pending.get(producer)
            if slot is None:
                slot = pending[producer] = [None] * producer._n_out
            old = slot[index]
            slot[index] = grad if old is None else old + grad
        if not self.retain_graph:
            _free(node)


_KEPT = frozenset(("inputs", "edges", "needs_input_grad", "_n_out", "_out_meta", "_watch", "_targets", "_prehooks",
                   "_posthooks", "_metadata", "_kwargs"))


def _free(node):
    """Drop everything the node kept for its backward (saved arrays, masks, gates), keeping the graph's edges."""
    state = node.__dict__
    for key in [k for k in state if k not in _KEPT]:
        del state[key]
    node._freed = True


def _check_versions(node):
    for array in modified_saved_arrays(node):
        raise RuntimeError(
            f"one of the variables needed for gradient computation of {node.name()} "
            f"(shape {tuple(array.shape)}) has been modified by an inplace operation "
            "after the forward pass. Use an out-of-place operation (x = x + y instead of "
            "x += y), or call backward before changing it."
        )


def _as_sequence(value):
    if value is None:
        return None
    return [value] if isinstance(value, Tensor) else list(value)


def _seeds(outputs, gradients, create_graph, opname):
    """Pair each output with its starting gradient (ones for a scalar output)."""
    gradients = [None] * len(outputs) if gradients is None else _as_sequence(gradients)
    if len(gradients) != len(outputs):
        raise RuntimeError(f"{opname}: got {len(gradients)} gradients for {len(outputs)} outputs")
    seeds = []
    for i, (tensor, gradient) in enumerate(zip(outputs, gradients)):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{opname}: expected a Tensor as output {i}, got {type(tensor).__name__}")
        if not tensor.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn: "
                "call .requires_grad_() on a leaf before computing the output"
            )
        if gradient is None:
            if tensor._array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this output has shape "
                    f"{tuple(tensor.shape)}: pass a gradient of that shape"
                )
            array = tensor._array
            gradient = np.ones(array.shape, array.dtype, like=array)  # (np.ones_like's wrapper costs ~3 µs more)
        elif isinstance(gradient, Tensor) and create_graph:
            _check_seed_shape(gradient, tensor)
            seeds.append((tensor, gradient if gradient.dtype == tensor.dtype else gradient.to(tensor.dtype)))
            continue
        else:
            gradient = gradient._array if isinstance(gradient, Tensor) else as_array(gradient)
            _check_seed_shape(gradient, tensor)
            gradient = gradient.astype(tensor._array.dtype, copy=True)
        seeds.append((tensor, Tensor._make(gradient, False) if create_graph else gradient))
    return seeds


def _check_seed_shape(gradient, tensor):
    if tuple(gradient.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"backward: gradient has shape {tuple(gradient.shape)} but the output has shape {tuple(tensor.shape)}"
        )


def _execute(seeds_of, outputs, gradients, retain_graph, create_graph, targets, accumulate, opname):
    if retain_graph is None:
        retain_graph = create_graph
    run = _Run(create_graph, retain_graph, targets, accumulate)
    previous, _Mode.grad = _Mode.grad, create_graph
    try:
        run.walk(seeds_of(outputs, gradients, create_graph, opname))
    finally:
        _Mode.grad = previous
    return run


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    As ``torch.autograd.backward``: ``tensors`` is a tensor or a sequence of them,
    ``grad_tensors`` their starting gradients (default ones for scalars); with ``inputs``
    only those tensors accumulate. ``create_graph=True`` records the backward pass, so the
    accumulated ``.grad`` can be differentiated again; ``retain_graph`` defaults to it.
    """
    outputs = _as_sequence(tensors)
    targets = None
    if inputs is not None:
        targets = _targets(_as_sequence(inputs), "backward")
    _execute(_seeds, outputs, grad_tensors, retain_graph, create_graph, targets, True, "backward")


def _targets(inputs, opname):
    if not inputs:
        raise RuntimeError(f"{opname}: 'inputs' must not be empty")
    targets = {}
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{opname}: input {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"{opname}: input {i} (shape {tuple(t.shape)}) does not require grad")
        targets[id(t)] = t
        if t._ctx is not None:
            graph.mark_target(t)
    return targets


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple; no ``.grad`` changes.

    As ``torch.autograd.grad``. With ``create_graph=True`` the returned gradients have a
    graph of their own (``soma.autograd.grad(loss, x, create_graph=True)[0].pow(2).sum()``
    can be differentiated again: a gradient penalty). Inputs the outputs do not depend on
    raise unless ``allow_unused`` (they come back as None, or zeros with
    ``materialize_grads``).
    """
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported; loop over the batch")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True requires allow_unused=True (or None)")
    inputs = _as_sequence(inputs)
    targets = _targets(inputs, "grad")
    outputs = _as_sequence(outputs)
    run = _execute(_seeds, outputs, grad_outputs, retain_graph, create_graph, targets, False, "grad")
    result = []
    for i, t in enumerate(inputs):
        value = run.captured.get(id(t))
        if value is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {tuple(t.shape)}) was not used to compute the outputs; "
                    "pass allow_unused=True"
                )
            if materialize_grads:
                value = Tensor._make(np.zeros_like(t._array), False)
        elif not isinstance(value, Tensor):
            value = Tensor._make(run.own(value) if value.shape == t._array.shape else value.copy(), False)
        result.append(value)
    return tuple(result)


def watch(tensor):
    """Register ``tensor`` with its producing node so hooks and retain_grad see its gradient."""
    graph.register_output(tensor, "_watch")
