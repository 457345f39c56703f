"""``Function``: one differentiable operation, its forward and its backward side by side.

An op is a subclass with two static methods working on plain arrays::

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x ** 2   # d(x³)/dx = 3x²

    y = Cube.apply(x)

``apply`` unwraps the tensors, runs ``forward`` and, when grad mode is on and an input
requires grad, records the call (``ctx`` itself is the graph node) so that the engine
can call ``backward`` later. ``backward`` returns one gradient per positional argument
of ``forward`` (``None`` for arguments that need none) and must not modify
``grad_output`` in place: the same array may be handed to several ops.
"""

import functools
import weakref
from typing import Any

import numpy as np

from soma.backend import is_array
from soma.tensor import Tensor

__all__ = [
    "Function",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
]


class _Mode:
    grad = True
    anomaly = False
    clock = 0  # advanced by every in-place change; see mark_dirty


def is_grad_enabled():
    """True when operations are being recorded for backward."""
    return _Mode.grad


def _with_grad_mode(fn, mode):
    """``fn`` wrapped to run with recording switched to ``mode`` (the decorator form)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        previous, _Mode.grad = _Mode.grad, mode
        try:
            return fn(*args, **kwargs)
        finally:
            _Mode.grad = previous

    return wrapper


class no_grad:
    """Run without recording a graph (inference, optimizer updates, initialization).

    A context manager (``with soma.no_grad():``) and a decorator (``@soma.no_grad()``).
    """

    mode = False

    def __enter__(self):
        self.previous, _Mode.grad = _Mode.grad, self.mode
        return self

    def __exit__(self, *exc):
        _Mode.grad = self.previous
        return False

    def __call__(self, fn):
        return _with_grad_mode(fn, self.mode)


class enable_grad(no_grad):
    """Record a graph again inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(no_grad):
    """Turn recording on or off: as a context manager, a decorator, or a plain call."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self.previous, _Mode.grad = _Mode.grad, self.mode  # like PyTorch, the call itself switches

    def __enter__(self):
        return self

    def __call__(self, fn):
        _Mode.grad = self.previous  # used as a decorator: undo the switch made in __init__
        return _with_grad_mode(fn, self.mode)


class detect_anomaly:
    """Raise at the first op whose forward or backward produces NaN or Inf, naming it.

    Example::

        with soma.autograd.detect_anomaly():
            loss = model(x).log().sum()
            loss.backward()     # RuntimeError: Log produced nan in its forward pass ...
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.previous = _Mode.anomaly
        _Mode.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        _Mode.anomaly = self.previous
        return False


def is_anomaly_enabled():
    return _Mode.anomaly


def _describe_inputs(inputs):
    parts = []
    for value in inputs:
        if isinstance(value, Tensor):
            parts.append(f"Tensor(shape={tuple(value.shape)}, dtype={value.dtype})")
        else:
            parts.append(type(value).__name__)
    return ", ".join(parts)


def check_finite(name, arrays, inputs, where):
    """Raise when any float array in ``arrays`` holds NaN or Inf (anomaly mode)."""
    for array in arrays:
        if array is None or not np.issubdtype(array.dtype, np.floating):
            continue
        if not np.isfinite(array).all():
            bad = "nan" if np.isnan(array).any() else "inf"
            raise RuntimeError(
                f"{name} produced {bad} in its {where} pass "
                f"(inputs: {_describe_inputs(inputs)}; output shape {tuple(array.shape)})"
            )


