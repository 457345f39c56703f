"""The Tensor methods of PyTorch's wider surface: the functional forms with the tensor first
(``x.scatter_add(dim, index, src)`` is ``soma.scatter_add(x, dim, index, src)``), and the in-place
forms through ``Tensor._inplace`` (``x.exp_()``: PyTorch's in-place rules, version counters, a
recorded node when x is in a graph). Imported once, at the end of :mod:`soma.tensor`.
"""

import numpy as np

from soma import linalg as _linalg
from soma import memory_format as _memory_format
from soma import ops as _ops
from soma.ops import aliases as _aliases
from soma.ops import cumulative as _cumulative
from soma.ops import gamma as _gamma
from soma.ops import legacy as _legacy
from soma.ops import norms as _norms
from soma.ops import numeric as _numeric
from soma.ops import products as _products
from soma.ops import random_ops as _random_ops
from soma.ops import scattering as _scattering
from soma.ops import selection as _selection
from soma.ops import sorting as _sorting
from soma.ops import special as _special
from soma.ops import splitting as _splitting
from soma.ops import statistics as _statistics
from soma.ops import trigonometry as _trigonometry
from soma.ops import writes as _writes
from soma.ops.shape import sizes_argument
from soma.tensor import Tensor, _method
from soma.tensor_base import TensorBase

_SURFACE_METHODS = {
    "det": _linalg.det, "logdet": _linalg.logdet, "slogdet": _linalg.slogdet, "inverse": _linalg.inv,
    "pinverse": _linalg.pinverse, "matrix_power": _linalg.matrix_power, "mm": _ops.mm, "bmm": _ops.bmm,
    "neg": _ops.neg, "negative": _ops.neg, "clone": _memory_format.clone, "absolute": _ops.absolute,
    "bitwise_left_shift": _ops.bitwise_left_shift, "bitwise_right_shift": _ops.bitwise_right_shift,
    "matmul": _ops.matmul, "dot": _ops.dot,
    "bernoulli": _random_ops.bernoulli, "bernoulli_": _random_ops.fill_bernoulli,
    "multinomial": _random_ops.multinomial, "exponential_": _random_ops.exponential_,
    "cauchy_": _random_ops.cauchy_, "log_normal_": _random_ops.log_normal_, "geometric_": _random_ops.geometric_,
    "random_": _random_ops.random_, "mode": _selection.mode, "histc": _selection.histc,
    "erf": _special.erf, "erfc": _special.erfc, "erfinv": _special.erfinv, "cumprod": _cumulative.cumprod,
    "cummax": _cumulative.cummax, "cummin": _cumulative.cummin, "logcumsumexp": _cumulative.logcumsumexp,
    "scatter": _scattering.scatter, "scatter_add": _scattering.scatter_add,
    "scatter_reduce": _scattering.scatter_reduce, "index_add": _scattering.index_add,
    "index_copy": _scattering.index_copy, "index_fill": _scattering.index_fill,
    "masked_scatter": _scattering.masked_scatter, "take_along_dim": _scattering.take_along_dim,
}
_TRIGONOMETRY = ("tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin", "arccos",
                 "arctan", "arcsinh", "arccosh", "arctanh", "log2", "log10", "exp2", "deg2rad", "rad2deg", "sinc",
                 "atan2", "arctan2", "logit", "xlogy", "copysign", "float_power")
