"""``TensorBase``: what a Tensor stores, and its autograd bookkeeping.

The storage half of :class:`soma.Tensor`: the array, its gradient, the node that
made it, conversions, printing and the in-place operations. The math (every method
that hands the array to an op in :mod:`soma.ops`) is in :mod:`soma.tensor`.
"""

import numpy as np

from soma import backend
from soma.backend import as_array

__all__ = ["TensorBase"]

_FLOAT_DEFAULT = np.dtype(np.float32)


def _infer_array(data, dtype):
    """The array for ``soma.tensor(data, dtype)``: Python floats become the default float dtype, ints int64."""
    from soma._promotion import get_default_dtype

    if isinstance(data, TensorBase):
        data = data._array
    if isinstance(data, np.ndarray) or type(as_array(data)) is not np.ndarray:  # an array of any backend
        return data.astype(dtype, copy=True) if dtype is not None else data.copy()
    if isinstance(data, (list, tuple)) and any(isinstance(item, TensorBase) for item in data):
        data = [item._array if isinstance(item, TensorBase) else item for item in data]
    try:
        array = np.array(data)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"soma.tensor: cannot make a tensor from this data ({error})") from None
    wants_integer = dtype is None or np.dtype(dtype).kind in "iub"
    if wants_integer and array.dtype.kind in "uOf" and _has_big_int(data):
        raise ValueError("Overflow when unpacking long long (an integer does not fit in int64)")
    if array.dtype.kind == "O" and not wants_integer:
        array = array.astype(np.float64)
    if array.dtype.kind in "OUSV":
        raise TypeError(f"soma.tensor: new(): invalid data type '{type(_first(data)).__name__}'")
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind in "iu" and array.dtype.kind in "iu" and array.size:
            _check_integer_range(array, dtype)
        return array.astype(dtype, copy=False)
    if array.dtype.kind == "f":
        return array.astype(get_default_dtype(), copy=False)
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    if array.dtype.kind == "c":
        return array.astype(np.complex128 if get_default_dtype() == np.float64 else np.complex64, copy=False)
    return array


def _check_integer_range(array, dtype):
    """PyTorch's overflow check for Python integers stored in an integer dtype (unsigned accept down to -max)."""
    info = np.iinfo(dtype)
    low = -int(info.max) if info.min == 0 else int(info.min)
    if int(array.min()) < low or int(array.max()) > int(info.max):
        raise RuntimeError(f"value cannot be converted to type {dtype} without overflow")


