"""``TensorBase``: what a Tensor stores, and its autograd bookkeeping.

The storage half of :class:`soma.Tensor`: the array, its gradient, the node that
made it, conversions, printing and the in-place operations. The math (every method
that hands the array to an op in :mod:`soma.ops`) is in :mod:`soma.tensor`.
"""

import numpy as np

__all__ = ["TensorBase"]

_FLOAT_DEFAULT = np.dtype(np.float32)


def _infer_array(data, dtype):
    """The array for ``soma.tensor(data, dtype)``: Python floats become float32, ints int64."""
    if isinstance(data, TensorBase):
        data = data._array
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        return data.astype(dtype, copy=True) if dtype is not None else data.copy()
    if isinstance(data, (list, tuple)) and any(isinstance(item, TensorBase) for item in data):
        data = [item._array if isinstance(item, TensorBase) else item for item in data]
    array = np.array(data)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype.kind == "f":
        return array.astype(_FLOAT_DEFAULT, copy=False)
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    if array.dtype.kind in "bc":
        return array
    raise TypeError(f"soma.tensor: cannot make a tensor from data of type {type(data).__name__}")


def _data(value):
    return value._array if isinstance(value, TensorBase) else value


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
        """Wrap an array without copying or checking (the ops' fast path)."""
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
        return "cpu" if isinstance(self._array, np.ndarray) else "cuda"

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
    def backward(self, gradient=None, retain_graph=False):
        """Accumulate the gradient of this tensor into every leaf; see :mod:`soma.autograd`."""
        from soma.autograd.engine import backward

        backward(self, gradient, retain_graph)

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
        self._hooks = (*self._hooks, hook)
        if self._ctx is not None:
            from soma.autograd.engine import watch

            watch(self)
        return hook

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
        return self._array

    def item(self):
        if self._array.size != 1:
            raise ValueError(
                f"a Tensor with {self._array.size} elements cannot be converted to Scalar"
            )
        return self._array.item()

    def tolist(self):
        return self._array.tolist()

    def cpu(self):
        return self

    def contiguous(self):
        return self

    def __array__(self, dtype=None, copy=None):
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
        body = np.array2string(self._array, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self._array.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype=soma.{self._array.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # -------------------------------------------------------------- in-place ops
    def _inplace(self, name):
        from soma.autograd.function import is_grad_enabled, mark_dirty

        if self.requires_grad and is_grad_enabled():
            what = "a leaf Variable that requires grad" if self._ctx is None else (
                "a tensor that requires grad"
            )
            raise RuntimeError(
                f"{name}: {what} is being used in an in-place operation; wrap it in "
                "`with soma.no_grad():` or use the out-of-place form (x = x + y)"
            )
        mark_dirty(self)

    def add_(self, other, alpha=1):
        self._inplace("add_")
        other = _data(other)
        self._array += other if alpha == 1 else alpha * other
        return self

    def sub_(self, other, alpha=1):
        self._inplace("sub_")
        other = _data(other)
        self._array -= other if alpha == 1 else alpha * other
        return self

    def mul_(self, other):
        self._inplace("mul_")
        self._array *= _data(other)
        return self

    def div_(self, other):
        self._inplace("div_")
        self._array /= _data(other)
        return self

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def zero_(self):
        self._inplace("zero_")
        self._array[...] = 0
        return self

    def fill_(self, value):
        self._inplace("fill_")
        self._array[...] = _data(value)
        return self

    def copy_(self, source):
        self._inplace("copy_")
        self._array[...] = _data(source)
        return self

    def clamp_(self, min=None, max=None):
        self._inplace("clamp_")
        np.clip(self._array, min, max, out=self._array)
        return self

    def masked_fill_(self, mask, value):
        self._inplace("masked_fill_")
        self._array[_data(mask)] = _data(value)
        return self

    def uniform_(self, a=0.0, b=1.0):
        from soma.random import generator

        self._inplace("uniform_")
        self._array[...] = generator().uniform(a, b, self._array.shape)
        return self

    def normal_(self, mean=0.0, std=1.0):
        from soma.random import generator

        self._inplace("normal_")
        self._array[...] = generator().normal(mean, std, self._array.shape)
        return self
