"""``nn.init``: fill a weight tensor in place, with PyTorch's names and fan computations.

Why the scale matters (see notes 004, vanishing and exploding gradients): if every
layer multiplies the variance of its signal by ``fan_in·Var(w)``, a deep network's
activations (and gradients) shrink or grow geometrically. Choosing
``Var(w) = gain² / fan`` keeps them steady:

* Xavier/Glorot (tanh, sigmoid): ``Var(w) = gain² · 2 / (fan_in + fan_out)``
* Kaiming/He (ReLU): ``Var(w) = gain² / fan`` with ``gain = √2`` for ReLU

A uniform ``U(-a, a)`` has variance ``a²/3``, hence the ``√3`` in the uniform bounds.

Every function works in place under ``no_grad``, draws from the one global generator
(:func:`soma.random.generator`, so :func:`soma.manual_seed` makes it repeatable), and
returns the tensor. The values are drawn on the host and then written into the tensor
wherever it lives, so a seed gives the same weights on every device.

Example::

    >>> w = soma.empty(256, 784)
    >>> nn.init.kaiming_normal_(w, nonlinearity="relu")   # std = √2/√784
"""

import math
import warnings

import numpy as np

from soma import backend
from soma.autograd.function import mark_dirty
from soma.random import generator

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_", "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
]

_LINEAR_GAINS = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                 "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2/(1 + slope²))
    (slope ``param``, default 0.01); selu: 3/4.
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (PyTorch's rule).

    For a Linear weight (out, in) that is (in, out); for a Conv2d weight
    (out_channels, in_channels/groups, kH, kW) the receptive field is kH·kW.
    """
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    """Write ``values`` (a number, or a host array) into the tensor's array in place (the init functions' one
    exit), moved onto the tensor's device first."""
    if isinstance(values, np.ndarray):
        values = backend.of(tensor._array).transfer(values)
    tensor._array[...] = values
    mark_dirty(tensor)
    return tensor


def _rng(gen):
    return generator() if gen is None else gen


def fan_in_uniform_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: w ~ kaiming_uniform_(a=√5), which is
    U(−1/√fan_in, 1/√fan_in), and b ~ U(−1/√fan_in, 1/√fan_in) with fan_in from the weight."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
    return weight


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """w ~ U(a, b)"""
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """w ~ N(mean, std²)"""
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """w ~ N(mean, std²) restricted to [a, b] (redrawing what falls outside): the truncated normal.

    As in PyTorch, a mean more than 2 std outside [a, b] warns (few draws land inside).
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        import warnings

        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values "
                      "may be incorrect.", stacklevel=2)
    rng = _rng(generator)
    values = rng.normal(mean, std, tensor.shape)
    bad = (values < a) | (values > b)
    while bad.any():
        values[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor, val):
    """w = val"""
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1)


def zeros_(tensor):
    return _fill(tensor, 0)


def eye_(tensor):
    """The identity matrix (2-D tensors)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """A convolution weight that passes its input through (identity on channels)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3-, 4- and 5-D tensors are supported, got {tuple(tensor.shape)}")
    out_per_group = tensor.shape[0] // groups
    n = min(out_per_group, tensor.shape[1])
    values = np.zeros(tensor.shape)
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(n):
            values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot: w ~ U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot: w ~ N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He: w ~ U(-b, b) with b = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).

    ``Linear`` and ``Conv`` use ``a=√5``, which gives b = 1/√fan_in.
    """
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He: w ~ N(0, σ²) with σ = gain / √fan."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times ``gain``: QR of a Gaussian matrix, signs fixed by diag(R).

    Dimensions after the first are flattened, as in PyTorch.
    """
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, got {tuple(tensor.shape)}"
        )
    if tensor._array.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor._array.size // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """2-D: N(0, std²) entries with a fraction ``sparsity`` of each column set to zero."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only 2-D tensors are supported, got {tuple(tensor.shape)}")
    rng = _rng(generator)
    rows, cols = tensor.shape
    values = rng.normal(0.0, std, (rows, cols))
    zeros = int(math.ceil(sparsity * rows))
    order = np.argsort(rng.random((rows, cols)), axis=0)[:zeros]
    values[order, np.arange(cols)] = 0
    return _fill(tensor, values)


def _deprecated(function):
    """PyTorch's old name without the trailing underscore: warns (FutureWarning) and calls ``function``."""
    new_name = function.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning,
                      stacklevel=2)
        return function(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"{old_name}(...): deprecated; calls :func:`{new_name}` (see it for details)."
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