def _first(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _has_big_int(data):
    if isinstance(data, (list, tuple)):
        return any(_has_big_int(item) for item in data)
    return isinstance(data, int) and not -(2**63) <= data < 2**63


class TensorBase:
    """Storage and bookkeeping shared by every tensor; see :class:`soma.Tensor`."""

    __slots__ = (
        "_array",
        "grad",
        "requires_grad",
        "_ctx",
        "_out_index",
        "_version",
        "_retains_grad",
        "_hooks",
        "_view",  # (base tensor, view op, its argument) when this tensor's memory is a view of base's
        "__weakref__",
    )
    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad=False):
        self._array = _infer_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._out_index = 0
        self._version = 0
        self._retains_grad = False
        self._hooks = ()
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array, requires_grad):
        """Wrap an array without copying (the ops' fast path); NumPy scalars become 0-d arrays."""
        if type(array) is not np.ndarray:
            array = as_array(array)
        tensor = object.__new__(cls)
        tensor._array = array
        tensor.grad = None
        tensor.requires_grad = requires_grad
        tensor._ctx = None
        tensor._out_index = 0
        tensor._version = 0
        tensor._retains_grad = False
        tensor._hooks = ()
        return tensor

    # ----------------------------------------------------------------- properties
    @property
    def data(self):
        """This tensor's values as a tensor cut from the graph, sharing storage (PyTorch's ``.data``)."""
        return type(self)._make(self._array, False)

    @data.setter
    def data(self, value):
        if not isinstance(value, TensorBase):
            raise TypeError(f"Tensor.data must be set to a Tensor, not {type(value).__name__}")
        self._array = value._array

    @property
    def shape(self):
        return self._array.shape

    @property
    def dtype(self):
        return self._array.dtype

    @property
    def ndim(self):
        return self._array.ndim

    @property
    def device(self):
        """The :class:`soma.device` this tensor's storage lives on (its array's backend decides)."""
        from soma._device import device_of

        return device_of(self._array)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return type(self._array) is np.ndarray or self.device.type == "cpu"

    def _to_device(self, where, op):
        """This tensor on the device ``where`` names (itself if it is there already); differentiable."""
        from soma._device import backend_for, resolve

        target = backend_for(resolve(where, op))
        if target.array_type is type(self._array):
            return self
        from soma.ops.shape import ToDevice

        return ToDevice.apply(self, target)

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    def is_floating_point(self):
        return self._array.dtype.kind == "f"

    def size(self, dim=None):
        return self._array.shape if dim is None else self._array.shape[dim]

    def dim(self):
        return self._array.ndim

    def numel(self):
        return self._array.size

    def element_size(self):
        return self._array.itemsize

    # ------------------------------------------------------- autograd bookkeeping
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into every leaf; see :mod:`soma.autograd`."""
        from soma.autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    def requires_grad_(self, requires_grad=True):
        if self._ctx is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf tensors; use .detach() instead"
            )
        if requires_grad and self._array.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, not {self._array.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if self._ctx is None:
            return
        from soma.autograd.engine import watch

        self._retains_grad = True
        watch(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new grad."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from soma.autograd.graph import RemovableHandle

        self._hooks = (*self._hooks, hook)
        if self._ctx is not None:
            from soma.autograd.engine import watch

            watch(self)
        return RemovableHandle(self, "_hooks", hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after a backward has accumulated into this leaf's ``.grad``."""
        if self._ctx is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from soma.autograd.graph import RemovableHandle, accumulator

        acc = accumulator(self)
        acc._post_hooks = (*acc._post_hooks, hook)
        return RemovableHandle(acc, "_post_hooks", hook)

    def detach_(self):
        self._ctx = None
        self.requires_grad = False
        return self

    # ----------------------------------------------------------------- conversion
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        if type(self._array) is not np.ndarray:
            self._host_only("numpy")
        return self._array

    def _host_only(self, what):
        raise TypeError(
            f"can't convert {self.device} device type tensor to {what}. Use Tensor.cpu() to copy the tensor to "
            "host memory first."
        )

    def item(self):
        if self._array.size != 1:
            raise ValueError(
                f"a Tensor with {self._array.size} elements cannot be converted to Scalar"
            )
        return self._array.item()

    def tolist(self):
        return self._array.tolist()

    def cpu(self):
        return self._to_device("cpu", "Tensor.cpu")

    def contiguous(self, memory_format=None):
        """This tensor if its memory is C-ordered, else a C-ordered copy (differentiable)."""
        if self._array.flags.c_contiguous:
            return self
        from soma.ops import clone

        return clone(self)

    def is_contiguous(self, memory_format=None):
        return bool(self._array.flags.c_contiguous)

    def __array__(self, dtype=None, copy=None):
        if type(self._array) is not np.ndarray:
            self._host_only("a NumPy array")
        return self._array if dtype is None else self._array.astype(dtype)

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __bool__(self):
        if self._array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._array.size} values is ambiguous"
            )
        return bool(self._array)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._array.dtype.kind not in "iub" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._array)

    def __format__(self, spec):
        if self._array.ndim == 0:
            return format(self._array.item(), spec)
        return format(str(self), spec)

    def __repr__(self):
        from soma._printing import array_body  # soma.set_printoptions's options

        body = array_body(self._array)
        extras = []
        if self._array.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype=soma.{self._array.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # -------------------------------------------------------------- in-place ops
    def _inplace(self, name, op, *args, cast=False, **kwargs):
        """``self <- op(self, *args)`` in place, with PyTorch's rules; returns ``self``.

        ``op`` is the out-of-place function. Outside the graph (no input requires grad, or
        grad mode is off) its result is written into this tensor's memory. Inside the graph,
        a leaf that requires grad is an error; any other tensor is rebased: ``op`` runs on a
        copy that takes over this tensor's history, the result is written back, and this
        tensor becomes that result's node output (as ``y = x * 2; y.add_(1)`` in PyTorch).
        The result must keep this tensor's shape and be castable to its dtype without
        leaving its category (``cast=True``, for copy_ and fill_, casts anything).
        """
        from soma.autograd.function import _Mode, mark_dirty, no_grad

        tracked = _Mode.grad and (
            self.requires_grad or any(isinstance(a, TensorBase) and a.requires_grad for a in args)
        )
        if not tracked:
            with no_grad():
                result = op(self, *args, **kwargs)
            self._check_inplace(name, result, cast)
            np.copyto(self._array, result._array, casting="unsafe")
            mark_dirty(self)
            return self
        if self.requires_grad and self._ctx is None:
            raise RuntimeError(
                f"{name}: a leaf Variable that requires grad is being used in an in-place operation; "
                "wrap it in `with soma.no_grad():` or use the out-of-place form (x = x + y)"
            )
        view = getattr(self, "_view", None)
        if view is not None:
            _check_view_chain(name, view)
        shadow = type(self)._make(self._array.copy(), self.requires_grad)
        shadow._ctx, shadow._out_index = self._ctx, self._out_index
        result = op(shadow, *args, **kwargs)
        self._check_inplace(name, result, cast)
        if result._array.dtype != self._array.dtype:
            result = result.to(self._array.dtype)
        np.copyto(self._array, result._array)
        mark_dirty(self)
        node = result._ctx
        if node is None and self.requires_grad:  # a result outside the graph (eq_, a comparison): the history
            from soma.ops.rounding import Step  # ends here, with a zero gradient, as in PyTorch

            held = result._array
            result = Step.apply(shadow, lambda _: held)
            node = result._ctx
        if node is not None:  # the node now describes this tensor, whose memory holds its output
            node.saved_tensors = tuple(self._array if a is result._array else a for a in node.saved_tensors)
            node._stamp = _Mode.clock
            self._ctx, self._out_index, self.requires_grad = node, result._out_index, True
            if view is not None:
                _rebase_base(self, *view)
        return self

    def _check_inplace(self, name, result, cast):
        if result._array.shape != self._array.shape:
            raise RuntimeError(
                f"{name}: output with shape {list(self._array.shape)} doesn't match the broadcast shape "
                f"{list(result._array.shape)}"
            )
        if not cast and result._array.dtype != self._array.dtype:
            from soma._promotion import can_cast

            if not can_cast(result._array.dtype, self._array.dtype):
                raise RuntimeError(
                    f"{name}: result type {result._array.dtype} can't be cast to the desired output type "
                    f"{self._array.dtype}"
                )

    def add_(self, other, *, alpha=1):
        return self._inplace("add_", _ops().add, other, alpha=alpha)

    def sub_(self, other, *, alpha=1):
        return self._inplace("sub_", _ops().sub, other, alpha=alpha)

    def mul_(self, other):
        return self._inplace("mul_", _ops().mul, other)

    def div_(self, other, *, rounding_mode=None):
        return self._inplace("div_", _ops().div, other, rounding_mode=rounding_mode)

    def pow_(self, exponent):
        return self._inplace("pow_", _ops().pow, exponent)

    def remainder_(self, other):
        return self._inplace("remainder_", _ops().remainder, other)

    def fmod_(self, other):
        return self._inplace("fmod_", _ops().fmod, other)

    def floor_divide_(self, other):
        return self._inplace("floor_divide_", _ops().floor_divide, other)

    __iadd__, __isub__, __imul__, __itruediv__, __ipow__ = add_, sub_, mul_, div_, pow_

    def __imod__(self, other):
        return self.remainder_(other)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        if isinstance(value, TensorBase) and value.ndim:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions."
            )
        return self._inplace("fill_", _fill, value, cast=True)

    def copy_(self, src, non_blocking=False):
        if not isinstance(src, TensorBase):
            raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
        return self._inplace("copy_", _copy, src, cast=True)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", _ops().clamp, min, max)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", _ops().masked_fill, mask, value)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        from soma.random import generator as global_generator

        return self._fill_random("uniform_", lambda g: g.uniform(a, b, self._array.shape), generator
                                 or global_generator())

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        from soma.random import generator as global_generator

        if std < 0:
            raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
        return self._fill_random("normal_", lambda g: g.normal(mean, std, self._array.shape), generator
                                 or global_generator())

    def _fill_random(self, name, draw, generator):
        from soma.autograd.function import _Mode, mark_dirty

        if _Mode.grad and self.requires_grad:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation.")
        if self._array.dtype.kind not in "fc":
            raise RuntimeError(f"{name}: not implemented for integer tensors ({self._array.dtype}); use random_")
        self._array[...] = backend.of(self._array).transfer(draw(generator))  # host draws, one stream everywhere
        mark_dirty(self)
        return self


