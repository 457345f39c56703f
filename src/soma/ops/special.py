"""The error function family: erf, erfc and erfinv, with their derivatives.

    erf(x)  = 2/√π ∫₀ˣ e^(-t²) dt             erf′(x)  = 2/√π · e^(-x²)
    erfc(x) = 1 - erf(x)                        erfc′(x) = -2/√π · e^(-x²)
    erfinv(y) = the x with erf(x) = y           erfinv′(y) = √π/2 · e^(erfinv(y)²)

NumPy has no erf. SciPy's vectorized kernels are used when SciPy is installed (it comes
with ``soma[data]``); otherwise float32 erf comes from polynomials fitted for it
(:mod:`soma.ops.erf_float32`, within 2 ulps, ~40x faster than element by element), float64
erf and erfc from Python's ``math.erf``/``math.erfc`` element by element (correctly rounded,
only slower), and erfinv from Newton's method on erf, started from a closed-form
approximation and run to float64 precision.
Integer and bool inputs compute in the default float dtype, as PyTorch's.
"""

import math

import numpy as np

from soma import backend
from soma._promotion import get_default_dtype
from soma.autograd.function import Function
from soma.ops._common import as_tensor_arg, write_out
from soma.ops.erf_float32 import erf_float32

__all__ = ["erf", "erfc", "erfinv", "Erf", "Erfc", "Erfinv"]

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_kernels = {}  # name -> array function, looked up on first use (importing SciPy costs time at import soma)


def _kernel(name):
    function = _kernels.get(name)
    if function is None:
        try:
            import scipy.special

            function = getattr(scipy.special, name)
        except ImportError:
            function = _FALLBACKS[name]
        _kernels[name] = function
    return function


def _elementwise(function):
    vectorized = np.frompyfunc(function, 1, 1)
    return lambda x: vectorized(x).astype(np.float64)


_erf_float64 = _elementwise(math.erf)


def erf_without_scipy(x):
    """erf where SciPy is missing: the fitted polynomials of :mod:`soma.ops.erf_float32` for float32 and
    narrower types (float32 result), ``math.erf`` element by element, correctly rounded, for float64."""
    if x.dtype.itemsize <= 4 and x.dtype.kind == "f":
        return erf_float32(x.astype(np.float32, copy=False))
    return _erf_float64(x)