class Function:
    """Base class of every differentiable operation; see the module docstring.

    Attributes available on ``ctx`` inside ``forward``/``backward``:
        needs_input_grad: a tuple of bools, one per positional argument.
        edges: per positional argument, None or (producer node or None for a leaf, output index),
            taken at the call, so later in-place changes of an input do not rewrite this history.
        saved_tensors: the arrays given to ``save_for_backward``.
        inputs: the positional arguments (tensors and constants) of the call.
    """

    saved_tensors = ()
    _n_out = 1
    _watch = None  # {output index: weakref to the output tensor} for retain_grad/hooks
    _targets = None  # {output index: weakref} of outputs whose gradient autograd.grad asks for
    _stamp = 0
    _freed = False
    _kwargs = None  # keyword arguments of the call, kept for re-applying a linear op
    _prehooks = ()
    _posthooks = ()

    # How the backward is differentiated under create_graph=True (see soma.autograd.graph):
    linear: Any = False  # True, or the positions of the operands the op is linear in
    formula: Any = None  # staticmethod (ctx, *grad_outputs) -> input gradients in differentiable soma ops
    composite: Any = None  # staticmethod (ctx, *inputs) -> the forward in differentiable primitive ops
    connected = False  # True: a mask-times-grad formula whose result PyTorch still hangs on the inputs
    is_view = False  # True: the output may share the first input's memory (see TensorBase._inplace)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def name(self):
        """PyTorch's name of this backward node, e.g. ``"MulBackward0"``."""
        return f"{type(self).__name__}Backward0"

    def __repr__(self):
        return f"<{self.name()}>"

    @property
    def next_functions(self):
        """``((node, output index), ...)`` per input: its producer, AccumulateGrad for a leaf, or None."""
        from soma.autograd.graph import next_functions

        return next_functions(self)

    @property
    def metadata(self):
        if "_metadata" not in self.__dict__:
            self._metadata = {}
        return self._metadata

    def register_hook(self, hook):
        """``hook(grad_inputs, grad_outputs)`` after this node's backward; it may return new grad_inputs."""
        from soma.autograd.graph import RemovableHandle

        self._posthooks = (*self._posthooks, hook)
        return RemovableHandle(self, "_posthooks", hook)

    def register_prehook(self, hook):
        """``hook(grad_outputs)`` before this node's backward; it may return new grad_outputs."""
        from soma.autograd.graph import RemovableHandle

        self._prehooks = (*self._prehooks, hook)
        return RemovableHandle(self, "_prehooks", hook)

    @classmethod
    def apply(cls, *args, **kwargs):
        # The hot path of every op: kept to plain loops and attribute stores (about 1 µs
        # on top of the arithmetic; comprehensions and helper calls measured slower).
        ctx = cls.__new__(cls)
        arrays = []
        track = False
        if _Mode.grad:
            needs = []
            edges = []  # (producer node or None for a leaf, its output index), fixed now: a later in-place
            for arg in args:  # op on an input gives the input a new node, not this op's history
                if isinstance(arg, Tensor):
                    arrays.append(arg._array)
                    if arg.requires_grad:
                        needs.append(True)
                        edges.append((arg._ctx, arg._out_index))
                        track = True
                    else:
                        needs.append(False)
                        edges.append(None)
                else:
                    arrays.append(arg)
                    needs.append(False)
                    edges.append(None)
            ctx.needs_input_grad = needs
            ctx.edges = edges
        else:
            for arg in args:
                arrays.append(arg._array if isinstance(arg, Tensor) else arg)
        if not track:
            ctx.needs_input_grad = (False,) * len(args)
        if _Mode.anomaly:  # NumPy's warnings would pre-empt the message naming the op
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                out = cls.forward(ctx, *arrays, **kwargs)
            check_finite(cls.__name__, out if type(out) is tuple else (out,), args, "forward")
        else:
            out = cls.forward(ctx, *arrays, **kwargs)
        if type(out) is tuple:
            if kwargs and track:
                ctx._kwargs = kwargs
            return _wrap_outputs(ctx, args, out, track)
        result = Tensor._make(out, track)
        if track:
            result._ctx = ctx
            ctx.inputs = args
            ctx._stamp = _Mode.clock
            if kwargs:
                ctx._kwargs = kwargs
        if cls.is_view and _root(out) is _root(arrays[0]):
            result._view = (args[0], cls, args[1])
        return result


def _wrap_outputs(ctx, args, out, track):
    outputs = tuple(Tensor._make(o, track) for o in out)
    if track:
        ctx._n_out = len(outputs)
        ctx._out_meta = [(o._array.shape, o._array.dtype) for o in outputs]
        for index, tensor in enumerate(outputs):
            tensor._ctx = ctx
            tensor._out_index = index
        ctx.inputs = args
        ctx._stamp = _Mode.clock
    return outputs


_dirty = {}  # id(storage root) -> (weakref to the root, clock of its last in-place change)


def _root(array):
    """The array that owns ``array``'s memory (views share their base's root)."""
    kind = type(array)
    while isinstance(array.base, kind):  # (a NumPy base may be bytes or a memory map: the chain stops there)
        array = array.base
    return array


def _forget(key):
    return lambda _ref: _dirty.pop(key, None)


def mark_dirty(*tensors):
    """Record that ``tensors`` were changed in place (by an in-place op or an optimizer step).

    Each in-place change advances one global clock, bumps the tensor's ``_version`` and
    stamps the memory it lives in (the root array of any view) with the clock. A node
    remembers the clock at its forward; if the clock has moved by its backward, the engine
    checks whether any array it saved lives in memory stamped since, and raises instead of
    returning a wrong gradient. Views are covered: changing ``x[0]`` in place stamps ``x``.
    The common case (nothing changed in between) costs one comparison.
    """
    _Mode.clock += 1
    clock = _Mode.clock
    for tensor in tensors:
        tensor._version += 1
        array = tensor._array
        if is_array(array):
            root = _root(array)
            key = id(root)
            entry = _dirty.get(key)
            if entry is not None and entry[0]() is root:
                _dirty[key] = (entry[0], clock)
            else:
                _dirty[key] = (weakref.ref(root, _forget(key)), clock)


def modified_since(array, stamp):
    """True if the memory ``array`` lives in was changed in place after clock ``stamp``."""
    if not is_array(array):
        return False
    root = _root(array)
    entry = _dirty.get(id(root))
    return entry is not None and entry[1] > stamp and entry[0]() is root


def modified_saved_arrays(node):
    """The arrays ``node`` saved for backward that were changed in place after its forward."""
    return [a for a in node.saved_tensors if modified_since(a, node._stamp)]