def _check_view_chain(name, view):
    """An in-place op may not reach, through views, a leaf that requires grad (checked before anything changes)."""
    while view is not None:
        base = view[0]
        if base.requires_grad and base._ctx is None:
            raise RuntimeError(
                f"{name}: a view of a leaf Variable that requires grad is being used in an in-place operation; "
                "wrap it in `with soma.no_grad():` or change a clone"
            )
        view = getattr(base, "_view", None)


def _rebase_base(view, base, op, argument):
    """After an in-place op on ``view``, make ``base`` (whose memory it changed) record it, up the view chain.

    PyTorch's CopySlices: base becomes "base with the view's region replaced by the view's new
    value"; a reshape or permute view covers its whole base, which becomes the view reshaped or
    permuted back.
    """
    from soma.ops.indexing import CopySlices, GetItem
    from soma.ops.shape import Permute, Reshape

    shadow = type(base)._make(base._array, base.requires_grad)
    shadow._ctx, shadow._out_index = base._ctx, base._out_index
    if op is GetItem:
        new = CopySlices.apply(shadow, argument, view)
    elif op is Reshape:
        new = Reshape.apply(view, base._array.shape)
    elif op is Permute:
        new = Permute.apply(view, tuple(int(i) for i in np.argsort(argument)))
    else:  # pragma: no cover  (every is_view op is handled above)
        raise NotImplementedError(f"in-place on a view made by {op.__name__}")
    base._ctx, base._out_index, base.requires_grad = new._ctx, new._out_index, True
    base._version += 1
    outer = getattr(base, "_view", None)
    if outer is not None:
        _rebase_base(base, *outer)


def _ops():
    from soma import ops

    return ops


def _fill(target, value):
    """``target``'s shape filled with ``value`` (a number or a 0-d tensor, which receives the gradient)."""
    ops = _ops()
    return ops.where(_true_like(target), ops.to_dtype(value, target._array.dtype), target)


def _copy(target, src):
    ops = _ops()
    src = ops.to_dtype(src, target._array.dtype)
    if src.shape != target.shape:
        src = ops.expand(src, target.shape)
    return ops.where(_true_like(target), src, target)


def _true_like(target):
    return type(target)._make(np.ones_like(target._array, dtype=bool), False)
