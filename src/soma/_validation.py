"""Argument parsing and size formulas that layers, ops, transforms and explanations share.

* :func:`ntuple` / :func:`pair`: PyTorch's ``kernel_size=3`` or ``kernel_size=(3, 5)`` convention
  (an int repeats along every spatial axis; a sequence gives one entry per axis).
* :func:`conv_output_size` / :func:`conv_transpose_output_size`: the output length along one axis
  of a convolution (notes 002) and of the transposed convolution that inverts its shape.
"""

import numpy as np

__all__ = ["ntuple", "pair", "conv_output_size", "conv_transpose_output_size"]


def ntuple(value, n, name="argument", what="value"):
    """``value`` as a tuple of ``n`` ints: an int repeats ``n`` times, a sequence needs ``n`` entries.

    ``name`` (the layer or function) and ``what`` (the argument) name a bad value in the error:
    a sequence of another length is a ValueError, a non-integral entry (2.5) a TypeError.
    """
    values = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else (value,) * n
    if len(values) != n:
        raise ValueError(f"{name}: {what} must be an int or a tuple of {n} ints, got {value!r}")
    try:
        ints = tuple(int(v) for v in values)
    except (TypeError, ValueError):
        ints = None
    if ints is None or ints != values:
        raise TypeError(f"{name}: {what} must be an int or a tuple of {n} ints, got {value!r}")
    return ints


def pair(value, name="argument", what="value"):
    """:func:`ntuple` with ``n = 2``: ``(height, width)``."""
    return ntuple(value, 2, name, what)


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """⌊(size + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1 (notes 002: 32, 6, 2, 1 → 15)."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, dilation=1, output_padding=0):
    """(size − 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1: the size whose
    convolution has ``size`` outputs (``output_padding`` picks among the stride's candidates)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
