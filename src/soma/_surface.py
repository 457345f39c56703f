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
from soma.ops import numeric as _numeric
from soma.ops import products as _products
from soma.ops import random_ops as _random_ops
from soma.ops import scattering as _scattering
from soma.ops import selection as _selection
from soma.ops import special as _special
from soma.ops import splitting as _splitting
from soma.ops import statistics as _statistics
from soma.ops import trigonometry as _trigonometry
from soma.ops import writes as _writes
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
                        (_gamma, ("lgamma", "digamma", "mvlgamma", "i0"))):
    _SURFACE_METHODS.update({name: getattr(_module, name) for name in _names})
_SURFACE_METHODS["polygamma"] = lambda self, n: _gamma.polygamma(n, self)  # x.polygamma(n): n comes second
_SURFACE_INPLACE = {name: _SURFACE_METHODS[name] for name in (
    "lgamma", "digamma", "mvlgamma", "i0", "polygamma", "addr", "addcmul", "addcdiv", "gcd", "lcm", "ldexp",
    "nextafter", "heaviside", "index_put", "put", *_TRIGONOMETRY,
    "erf", "erfc", "erfinv", "cumprod", "neg", "negative", "scatter", "scatter_add", "scatter_reduce", "index_add",
    "index_copy", "index_fill", "masked_scatter")}
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
