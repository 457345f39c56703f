"""The gamma and Bessel families, elementwise, on SciPy's kernels (the ``special`` extra):

    lgamma(x) = ln |Γ(x)|         lgamma′ = ψ(x) (digamma)        ψ′ = ψ⁽¹⁾, ψ⁽ⁿ⁾′ = ψ⁽ⁿ⁺¹⁾ (polygamma)
    i0′ = i1                      i1′ = i0 - i1/x (½ at 0)         i0e = e^(-|x|) i0: i0e′ = i1e - sign(x) i0e
    i1e′ = i0e - i1e (sign(x) + 1/x) (½ at 0)                      erfcx = e^(x²) erfc x: erfcx′ = 2x erfcx - 2/√π
    log_ndtr(x) = ln Φ(x): log_ndtr′ = φ(x)/Φ(x) = e^(-x²/2 - log_ndtr x)/√(2π)
    mvlgamma(x, p) = p(p-1)/4 ln π + Σⱼ₌₁..ₚ lgamma(x - (j-1)/2)
"""

import math

import numpy as np

from soma.autograd.function import Function
from soma.ops._common import write_out
from soma.ops.special import TWO_OVER_SQRT_PI, _float_input, elementwise, run_kernel

__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma", "i0", "i0e", "i1", "i1e", "erfcx", "log_ndtr", "Polygamma"]


def scipy_special(name):
    """scipy.special.``name``, or an ImportError naming the extra that installs it."""
    try:
        import scipy.special
    except ImportError:
        raise ImportError(f"soma's {name} needs SciPy: pip install soma[special]") from None
    return getattr(scipy.special, name)


def _kernel(name, op=None):
    """scipy.special.``name`` on an array, as soma's ``op`` (its name by default)."""
    return lambda x: run_kernel(op or name, scipy_special(name), x)


def _polygamma_array(n, x):
    """ψ⁽ⁿ⁾(x) = (-1)ⁿ⁺¹ n! ζ(n + 1, x) for n ≥ 1, ψ for n = 0: scipy.special.polygamma's formula with n a number,
    so that only ufuncs meet the array (polygamma itself converts x with np.asarray)."""
    if n == 0:
        return run_kernel("digamma", scipy_special("digamma"), x)
    zeta = scipy_special("zeta")
    return run_kernel("polygamma", lambda x: (-1.0) ** (n + 1) * scipy_special("gamma")(n + 1.0) * zeta(n + 1, x), x)


class Polygamma(Function):
    """y = ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function; y′ = ψ⁽ⁿ⁺¹⁾(x)"""

    @staticmethod
    def forward(ctx, n, x):
        ctx.save_for_backward(x)
        return _polygamma_array(n, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return None, grad * _polygamma_array(ctx.inputs[0] + 1, x)

    @staticmethod
    def formula(ctx, grad):
        n, x = ctx.inputs
        return None, grad * Polygamma.apply(n + 1, x)


def polygamma(n, input, *, out=None):
    """ψ⁽ⁿ⁾(x) elementwise (n = 0: the digamma function)."""
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n={n}")
    return write_out(Polygamma.apply(n, _float_input(input, "polygamma")), out, "polygamma")


def digamma(input, *, out=None):
    """ψ(x) = Γ′(x)/Γ(x), elementwise."""
    return polygamma(0, input, out=out)


def _bessel_i1_derivative(x, y, lib):
    safe = lib.where(x == 0, 1.0, x)
    return lib.where(x == 0, 0.5, lib.i0(x) - y / safe)


def _bessel_i1e_derivative(x, y, lib):
    safe = lib.where(x == 0, 1.0, x)
    return lib.where(x == 0, 0.5, lib.i0e(x) - y * (lib.sign(x) + 1 / safe))


Lgamma, lgamma = elementwise("Lgamma", _kernel("gammaln", "lgamma"), lambda x, y, lib: lib.digamma(x), "y = ln |Γ(x)|")
I0, i0 = elementwise("I0", _kernel("i0"), lambda x, y, lib: lib.i1(x), "y = I₀(x), the modified Bessel function")
I1, i1 = elementwise("I1", _kernel("i1"), _bessel_i1_derivative, "y = I₁(x)")
I0e, i0e = elementwise("I0e", _kernel("i0e"), lambda x, y, lib: lib.i1e(x) - lib.sign(x) * y,
                       "y = e^(-|x|) I₀(x)")
I1e, i1e = elementwise("I1e", _kernel("i1e"), _bessel_i1e_derivative, "y = e^(-|x|) I₁(x)")
Erfcx, erfcx = elementwise("Erfcx", _kernel("erfcx"), lambda x, y, lib: x * y * 2 - TWO_OVER_SQRT_PI,
                           "y = e^(x²) erfc(x)")
LogNdtr, log_ndtr = elementwise("Log_ndtr", _kernel("log_ndtr"),
                                lambda x, y, lib: lib.exp(x * x * -0.5 - y) / math.sqrt(2 * math.pi),
                                "y = ln Φ(x), the log of the standard normal CDF")


def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension ``p``, elementwise (every x > (p - 1)/2)."""
    x = _float_input(input, "mvlgamma")
    if p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got {p}")
    if np.any(x._array <= (p - 1) / 2):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    total = lgamma(x)
    for j in range(1, p):
        total = total + lgamma(x - j / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)