_SURFACE_METHODS.update({name: getattr(_trigonometry, name) for name in (*_TRIGONOMETRY, "logaddexp2", "positive")})
for _module, _names in ((_products, ("kron", "inner", "vdot", "mv", "addr", "addcmul", "addcdiv", "dist")),
                        (_statistics, ("aminmax", "nansum", "nanmean", "count_nonzero", "diff", "cov", "corrcoef",
                                       "quantile", "nanquantile", "histogram")),
                        (_splitting, ("broadcast_to", "ravel", "tensor_split", "hsplit", "vsplit", "dsplit",
                                      "diagflat", "select", "unfold")),
                        (_numeric, ("gcd", "lcm", "ldexp", "frexp", "nextafter", "heaviside")),
                        (_writes, ("index_put", "put", "select_scatter", "diagonal_scatter")),
                        (_linalg, ("cholesky_solve", "cholesky_inverse", "matrix_exp")),
                        (_aliases, ("cross", "is_neg", "rsub")),
                        (_sorting, ("nanmedian", "unique_consecutive")), (_norms, ("renorm",)),
                        (_legacy, ("svd", "qr", "cholesky")),
                        (_gamma, ("lgamma", "digamma", "mvlgamma", "i0"))):
    _SURFACE_METHODS.update({name: getattr(_module, name) for name in _names})
_SURFACE_METHODS["polygamma"] = lambda self, n: _gamma.polygamma(n, self)  # x.polygamma(n): n comes second
_SURFACE_INPLACE = {name: _SURFACE_METHODS[name] for name in (
    "lgamma", "digamma", "mvlgamma", "i0", "polygamma", "addr", "addcmul", "addcdiv", "gcd", "lcm", "ldexp",
    "nextafter", "heaviside", "index_put", "put", *_TRIGONOMETRY,
    "erf", "erfc", "erfinv", "cumprod", "neg", "negative", "scatter", "scatter_add", "scatter_reduce", "index_add",
    "index_copy", "index_fill", "masked_scatter", "renorm")}
_SURFACE_INPLACE["fill_diagonal"] = _writes.fill_diagonal  # in place only, as in PyTorch
# the in-place forms of methods defined above: x.exp_() is x.copy_(x.exp()) with PyTorch's in-place rules
_INPLACE_OF_METHODS = (
    "abs", "absolute", "addmm", "addmv", "baddbmm", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor",
    "bitwise_left_shift", "bitwise_right_shift", "ceil", "clamp_max", "clamp_min", "cos", "cumsum", "divide", "eq",
    "exp", "expm1", "fix", "floor", "frac", "ge", "greater", "greater_equal", "gt", "hypot", "le", "lerp", "less",
    "less_equal", "log1p", "log", "logical_and", "logical_not", "logical_or", "logical_xor", "lt", "multiply",
    "nan_to_num", "ne", "not_equal", "reciprocal", "relu", "round", "rsqrt", "sgn", "sigmoid", "sign", "sin", "sqrt",
    "square", "subtract", "tanh", "tril", "triu", "true_divide", "trunc",
)


