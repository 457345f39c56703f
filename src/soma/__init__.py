"""soma: deep learning from first principles, on NumPy, with PyTorch's names and numbers.

    >>> import soma
    >>> x = soma.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
"""

import numpy as _np

from soma import _memory  # noqa: F401,I001  (keeps freed memory for reuse unless SOMA_KEEP_FREED_MEMORY=0: see the module)

from soma.tensor import Tensor  # noqa: I001  (first: the ops it loads need the class)
from soma.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from soma.creation import *  # noqa: F403
from soma.io import load, save
from soma._device import device, get_default_device, set_default_device
from soma import accelerator, amp, backends, cuda, jit  # noqa: E402
from soma.amp import autocast  # noqa: E402
from soma.ops import (
    abs, absolute, add, all, amax, amin, any, argmax, argmin, bitwise_and, bitwise_left_shift, bitwise_not,
    bitwise_or, bitwise_right_shift, bitwise_xor, bmm, cat, ceil, chunk, clamp, clamp_max, clamp_min, clip, clone,
    concat, cos, cumsum, div, divide, dot, eq, equal, exp, expand, expm1, fix, flatten, flip, floor, floor_divide,
    fmod, frac, gather, ge, greater, greater_equal, gt, index_select, isfinite, isinf, isnan, isneginf, isposinf,
    isreal, le, less, less_equal, log, log1p, log_softmax, logical_and, logical_not, logical_or, logical_xor,
    logsumexp, lt, masked_fill, matmul, max, maximum, mean, min, minimum, mm, mul, multiply, narrow, ne, neg,
    negative, norm, not_equal, permute, pow, prod, reciprocal, relu, remainder, repeat, reshape, round, rsqrt,
    sigmoid, sign, signbit, sgn, sin, softmax, split, sqrt, square, squeeze, stack, std, sub, subtract, sum, t,
    tanh, transpose, true_divide, trunc, unbind, unflatten, unsqueeze, var, where,
)
from soma.ops.sorting import *  # noqa: F403
from soma.ops.layout import *  # noqa: F403
from soma.ops.combine import *  # noqa: F403
from soma.ops.scattering import *  # noqa: F403
from soma.ops.special import erf, erfc, erfinv
from soma.ops.cumulative import cummax, cummin, cumprod, logcumsumexp
from soma.ops.contraction import einsum
from soma.ops.trigonometry import *  # noqa: F403
from soma.ops.products import *  # noqa: F403
from soma.ops.statistics import *  # noqa: F403
from soma.ops.splitting import *  # noqa: F403
from soma.ops.numeric import *  # noqa: F403
from soma.ops.writes import *  # noqa: F403
from soma.ops.aliases import *  # noqa: F403
from soma.ops.gamma import digamma, i0, lgamma, mvlgamma, polygamma
from soma.ops.random_ops import bernoulli, multinomial, poisson
from soma.ops.selection import histc, mode
from soma.ops.windows import *  # noqa: F403
from soma.ops.legacy import *  # noqa: F403  (svd's V, qr's some, range, trapz, row_stack, ...)
from soma.ops.norms import renorm
from soma.memory_format import (channels_last, channels_last_3d, clone, contiguous_format, memory_format,
                                preserve_format)
from soma._promotion import can_cast, get_default_dtype, promote_types, result_type, set_default_dtype
from soma import utils  # noqa: E402  (soma.utils.data, as torch.utils.data)
from soma.nn.functional.distance import cosine_similarity, pairwise_distance, pdist  # noqa: E402  (as torch.*)
from soma import linalg  # noqa: E402  (soma.linalg, as torch.linalg)
from soma import special  # noqa: E402  (soma.special, as torch.special)
from soma import distributions  # noqa: E402,F401  (soma.distributions, as torch.distributions)
from soma.linalg import cholesky_inverse, cholesky_solve, det, logdet, matrix_exp, matrix_power, pinverse, slogdet
from soma.linalg import inv as inverse
from soma.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from soma._runtime import *  # noqa: F403  (threads, determinism, inference_mode, compile, finfo/iinfo, ...)
from soma._printing import set_printoptions

__version__ = "0.1.0"

float32 = float = _np.dtype(_np.float32)
float64 = double = _np.dtype(_np.float64)
float16 = half = _np.dtype(_np.float16)
int64 = long = _np.dtype(_np.int64)
int32 = int = _np.dtype(_np.int32)
int16 = short = _np.dtype(_np.int16)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
bool = _np.dtype(_np.bool_)
complex64 = cfloat = _np.dtype(_np.complex64)
complex128 = cdouble = _np.dtype(_np.complex128)
dtype = _np.dtype  # soma's dtypes are NumPy's: isinstance(soma.float32, soma.dtype) holds


class Size(tuple):
    """PyTorch's ``torch.Size``: a tuple of sizes (``tensor.shape`` is a plain tuple that compares equal)."""

    def numel(self):
        return int(_np.prod(self, dtype=_np.int64))


def numel(input):
    return input._array.size

# The sub-packages a model needs, available after `import soma` as in PyTorch
# (soma.datasets, soma.train and soma.explain are imported on demand).
from soma import nn, optim  # noqa: E402
from soma import classic, models  # noqa: E402,I001
from soma._torch_aliases import *  # noqa: E402,F403  (torch.conv2d, torch.batch_norm, torch.exp_(x), ...)


def __getattr__(name):
    """``soma.explain``, ``soma.datasets`` and ``soma.train`` load on first use, so ``import soma`` stays fast."""
    if name in ("explain", "datasets", "train", "distributed"):
        import importlib

        return importlib.import_module(f"soma.{name}")
    raise AttributeError(f"module 'soma' has no attribute {name!r}")
