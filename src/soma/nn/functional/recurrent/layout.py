"""Weight layout of the recurrent kernels: PyTorch's stacked gate blocks to the kernels' internal form.

The kernels keep every state *feature-major*, h_t as an (H, B) array (a column per batch
row), so that one left-multiplying GEMM gives all gates of a step,

    a_t = W_ih [x_t; 1] + W_hh h_{t-1}        (n·H, B) = (n·H, I+1)(I+1, B) + (n·H, H)(H, B),

and each gate is a contiguous (H, B) block of rows. Two changes to PyTorch's
(n·H, ...) weights make the step cheap:

* the gate blocks are reordered so that all sigmoid gates come first (LSTM: o, i, f, g
  instead of PyTorch's i, f, g, o), and their rows are scaled by 1/2, so ONE ``tanh``
  over all gates gives every nonlinearity: σ(a) = (1 + tanh(a/2)) / 2;
* the two biases are folded into one extra column of W_ih (b_ih + b_hh; GRU keeps b_hn
  apart, it sits inside r * (W_hn h + b_hn)), matched by a row of ones under x_t.
"""

import numpy as np

from soma.backend import contiguous

__all__ = ["blocks", "torch_order", "left_multiplied", "sigmoid_scale"]


def blocks(a, n, order):
    """A PyTorch (n·H, ...) weight, bias or gradient as (n, H, ...) blocks in internal gate order."""
    a = a.reshape(n, -1, *a.shape[1:])
    return a if order is None else a[list(order)]


def torch_order(a, order):
    """The inverse of :func:`blocks` for stacked rows: (n·H, ...) in internal order back to PyTorch's."""
    if order is None:
        return a
    n = len(order)
    a = a.reshape(n, -1, *a.shape[1:])[[int(i) for i in np.argsort(order)]]
    return a.reshape(-1, *a.shape[2:])


def sigmoid_scale(n, n_sigmoid, like):
    """(n, 1, 1) factors in ``like``'s dtype and backend: 1/2 for the first ``n_sigmoid`` (sigmoid) gates, 1 for
    the rest."""
    scale = np.ones((n, 1, 1), like.dtype, like=like)
    scale[:n_sigmoid] = 0.5
    return scale


def left_multiplied(w_ih, bias):
    """(n, H, I) blocks and the bias (n, H) or None -> the (n·H, I+1) matrix [W_ih | b] (or (n·H, I))."""
    if bias is not None:
        w_ih = np.concatenate([w_ih, bias[..., None]], axis=2)
    return contiguous(w_ih.reshape(-1, w_ih.shape[2]))