def _stride(self, dim=None):
    """The step in elements between neighbours along each dim (of the NumPy array's byte strides)."""
    strides = tuple(s // self._array.itemsize for s in self._array.strides)
    return strides if dim is None else strides[dim]


Tensor.stride = _stride
Tensor.nelement = TensorBase.numel
Tensor.ndimension = TensorBase.dim
Tensor.is_signed = lambda self: self._array.dtype.kind in "if"
Tensor.is_nonzero = lambda self: bool(self)


def _inplace_method(name, function):
    def overwrite(target, *args, **kwargs):
        result = function(target, *args, **kwargs)
        if target.requires_grad and not result.requires_grad and _ops.is_grad_enabled():
            # a result outside the graph (x.eq_(y), x.sign_()) still replaces x's history: a node
            # whose gradient to x is zero, as PyTorch's EqBackward
            keep = Tensor._make(np.ones(target._array.shape, dtype=bool), False)
            result = _ops.where(keep, _ops.to_dtype(result, target._array.dtype), target)
        return result

    def method(self, *args, **kwargs):
        return self._inplace(name, overwrite, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place :func:`{function.__name__}`; returns this tensor."
    return method


for _name, _function in _SURFACE_METHODS.items():
    setattr(Tensor, _name, _method(_function))
for _name, _function in _SURFACE_INPLACE.items():
    setattr(Tensor, _name + "_", _inplace_method(_name + "_", _function))
for _name in _INPLACE_OF_METHODS:
    if not hasattr(Tensor, _name + "_"):
        setattr(Tensor, _name + "_", _inplace_method(_name + "_", getattr(Tensor, _name)))


# ------------------------------------------------------------------ in-place shape changes
def _compose_view(view, op, argument):
    """The (base, op, argument) of a view of a view, where one op expresses both; None where none does."""
    from soma.ops.shape import Permute, Reshape

    base, first, first_argument = view
    if first is Reshape and op is Reshape:
        return base, Reshape, argument
    if first is Permute and op is Permute:
        return base, Permute, tuple(first_argument[i] for i in argument)
    return None


def _metadata_inplace_method(name, function):
    """``x.unsqueeze_(0)`` and the like: x itself takes the new shape (a view of its own memory) and, in a
    graph, the new node; its version advances, as PyTorch's in-place shape changes do."""
    from soma.autograd.function import _Mode, mark_dirty

    def method(self, *args):
        tracked = _Mode.grad and self.requires_grad
        if tracked and self._ctx is None:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation; "
                               "wrap it in `with soma.no_grad():` or use the out-of-place form")
        result = function(self, *args)
        if result is self:
            return self
        view = getattr(self, "_view", None)
        if view is not None:  # self is a view of a base: what it is now, as one view op of that base
            step = getattr(result, "_view", None)  # (self, op, argument)
            composed = _compose_view(view, step[1], step[2]) if step is not None else None
            if composed is None and tracked:
                raise NotImplementedError(f"{name} on a view made by {view[1].__name__}, in a graph: use the "
                                          f"out-of-place form (x = x.{name[:-1]}(...))")
            self._view = composed
        self._array = result._array
        if tracked:
            self._ctx, self._out_index = result._ctx, result._out_index
        mark_dirty(self)
        return self

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place :meth:`{function.__name__}`: this tensor takes the new shape; returns it."
    return method


for _name in ("squeeze", "unsqueeze", "transpose", "t", "swapaxes", "swapdims"):
    setattr(Tensor, _name + "_", _metadata_inplace_method(_name + "_", getattr(Tensor, _name)))


# ------------------------------------------------------------------ what a tensor says about itself
def _address(array):
    interface = getattr(array, "__array_interface__", None) or getattr(array, "__cuda_array_interface__", None)
    return interface["data"][0]


def _storage_offset(self):
    """Elements between the start of this tensor's memory block and its first element."""
    from soma.autograd.function import _root

    return (_address(self._array) - _address(_root(self._array))) // self._array.itemsize


def _sum_to_size(self, *size):
    """Sum over the broadcast dims so the result has ``size`` (which must broadcast to this shape)."""
    size = sizes_argument(size)
    shape, lead = tuple(self.shape), self.ndim - len(size)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {list(size)} is not expandable to size {list(shape)}.")
    out = self.sum(tuple(range(lead))) if lead else self
    dims = tuple(i for i, (s, n) in enumerate(zip(size, shape[lead:])) if s == 1 and n != 1)
    return out.sum(dims, keepdim=True) if dims else out


def _imag(self):
    if self._array.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Tensor._make(self._array.imag, False)


def _new(self, *args, **kwargs):
    """The deprecated ``x.new(...)``: ``x.new(2, 3)`` is ``x.new_empty(2, 3)``, ``x.new([1, 2])`` is
    ``x.new_tensor([1, 2])``, ``x.new()`` an empty 1-d tensor. A tuple is a size (``x.new(y.shape)``, the
    common use: soma's shapes are tuples), where PyTorch reads a literal tuple as data."""
    if not args:
        return self.new_empty(0, **kwargs)
    if all(isinstance(a, (int, np.integer)) for a in args) or (len(args) == 1 and isinstance(args[0], tuple)):
        return self.new_empty(*args, **kwargs)
    return self.new_tensor(args[0], **kwargs)


def _apply_(self, callable):
    """Replace each element x by ``callable(x)``, in place, in Python (slow; CPU tensors only, as PyTorch)."""
    from soma.autograd.function import mark_dirty

    if self.requires_grad:
        raise RuntimeError("apply_: can't call it on a tensor that requires grad")
    flat = self._array.reshape(-1)  # a view for the contiguous case; written back below otherwise
    values = np.array([callable(v) for v in flat.tolist()], dtype=self._array.dtype).reshape(self._array.shape)
    np.copyto(self._array, values)
    mark_dirty(self)
    return self


Tensor.is_complex = lambda self: self._array.dtype.kind == "c"
Tensor.is_same_size = lambda self, other: tuple(self.shape) == tuple(other.shape)
Tensor.get_device = lambda self: -1 if self.device.type == "cpu" else (self.device.index or 0)
Tensor.data_ptr = lambda self: _address(self._array)
Tensor.storage_offset = _storage_offset
Tensor.is_pinned = lambda self: False
Tensor.share_memory_ = lambda self: self  # one process's memory; DataLoader workers get copies
Tensor.is_conj = lambda self: False
Tensor.resolve_conj = Tensor.resolve_neg = lambda self: self
Tensor.conj = lambda self: self if self._array.dtype.kind != "c" else Tensor._make(np.conj(self._array), False)
Tensor.real = property(lambda self: self if self._array.dtype.kind != "c" else Tensor._make(self._array.real, False))
Tensor.imag = property(_imag)
Tensor.isreal = lambda self: self.imag == 0 if self._array.dtype.kind == "c" else Tensor._make(
    np.ones_like(self._array, dtype=bool), False)
Tensor.adjoint = lambda self: self.transpose(-2, -1).conj()
Tensor.mH = property(Tensor.adjoint)
Tensor.H = property(lambda self: self.t().conj() if self.ndim <= 2 else self.adjoint())
Tensor.cfloat = lambda self: self.to(np.complex64)
Tensor.cdouble = lambda self: self.to(np.complex128)
Tensor.sum_to_size = _sum_to_size
Tensor.split_with_sizes = lambda self, split_sizes, dim=0: self.split(list(split_sizes), dim)
Tensor.new = _new
Tensor.new_empty_strided = lambda self, size, stride, **kwargs: self.new_empty(tuple(size), **kwargs)
Tensor.apply_ = _apply_
Tensor.retains_grad = property(lambda self: self._retains_grad)
Tensor.output_nr = property(lambda self: self._out_index)
Tensor.dim_order = lambda self: tuple(int(i) for i in np.argsort([-s for s in self.stride()], kind="stable"))
for _flag in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_nested", "is_mkldnn", "is_mps", "is_xpu",
              "is_vulkan", "is_ipu", "is_xla", "is_maia", "is_mtia"):
    setattr(Tensor, _flag, property(lambda self: False))


# ------------------------------------------------------------------ a few more of torch.Tensor's methods
def _slice_scatter(self, src, dim=0, start=None, end=None, step=1):
    """This tensor with ``src`` written into the slice start:end:step of ``dim`` (out of place)."""
    out = self.clone()
    out[(slice(None),) * (dim % max(self.ndim, 1)) + (slice(start, end, step),)] = src
    return out


def _addbmm(self, batch1, batch2, *, beta=1, alpha=1):
    """β·self + α·Σ_b batch1[b] @ batch2[b]."""
    total = _ops.bmm(batch1, batch2).sum(0)
    return (self if beta == 1 else self * beta) + (total if alpha == 1 else total * alpha)


def _kernel(name):
    def method(self, *args, **kwargs):
        from soma.nn import functional

        return getattr(functional, name)(self, *args, **kwargs)

    method.__name__ = name
    return method


Tensor.slice_scatter = _slice_scatter
Tensor.addbmm = _addbmm
Tensor.unsafe_chunk = Tensor.chunk
Tensor.unsafe_split = Tensor.split
Tensor.hardshrink = _kernel("hardshrink")
Tensor.prelu = _kernel("prelu")