def erfinv_newton(y):
    """erfinv on a float array without SciPy: Newton's method on erf(x) - y = 0.

    The start is Giles' single-precision approximation (relative error ~1e-7), after
    which each Newton step x ← x - (erf(x) - y) / (2/√π · e^(-x²)) doubles the correct
    digits; four reach float64. For |y| > 1/2 the steps solve log erfc(|x|) = log(1 - |y|),
    whose digits survive where erf(x) rounds to ±1 and which is nearly linear in |x|².
    |y| = 1 gives ±inf, |y| > 1 or NaN gives NaN.
    """
    y = y.astype(np.float64)
    inside = np.abs(y) < 1
    z = np.where(inside, y, 0.0)
    w = -np.log((1.0 - z) * (1.0 + z))
    central = w < 5.0
    t = np.where(central, w - 2.5, np.sqrt(np.maximum(w, 5.0)) - 3.0)
    p = np.where(central, _polynomial(t, _GILES_CENTRAL), _polynomial(t, _GILES_TAIL))
    x = p * z
    erf_, erfc_ = _erf_float64, _elementwise(math.erfc)
    a = np.abs(z)
    tail = a > 0.5  # there erf(x) is near ±1: solve erfc(|x|) = 1 - |y| instead, which keeps its digits
    q = np.where(tail, 1.0 - a, 1.0)
    for _ in range(4):
        ax = np.abs(x)
        # the tail in log space: f(t) = log erfc(t) - log(1 - |y|), f′(t) = -2/√π e^(-t²) / erfc(t)
        c = np.where(tail, erfc_(ax), 1.0)
        tail_step = np.sign(z) * (np.log(c) - np.log(q)) * c / (TWO_OVER_SQRT_PI * np.exp(-ax * ax))
        central_step = -(erf_(x) - z) / (TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = x + np.where(inside, np.where(tail, tail_step, central_step), 0.0)
    out = np.where(inside, x, np.nan)
    return np.where(np.abs(y) == 1, np.copysign(np.inf, y), out)


def _polynomial(t, coefficients):
    p = np.full_like(t, coefficients[0])
    for c in coefficients[1:]:
        p = p * t + c
    return p


_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_FALLBACKS = {"erf": erf_without_scipy, "erfc": _elementwise(math.erfc), "erfinv": erfinv_newton}


def apply_kernel(name, x):
    return run_kernel(name, _kernel(name), x)


def run_kernel(name, function, *arrays):
    """``function(*arrays)`` (a SciPy or Python kernel) in the last array's dtype, on that array's device.

    SciPy's ufuncs dispatch like NumPy's, so a backend whose arrays take them (or map them to their
    own, as CuPy does with ``cupyx.scipy.special`` where it has the function) computes them; one
    that refuses gets a RuntimeError naming the op and the device instead of a bare TypeError.
    """
    x = arrays[-1]
    try:
        y = function(*arrays)
    except TypeError as error:
        if backend.of(x) is backend.NUMPY:
            raise
        from soma._device import device_of

        raise RuntimeError(f"{name}: its kernel (SciPy's) does not run on device '{device_of(x)}' (the backend "
                           f"refuses it with a {type(error).__name__}); compute it on the CPU: x.cpu()") from None
    return backend.as_array(y).astype(x.dtype, copy=False)


class _Soma:
    """soma's differentiable ops under NumPy's names, for a derivative's second use (create_graph)."""

    def __getattr__(self, name):
        import soma.ops
        from soma.ops import gamma, trigonometry

        return getattr(trigonometry, name, None) or getattr(gamma, name, None) or getattr(soma.ops, name)


class _Numpy:
    """NumPy, and the functions NumPy lacks on arrays (digamma, the Bessel functions) from SciPy."""

    def __getattr__(self, name):
        from soma.ops import gamma

        return getattr(np, name, None) or gamma.scipy_special(name)


SOMA, NUMPY = _Soma(), _Numpy()


class Elementwise(Function):
    """y = f(x) elementwise; a subclass gives ``kernel`` (on arrays) and ``derivative(x, y, lib)``.

    ``derivative`` is written once over an array namespace ``lib``: with NumPy it is the fast
    backward, with soma's ops (:data:`SOMA`) the differentiable backward that create_graph needs.
    """

    kernel = None

    @staticmethod
    def derivative(x, y, lib):
        raise NotImplementedError

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # NaN/inf out, as PyTorch's
            y = type(ctx).kernel(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            return (grad * type(ctx).derivative(x, y, NUMPY)).astype(grad.dtype)

    @staticmethod
    def formula(ctx, grad):
        cls = type(ctx)
        x = ctx.inputs[0]
        return grad * cls.derivative(x, cls.apply(x), SOMA)


def elementwise(name, kernel, derivative, doc):
    """(the Function class, the public function) of y = kernel(x) with y′ = derivative(x, y, lib)."""
    cls = type(name, (Elementwise,), {"kernel": staticmethod(kernel), "derivative": staticmethod(derivative),
                                      "__doc__": doc})
    public = name.lower()

    def function(input, *, out=None):
        return write_out(cls.apply(_float_input(input, public)), out, public)

    function.__name__ = function.__qualname__ = public
    function.__doc__ = f"{doc}, elementwise."
    return cls, function


def _float_input(input, name):
    x = as_tensor_arg(input, name)
    if x._array.dtype.kind not in "fc":
        x = x.to(get_default_dtype())
    return x


Erf, erf = elementwise("Erf", lambda x: apply_kernel("erf", x),
                       lambda x, y, lib: lib.exp(-(x * x)) * TWO_OVER_SQRT_PI,
                       "y = erf x = 2/√π ∫₀ˣ e^(-t²) dt; y′ = 2/√π · e^(-x²)")
Erfc, erfc = elementwise("Erfc", lambda x: apply_kernel("erfc", x),
                         lambda x, y, lib: lib.exp(-(x * x)) * -TWO_OVER_SQRT_PI,
                         "y = erfc x = 1 - erf x (accurate where erf x is near 1); y′ = -2/√π · e^(-x²)")
Erfinv, erfinv = elementwise("Erfinv", lambda y: apply_kernel("erfinv", y),
                             lambda y, x, lib: lib.exp(x * x) / TWO_OVER_SQRT_PI,
                             "x = erfinv y on (-1, 1) (±inf at ±1, NaN outside); x′ = √π/2 · e^(x²)")
