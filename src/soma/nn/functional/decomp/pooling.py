"""Max pooling, average pooling and nearest upsampling under higher-order gradients.

Max pooling is piecewise linear: inside each window the output *is* one input element,
the winner (the first tap holding the maximum, or the last NaN tap, as the kernel and
PyTorch pick it). With the winners found from the recorded forward, the composite is one
``gather`` from the (−∞-padded) input plane,

    y[n,c,p] = x_pad[n, c, r(p)·W_pad + c(p)],   r(p) = p_y·s + (t // k_w)·d,  c(p) = p_x·s + (t % k_w)·d

for winning tap t, so the first derivative routes g to the winner exactly as the kernel
does (ties included) and the second derivative is zero, as in PyTorch.

Average pooling (with its divisor, whatever ``count_include_pad``, ``divisor_override``
and ``ceil_mode`` made it) and nearest upsampling are linear in the input: the engine
re-applies them to the incoming gradients (``linear = True``). As in PyTorch, both poolings' first
derivatives stay connected to the input (``connected``): their derivative w.r.t. it is zero, not an error.
"""

import numpy as np

from soma.nn.functional.pooling import AvgPool, MaxPool, _winners
from soma.nn.functional.resampling import Upsample
from soma.ops.shape import pad
from soma.tensor import Tensor

__all__ = []

AvgPool.linear = True
Upsample.linear = True
# PyTorch's pooling gradients still hang on the input (zero derivative), so differentiating them again gives zeros
MaxPool.connected = AvgPool.connected = True


def _max_pool(ctx, x, window, return_indices):
    xp_array, best = ctx.saved_tensors[:2]
    winners = _winners(xp_array, best, window)
    (_, kw), (sh, sw), (dh, dw), (ho, wo) = window.kernel, window.stride, window.dilation, window.out_size
    (ph, pw), (h, w), (hp, wp) = window.padding, window.in_size, window.padded
    rows = np.arange(ho, like=winners)[:, None] * sh + (winners // kw) * dh  # beside the winners
    cols = np.arange(wo, like=winners)[None, :] * sw + (winners % kw) * dw
    n, c = x.shape[:2]
    flat = Tensor._make((rows * wp + cols).reshape(n, c, ho * wo), False)
    if window.padded != window.in_size:
        x = pad(x, (pw, wp - w - pw, ph, hp - h - ph), value=-np.inf)
    out = x.flatten(2).gather(2, flat).reshape(n, c, ho, wo)
    return (out, None) if return_indices else out


MaxPool.composite = staticmethod(_max_pool)
