"""Signal windows with PyTorch's names: hann, hamming, blackman, bartlett, kaiser.

Each is w[n] for n = 0 … N-1 over the symmetric window of length N (``periodic=False``) or, by
default (``periodic=True``, the form a spectrogram's frames want), the first N of the symmetric
window of length N + 1. With M = N - 1 (or N when periodic):

    hann      w[n] = 1/2 - 1/2 cos(2πn/M)
    hamming   w[n] = α - β cos(2πn/M)                         (α = 0.54, β = 0.46)
    blackman  w[n] = 0.42 - 0.5 cos(2πn/M) + 0.08 cos(4πn/M)
    bartlett  w[n] = 1 - |2n/M - 1|
    kaiser    w[n] = I₀(β √(1 - (2n/M - 1)²)) / I₀(β)           (β = 12)

A window of length 1 is [1.], of length 0 empty. Values are computed in float64 and cast to ``dtype``
(the default dtype when None; a window is floating point only).
"""

import numpy as np

from soma.creation import _dtype, _finish

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


def _window(name, window_length, periodic, dtype, requires_grad, device, shape):
    """The window ``shape(n / M)`` (n = 0 … N-1) after PyTorch's checks of the length and dtype."""
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    kind = np.dtype(_dtype(dtype))
    if kind.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {kind}")
    if window_length <= 1:
        values = np.ones(window_length)
    else:
        span = window_length if periodic else window_length - 1
        values = shape(np.arange(window_length) / span)
    return _finish(values.astype(kind), requires_grad, device, name)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hann window: 1/2 - 1/2 cos(2πn/M) (see the module docstring)."""
    return _window("hann_window", window_length, periodic, dtype, requires_grad, device,
                   lambda t: 0.5 - 0.5 * np.cos(2 * np.pi * t))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """The Hamming window: α - β cos(2πn/M)."""
    return _window("hamming_window", window_length, periodic, dtype, requires_grad, device,
                   lambda t: alpha - beta * np.cos(2 * np.pi * t))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Blackman window: 0.42 - 0.5 cos(2πn/M) + 0.08 cos(4πn/M)."""
    return _window("blackman_window", window_length, periodic, dtype, requires_grad, device,
                   lambda t: 0.42 - 0.5 * np.cos(2 * np.pi * t) + 0.08 * np.cos(4 * np.pi * t))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Bartlett (triangular) window: 1 - |2n/M - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad, device,
                   lambda t: 1 - np.abs(2 * t - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """The Kaiser window: I₀(β √(1 - (2n/M - 1)²)) / I₀(β), I₀ the modified Bessel function of order 0."""
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, device,
                   lambda t: np.i0(beta * np.sqrt(np.clip(1 - (2 * t - 1) ** 2, 0, None))) / np.i0(beta))
