"""soma: deep learning from first principles, on NumPy, with PyTorch's names and numbers.

    >>> import soma
    >>> x = soma.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
"""

import numpy as _np

from soma import _process  # noqa: F401,I001  (keeps freed memory for reuse: see the module)

from soma.tensor import Tensor  # noqa: I001  (first: the ops it loads need the class)
from soma.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from soma.creation import *  # noqa: F403
from soma.io import load, save
from soma._device import device, get_default_device, set_default_device
from soma import accelerator, backends, cuda  # noqa: E402
from soma.ops import (
    abs, amax, amin, argmax, argmin, bmm, cat, chunk, clamp, clone, concat, cos, cumsum,
    div, dot, exp, expand, expm1, flatten, flip, gather, index_select, log, log1p, log_softmax,
    logsumexp, masked_fill, matmul, max, maximum, mean, min, minimum, mm, mul, narrow, neg,
    norm, permute, pow, prod, relu, repeat, reshape, sigmoid, sin, softmax, split, sqrt,
    squeeze, stack, std, sub, sum, tanh, transpose, unbind, unflatten, unsqueeze, var, where,
    add,
)
from soma import utils  # noqa: E402  (soma.utils.data, as torch.utils.data)
from soma.random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__version__ = "0.1.0"

float32 = float = _np.dtype(_np.float32)
float64 = double = _np.dtype(_np.float64)
float16 = half = _np.dtype(_np.float16)
int64 = long = _np.dtype(_np.int64)
int32 = int = _np.dtype(_np.int32)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
bool = _np.dtype(_np.bool_)


def numel(t):
    return t._array.size


def clip(x, min=None, max=None):
    return clamp(x, min, max)

# The sub-packages a model needs, available after `import soma` as in PyTorch
# (soma.datasets, soma.train and soma.explain are imported on demand).
from soma import nn, optim  # noqa: E402
from soma import classic, models  # noqa: E402,I001


def __getattr__(name):
    """``soma.explain``, ``soma.datasets`` and ``soma.train`` load on first use, so ``import soma`` stays fast."""
    if name in ("explain", "datasets", "train"):
        import importlib

        return importlib.import_module(f"soma.{name}")
    raise AttributeError(f"module 'soma' has no attribute {name!r}")
