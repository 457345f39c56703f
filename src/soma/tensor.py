"""``Tensor``: an array, the gradient that backward leaves in it, and the node that made it.

A tensor produced by an op that saw an input with ``requires_grad=True`` remembers
that op (``grad_fn``); ``backward()`` walks those records back to the leaves. The
array itself is ``tensor.data`` (NumPy today; CuPy on a GPU), and every method here
is one line that hands it to an op in :mod:`soma.ops`.
"""

import numbers

import numpy as np

__all__ = ["Tensor"]

_FLOAT_DEFAULT = np.dtype(np.float32)


def _infer_array(data, dtype):
    """The array for ``soma.tensor(data, dtype)``: Python floats become float32, ints int64."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        return data.astype(dtype, copy=True) if dtype is not None else data.copy()
    if isinstance(data, (list, tuple)) and any(isinstance(item, Tensor) for item in data):
        data = [item.data if isinstance(item, Tensor) else item for item in data]
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
    return value.data if isinstance(value, Tensor) else value


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    Create tensors with :func:`soma.tensor` or the factories (``soma.zeros``,
    ``soma.randn``, ...). Arithmetic follows NumPy's broadcasting; names, argument
    names and results follow PyTorch.

    Example::

        >>> x = soma.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """

    __slots__ = (
        "data",
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
        self.data = _infer_array(data, dtype)
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
        tensor.data = array
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
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def device(self):
        return "cpu" if isinstance(self.data, np.ndarray) else "cuda"

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def T(self):
        return _ops.permute(self, tuple(range(self.data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _ops.transpose(self, -2, -1)

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def element_size(self):
        return self.data.itemsize

    # ------------------------------------------------------- autograd bookkeeping
    def backward(self, gradient=None, retain_graph=False):
        """Compute the gradient of this tensor with respect to every leaf; see :mod:`soma.autograd`."""
        from soma.autograd.engine import backward

        backward(self, gradient, retain_graph)

    def requires_grad_(self, requires_grad=True):
        if self._ctx is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf tensors; use .detach() instead"
            )
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, not {self.data.dtype}"
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

    def detach(self):
        """The same array, cut from the graph."""
        return Tensor._make(self.data, False)

    def detach_(self):
        self._ctx = None
        self.requires_grad = False
        return self

    # ----------------------------------------------------------------- conversion
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def cpu(self):
        return self

    def contiguous(self):
        return self

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return iter(self.unbind(0))

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self.data.size} values is ambiguous"
            )
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.data)

    def __format__(self, spec):
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        return format(str(self), spec)

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype=soma.{self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ------------------------------------------------------------------ dtype casts
    def to(self, *args, **kwargs):
        """``to(dtype)``; devices other than "cpu" are not supported yet."""
        dtype = kwargs.get("dtype")
        for arg in args:
            if isinstance(arg, str) or arg is None:
                if arg not in (None, "cpu"):
                    raise ValueError(f"Tensor.to: device {arg!r} is not available (only 'cpu')")
            else:
                dtype = arg
        return self if dtype is None else _ops.cast(self, dtype)

    def type(self, dtype):
        return _ops.cast(self, dtype)

    def type_as(self, other):
        return _ops.cast(self, other.dtype)

    def float(self):
        return _ops.cast(self, np.float32)

    def double(self):
        return _ops.cast(self, np.float64)

    def long(self):
        return _ops.cast(self, np.int64)

    def int(self):
        return _ops.cast(self, np.int32)

    def bool(self):
        return _ops.cast(self, np.bool_)

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __rpow__(self, base):
        return _ops.pow(base, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __floordiv__(self, other):
        return Tensor._make(np.floor_divide(self.data, _data(other)), False)

    def __mod__(self, other):
        return Tensor._make(np.remainder(self.data, _data(other)), False)

    # comparisons and logic: results are bool tensors outside the graph
    def __eq__(self, other):
        return Tensor._make(np.equal(self.data, _data(other)), False)

    def __ne__(self, other):
        return Tensor._make(np.not_equal(self.data, _data(other)), False)

    def __lt__(self, other):
        return Tensor._make(np.less(self.data, _data(other)), False)

    def __le__(self, other):
        return Tensor._make(np.less_equal(self.data, _data(other)), False)

    def __gt__(self, other):
        return Tensor._make(np.greater(self.data, _data(other)), False)

    def __ge__(self, other):
        return Tensor._make(np.greater_equal(self.data, _data(other)), False)

    def __and__(self, other):
        return Tensor._make(np.logical_and(self.data, _data(other)), False)

    def __or__(self, other):
        return Tensor._make(np.logical_or(self.data, _data(other)), False)

    def __xor__(self, other):
        return Tensor._make(np.logical_xor(self.data, _data(other)), False)

    def __invert__(self):
        return Tensor._make(np.logical_not(self.data), False)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    add, sub, mul, div = __add__, __sub__, __mul__, __truediv__
    __div__ = __truediv__

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
        self.data += other if alpha == 1 else alpha * other
        return self

    def sub_(self, other, alpha=1):
        self._inplace("sub_")
        other = _data(other)
        self.data -= other if alpha == 1 else alpha * other
        return self

    def mul_(self, other):
        self._inplace("mul_")
        self.data *= _data(other)
        return self

    def div_(self, other):
        self._inplace("div_")
        self.data /= _data(other)
        return self

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def zero_(self):
        self._inplace("zero_")
        self.data[...] = 0
        return self

    def fill_(self, value):
        self._inplace("fill_")
        self.data[...] = _data(value)
        return self

    def copy_(self, source):
        self._inplace("copy_")
        self.data[...] = _data(source)
        return self

    def clamp_(self, min=None, max=None):
        self._inplace("clamp_")
        np.clip(self.data, min, max, out=self.data)
        return self

    def masked_fill_(self, mask, value):
        self._inplace("masked_fill_")
        self.data[_data(mask)] = _data(value)
        return self

    def uniform_(self, a=0.0, b=1.0):
        from soma.random import generator

        self._inplace("uniform_")
        self.data[...] = generator().uniform(a, b, self.data.shape)
        return self

    def normal_(self, mean=0.0, std=1.0):
        from soma.random import generator

        self._inplace("normal_")
        self.data[...] = generator().normal(mean, std, self.data.shape)
        return self

    def __setitem__(self, index, value):
        self._inplace("__setitem__")
        self.data[_ops.as_index(index)] = _data(value)

    # ---------------------------------------------------------------- math
    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def log1p(self):
        return _ops.log1p(self)

    def expm1(self):
        return _ops.expm1(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def rsqrt(self):
        return 1.0 / _ops.sqrt(self)

    def abs(self):
        return _ops.abs(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def square(self):
        return _ops.Mul.apply(self, self)

    def reciprocal(self):
        return _ops.div(1.0, self)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def sign(self):
        return Tensor._make(np.sign(self.data), False)

    def floor(self):
        return Tensor._make(np.floor(self.data), False)

    def ceil(self):
        return Tensor._make(np.ceil(self.data), False)

    def round(self):
        return Tensor._make(np.round(self.data), False)

    def clamp(self, min=None, max=None):
        return _ops.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def where(self, condition, other):
        return _ops.where(condition, self, other)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)

    def isnan(self):
        return Tensor._make(np.isnan(self.data), False)

    def isfinite(self):
        return Tensor._make(np.isfinite(self.data), False)

    # ---------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        return _ops.sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False):
        return _ops.mean(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return _ops.var(self, dim, unbiased, keepdim, correction)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return _ops.std(self, dim, unbiased, keepdim, correction)

    def max(self, dim=None, keepdim=False):
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _ops.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return _ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _ops.argmin(self, dim, keepdim)

    def prod(self, dim=None, keepdim=False):
        return _ops.prod(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return _ops.logsumexp(self, dim, keepdim)

    def cumsum(self, dim):
        return _ops.cumsum(self, dim)

    def norm(self, p=2, dim=None, keepdim=False):
        return _ops.norm(self, p, dim, keepdim)

    def all(self, dim=None):
        return Tensor._make(np.all(self.data, axis=dim), False)

    def any(self, dim=None):
        return Tensor._make(np.any(self.data, axis=dim), False)

    def softmax(self, dim):
        return _ops.softmax(self, dim)

    def log_softmax(self, dim):
        return _ops.log_softmax(self, dim)

    # ------------------------------------------------------------------- shapes
    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    view = reshape

    def view_as(self, other):
        return _ops.reshape(self, other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _ops.unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _ops.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return _ops.transpose(self, dim0, dim1)

    def t(self):
        return _ops.transpose(self, 0, 1) if self.data.ndim == 2 else self

    def permute(self, *dims):
        return _ops.permute(self, *dims)

    def expand(self, *sizes):
        return _ops.expand(self, *sizes)

    def expand_as(self, other):
        return _ops.expand(self, other.shape)

    def repeat(self, *sizes):
        return _ops.repeat(self, *sizes)

    def flip(self, dims):
        return _ops.flip(self, dims)

    def split(self, split_size_or_sections, dim=0):
        return _ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _ops.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _ops.unbind(self, dim)

    def narrow(self, dim, start, length):
        return _ops.narrow(self, dim, start, length)

    def gather(self, dim, index):
        return _ops.gather(self, dim, index)

    def index_select(self, dim, index):
        return _ops.index_select(self, dim, index)

    def clone(self):
        return _ops.clone(self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)


from soma import ops as _ops  # noqa: E402  (ops build on Tensor, so they load after it)
