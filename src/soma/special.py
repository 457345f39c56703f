"""``soma.special``: the special functions of ``torch.special``.

Most are soma's own ops under torch.special's names (``expit`` is the sigmoid); the gamma and
Bessel families (``gammaln``, ``digamma``, ``polygamma``, ``i0``, ``i1e``, ...) run on SciPy's
kernels (the ``special`` extra). The normal
distribution's CDF and its inverse are written with the error function:

    ndtr(x)  = Φ(x) = ½ erfc(-x/√2)        ndtri(p) = Φ⁻¹(p) = √2 · erfinv(2p - 1)
    entr(x)  = -x ln x (0 at 0, -inf for x < 0)      xlog1py(x, y) = x · ln(1 + y) (0 where x = 0)
"""

import math

import numpy as np

from soma.ops import expm1, log1p, logsumexp, round, sigmoid, where
from soma.ops.gamma import digamma, erfcx, i0, i0e, i1, i1e, log_ndtr, polygamma
from soma.ops.gamma import lgamma as gammaln
from soma.ops.gamma import mvlgamma as multigammaln
from soma.ops.softmax import log_softmax, softmax
from soma.ops.special import _float_input, erf, erfc, erfinv
from soma.ops.trigonometry import _same_shape_floats, exp2, logit, sinc, xlogy
from soma.tensor import Tensor

__all__ = [
    "erf", "erfc", "erfinv", "expm1", "log1p", "logsumexp", "softmax", "log_softmax", "expit", "exp2", "round",
    "sinc", "logit", "xlogy", "ndtr", "ndtri", "entr", "xlog1py", "gammaln", "digamma", "psi", "polygamma",
    "multigammaln", "i0", "i0e", "i1", "i1e", "erfcx", "log_ndtr",
]

expit = sigmoid
psi = digamma


def ndtr(input):
    """Φ(x), the standard normal CDF, elementwise."""
    x = _float_input(input, "ndtr")
    return erfc(x * -math.sqrt(0.5)) * 0.5


def ndtri(input):
    """Φ⁻¹(p), the standard normal quantile, elementwise (±inf at 0 and 1, NaN outside [0, 1])."""
    p = _float_input(input, "ndtri")
    return erfinv(p * 2 - 1) * math.sqrt(2.0)


def entr(input):
    """-x ln x elementwise: 0 at 0, -inf for negative x."""
    x = _float_input(input, "entr")
    array = x._array
    zero = Tensor._make(array == 0, False)
    negative = Tensor._make(array < 0, False)
    safe = where(zero | negative, 1.0, x)
    return where(negative, -np.inf, where(zero, 0.0, -(safe * safe.log())))


def xlog1py(input, other):
    """x · ln(1 + y), and 0 where x = 0 (unless y is NaN)."""
    x, y = _same_shape_floats("xlog1py", input, other)
    zero = Tensor._make((x._array == 0) & ~np.isnan(y._array), False)
    return where(zero, 0.0, x * where(zero, 0.0, y).log1p())
