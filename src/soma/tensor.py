"""``Tensor``: an array, the gradient that backward leaves in it, and the node that made it.

A tensor produced by an op that saw an input with ``requires_grad=True`` remembers
that op (``grad_fn``); ``backward()`` walks those records back to the leaves. The
array itself is ``tensor._array`` (NumPy today; CuPy on a GPU). Storage, conversions
and bookkeeping live in :class:`soma.tensor_base.TensorBase`; every method here is
one line that hands the array to an op in :mod:`soma.ops`.
"""

import numpy as np

from soma.tensor_base import TensorBase, _data

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
        return Tensor._make(np.floor_divide(self._array, _data(other)), False)

    def __mod__(self, other):
        return Tensor._make(np.remainder(self._array, _data(other)), False)

    # comparisons and logic: results are bool tensors outside the graph
    def __eq__(self, other):
        return Tensor._make(np.equal(self._array, _data(other)), False)

    def __ne__(self, other):
        return Tensor._make(np.not_equal(self._array, _data(other)), False)

    def __lt__(self, other):
        return Tensor._make(np.less(self._array, _data(other)), False)

    def __le__(self, other):
        return Tensor._make(np.less_equal(self._array, _data(other)), False)

    def __gt__(self, other):
        return Tensor._make(np.greater(self._array, _data(other)), False)

    def __ge__(self, other):
        return Tensor._make(np.greater_equal(self._array, _data(other)), False)

    def __and__(self, other):
        return Tensor._make(np.logical_and(self._array, _data(other)), False)

    def __or__(self, other):
        return Tensor._make(np.logical_or(self._array, _data(other)), False)

    def __xor__(self, other):
        return Tensor._make(np.logical_xor(self._array, _data(other)), False)

    def __invert__(self):
        return Tensor._make(np.logical_not(self._array), False)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    add, sub, mul, div = __add__, __sub__, __mul__, __truediv__
    __div__ = __truediv__

    def __setitem__(self, index, value):
        self._inplace("__setitem__")
        self._array[_ops.as_index(index)] = _data(value)

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
        return Tensor._make(np.sign(self._array), False)

    def floor(self):
        return Tensor._make(np.floor(self._array), False)

    def ceil(self):
        return Tensor._make(np.ceil(self._array), False)

    def round(self):
        return Tensor._make(np.round(self._array), False)

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
        return Tensor._make(np.isnan(self._array), False)

    def isfinite(self):
        return Tensor._make(np.isfinite(self._array), False)

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
        return Tensor._make(np.all(self._array, axis=dim), False)

    def any(self, dim=None):
        return Tensor._make(np.any(self._array, axis=dim), False)

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
        return _ops.transpose(self, 0, 1) if self._array.ndim == 2 else self

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
