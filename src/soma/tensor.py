"""``Tensor``: an array, the gradient that backward leaves in it, and the node that made it.

A tensor produced by an op that saw an input with ``requires_grad=True`` remembers
that op (``grad_fn``); ``backward()`` walks those records back to the leaves. The
array itself is ``tensor._array`` (NumPy today; CuPy on a GPU). Storage, conversions
and bookkeeping live in :class:`soma.tensor_base.TensorBase`; every method here is
one line that hands the array to an op in :mod:`soma.ops`.
"""

import numpy as np

from soma._device import device
from soma.tensor_base import TensorBase

__all__ = ["Tensor"]


class Tensor(TensorBase):
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

    __slots__ = ()
    __hash__ = object.__hash__  # by identity (defining __eq__ would otherwise remove it)

    def detach(self):
        """The same array, cut from the graph."""
        return Tensor._make(self._array, False)

    @property
    def T(self):
        return _ops.permute(self, tuple(range(self._array.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _ops.transpose(self, -2, -1)

    def __iter__(self):
        return iter(self.unbind(0))

    # ------------------------------------------------------------ devices and dtypes
    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: a tensor on that device in that dtype.

        Returns ``self`` when nothing changes (``copy=True`` forces a copy); the cast is
        differentiable between floating dtypes.
        """
        target, dtype = _to_arguments("Tensor.to", args, kwargs)
        copy = kwargs.get("copy", False)
        out = self if target is None else self._to_device(target, "Tensor.to")
        out = out if dtype is None else _ops.cast(out, dtype)
        return _ops.clone(out) if copy and out is self else out

    def cpu(self, memory_format=None):
        return self._to_device("cpu", "Tensor.cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        return self._to_device("cuda" if device is None else device, "Tensor.cuda")  # an int is a CUDA index

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return f"soma.{_TYPE_NAMES.get(self._array.dtype.name, self._array.dtype.name)}"
        return _ops.cast(self, dtype)

    def type_as(self, other):
        return _ops.cast(self, other.dtype)

    # -------------------------------------------------------- new tensors like this one
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` with this tensor's dtype and device (unless given), as PyTorch's."""
        return _creation().zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                                 requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation().ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                                requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation().empty(*size, dtype=dtype or self.dtype, device=device or self.device,
                                 requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return _creation().full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                                requires_grad=requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        return _creation().tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                                  requires_grad=requires_grad)

    @property
    def nbytes(self):
        return self._array.nbytes

    @property
    def itemsize(self):
        return self._array.itemsize

    def float(self):
        return _ops.cast(self, np.float32)

    def double(self):
        return _ops.cast(self, np.float64)

    def half(self):
        return _ops.cast(self, np.float16)

    def long(self):
        return _ops.cast(self, np.int64)

    def int(self):
        return _ops.cast(self, np.int32)

    def short(self):
        return _ops.cast(self, np.int16)

    def char(self):
        return _ops.cast(self, np.int8)

    def byte(self):
        return _ops.cast(self, np.uint8)

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
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    # comparisons and logic: bool tensors outside the graph; bitwise on integers, logical on bools
    def __eq__(self, other):
        return _ops.eq(self, other) if _is_operand(other) else NotImplemented

    def __ne__(self, other):
        return _ops.ne(self, other) if _is_operand(other) else NotImplemented

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __and__(self, other):
        return _ops.bitwise_and(self, other)

    def __or__(self, other):
        return _ops.bitwise_or(self, other)

    def __xor__(self, other):
        return _ops.bitwise_xor(self, other)

    def __rand__(self, other):
        return _ops.bitwise_and(other, self)

    def __ror__(self, other):
        return _ops.bitwise_or(other, self)

    def __rxor__(self, other):
        return _ops.bitwise_xor(other, self)

    def __lshift__(self, other):
        return _ops.bitwise_left_shift(self, other)

    def __rshift__(self, other):
        return _ops.bitwise_right_shift(self, other)

    def __invert__(self):
        return _ops.bitwise_not(self)

    def eq(self, other):
        return _ops.eq(self, other)

    def ne(self, other):
        return _ops.ne(self, other)

    lt, le, gt, ge = __lt__, __le__, __gt__, __ge__
    less, less_equal, greater, greater_equal, not_equal = __lt__, __le__, __gt__, __ge__, ne

    def add(self, other, *, alpha=1):
        return _ops.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return _ops.sub(self, other, alpha=alpha)

    def mul(self, other):
        return _ops.mul(self, other)

    def div(self, other, *, rounding_mode=None):
        return _ops.div(self, other, rounding_mode=rounding_mode)

    subtract, multiply, divide, true_divide = sub, mul, div, div
    __div__ = __truediv__

    def floor_divide(self, other):
        return _ops.floor_divide(self, other)

    def remainder(self, other):
        return _ops.remainder(self, other)

    def fmod(self, other):
        return _ops.fmod(self, other)

    def logical_and(self, other):
        return _ops.logical_and(self, other)

    def logical_or(self, other):
        return _ops.logical_or(self, other)

    def logical_xor(self, other):
        return _ops.logical_xor(self, other)

    def logical_not(self):
        return _ops.logical_not(self)

    def bitwise_and(self, other):
        return _ops.bitwise_and(self, other)

    def bitwise_or(self, other):
        return _ops.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return _ops.bitwise_xor(self, other)

    def bitwise_not(self):
        return _ops.bitwise_not(self)

    def __setitem__(self, index, value):
        index = _ops.as_index(index)
        if _ops.is_grad_enabled() and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
            self._inplace("__setitem__", _ops.index_put_value, index, value)  # recorded: x[i] = v in the graph
            return
        try:  # outside the graph: write the selected elements only
            self._array[index] = value._array if isinstance(value, Tensor) else value
        except IndexError as error:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape {tuple(self.shape)}: {error}") from None
        except ValueError as error:
            raise RuntimeError(f"__setitem__: cannot assign into shape {tuple(self.shape)}: {error}") from None
        _ops.mark_dirty(self)

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
        return _ops.rsqrt(self)

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
        return _ops.square(self)

    def reciprocal(self):
        return _ops.reciprocal(self)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def sign(self):
        return _ops.sign(self)

    sgn = sign

    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def round(self, decimals=0):
        return _ops.round(self, decimals=decimals)

    def trunc(self):
        return _ops.trunc(self)

    fix = trunc

    def frac(self):
        return _ops.frac(self)

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
        return _ops.isnan(self)

    def isfinite(self):
        return _ops.isfinite(self)

    def isinf(self):
        return _ops.isinf(self)

    # ---------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.mean(self, dim, keepdim, dtype=dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _ops.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return _ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _ops.argmin(self, dim, keepdim)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return _ops.prod(self, dim, keepdim, dtype=dtype)

    def logsumexp(self, dim, keepdim=False):
        return _ops.logsumexp(self, dim, keepdim)

    def cumsum(self, dim, *, dtype=None):
        return _ops.cumsum(self, dim, dtype=dtype)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _ops.norm(self, p, dim, keepdim, dtype=dtype)

    def all(self, dim=None, keepdim=False):
        return _ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _ops.any(self, dim, keepdim)

    def softmax(self, dim):
        return _ops.softmax(self, dim)

    def log_softmax(self, dim):
        return _ops.log_softmax(self, dim)

    # ------------------------------------------------------------------- shapes
    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    def view(self, *shape):
        """The same memory in another shape (an error where that needs a copy, as PyTorch: use reshape)."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return _ops.view_dtype(self, shape[0])
        return _ops.view(self, *shape)

    def view_as(self, other):
        return self.view(other.shape)

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
        return _ops.t(self)

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

    def __getitem__(self, index):
        return _ops.getitem(self, index)


def _creation():
    from soma import creation

    return creation


def _is_operand(value):
    return isinstance(value, (TensorBase, int, float, complex, np.generic, np.ndarray))


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
               "uint8": "ByteTensor", "bool": "BoolTensor"}


def _to_arguments(name, args, kwargs):
    """(device or None, dtype or None) from ``to``'s PyTorch signatures."""
    target, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, TensorBase):
            dtype = arg.dtype
        elif isinstance(arg, (str, int, device)) and not isinstance(arg, bool):
            target = arg
        elif arg is not None and not isinstance(arg, bool):
            dtype = arg
    unknown = set(kwargs) - {"device", "dtype", "copy", "non_blocking", "memory_format"}
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"{name}(): {dtype!r} is neither a device nor a dtype") from None
    return target, dtype


from soma import ops as _ops  # noqa: E402  (ops build on Tensor, so they load after it)

# Methods that are the functional form with the tensor first (``x.sort(dim)`` is ``soma.sort(x, dim)``).
_FUNCTIONAL_METHODS = (
    "sort", "argsort", "msort", "topk", "kthvalue", "median", "nonzero", "argwhere", "unique", "bincount", "tril",
    "triu", "diagonal", "diag", "diag_embed", "trace", "movedim", "moveaxis", "swapaxes", "swapdims", "roll", "tile",
    "repeat_interleave", "fliplr", "flipud", "rot90", "masked_select", "take", "narrow_copy", "lerp", "logaddexp",
    "hypot", "fmax", "fmin", "nan_to_num", "addmm", "baddbmm", "addmv", "outer", "ger", "isclose", "allclose",
    "equal", "clamp_min", "clamp_max", "isposinf", "isneginf", "signbit",
)


def _method(function):
    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = function.__name__
    method.__doc__ = function.__doc__
    return method


for _name in _FUNCTIONAL_METHODS:
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _method(getattr(_ops, _name)))

# The wider surface (scatter, special functions, random, linear algebra, ...) and the in-place forms:
# registered by soma._surface, which needs the ops that need this class.
from soma import _surface  # noqa: E402,F401
