"""F.unfold (im2col) and F.fold (col2im): the convolution's window matrix as an op of its own.

A convolution (notes 004) is a matrix product once every receptive field is copied
into a column: for an (N, C, H, W) input and a kh×kw kernel,

.. code-block:: text

    unfold(x)[n, (c, i, j), l] = x_pad[n, c, sₕ·lₕ + dₕ·i, s_w·l_w + d_w·j]

for each of the L = Hₒ·Wₒ window positions l = (lₕ, l_w), with Hₒ = ⌊(H + 2p - d(k-1) - 1)/s⌋ + 1.
Then ``conv2d(x, w) = (w.view(O, -1) @ unfold(x)).view(N, O, Hₒ, Wₒ)``.

``fold`` is its adjoint: it adds every column entry back into the pixel it came from
(overlapping windows sum), so each is the other's backward. ``fold(unfold(x))`` is x
times the number of windows that cover each pixel.
"""

import numpy as np

from soma._errors import check_floating
from soma.autograd.function import Function
from soma.nn.functional.conv import _tuple
from soma.nn.functional.conv_algorithms import ConvGeometry, Im2col, pad_input
from soma.nn.functional.conv_algorithms import _col2im as _add_taps

__all__ = ["Unfold", "Fold", "unfold", "fold"]


def _geometry(padded_size, batch, channels, kernel, stride, dilation):
    return ConvGeometry((batch, channels) + tuple(padded_size), (1, 1) + tuple(kernel), stride, dilation, 1)


def _im2col(x, kernel, dilation, padding, stride):
    """(N, C, H, W) -> (N, C·kh·kw, L)."""
    n, c, h, w = x.shape
    xp = pad_input(x, tuple((p, p) for p in padding))
    geom = _geometry(xp.shape[2:], n, c, kernel, stride, dilation)
    windows = Im2col.windows(xp, geom)  # (N, C, Ho, Wo, kh, kw)
    ho, wo = windows.shape[2:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel[0] * kernel[1], ho * wo)


def _col2im(cols, size, kernel, dilation, padding, stride):
    """(N, C·kh·kw, L) -> (N, C, H, W), overlapping entries summed."""
    n = cols.shape[0]
    (kh, kw), (ph, pw) = kernel, padding
    c = cols.shape[1] // (kh * kw)
    padded = (size[0] + 2 * ph, size[1] + 2 * pw)
    geom = _geometry(padded, n, c, kernel, stride, dilation)
    _, _, ho, wo = geom.output_shape
    taps = cols.reshape(n, c, kh, kw, ho, wo).transpose(2, 3, 0, 1, 4, 5)
    target = _add_taps(taps, np.zeros((n, c) + padded, cols.dtype, like=cols), geom)
    return target[:, :, ph : ph + size[0], pw : pw + size[1]]


def _blocks(size, kernel, dilation, padding, stride):
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, d, p, s in zip(size, kernel, dilation, padding, stride))


def _remember(ctx, kernel, dilation, padding, stride):
    """The window geometry, as named constants on the node."""
    ctx.kernel, ctx.dilation, ctx.padding, ctx.stride = kernel, dilation, padding, stride


class Unfold(Function):
    """im2col; its backward is col2im of the gradient."""

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride):
        _remember(ctx, kernel, dilation, padding, stride)
        ctx.size = x.shape[2:]
        return _im2col(x, kernel, dilation, padding, stride)

    @staticmethod
    def backward(ctx, grad):
        return (_col2im(grad, ctx.size, ctx.kernel, ctx.dilation, ctx.padding, ctx.stride),) + (None,) * 4


class Fold(Function):
    """col2im; its backward is im2col of the gradient."""

    @staticmethod
    def forward(ctx, cols, size, kernel, dilation, padding, stride):
        _remember(ctx, kernel, dilation, padding, stride)
        return _col2im(cols, size, kernel, dilation, padding, stride)

    @staticmethod
    def backward(ctx, grad):
        return (_im2col(grad, ctx.kernel, ctx.dilation, ctx.padding, ctx.stride),) + (None,) * 5


def _arguments(name, kernel_size, dilation, padding, stride):
    args = [_tuple(v, 2, name, what) for v, what in
            [(kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"), (stride, "stride")]]
    for values, what, low in zip(args, ("kernel_size", "dilation", "padding", "stride"), (1, 1, 0, 1)):
        if any(not isinstance(v, (int, np.integer)) or v < low for v in values):
            raise RuntimeError(f"{name}: {what} must be {'non-negative' if low == 0 else 'positive'} integers, "
                               f"got {values}")
    return args


def _batched(name, input, ndim):
    if input.ndim not in (ndim - 1, ndim):
        raise RuntimeError(f"{name}: expected a {ndim - 1}-D (unbatched) or {ndim}-D (batched) input, "
                           f"got shape {tuple(input.shape)}")
    return input.ndim == ndim


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: (N, C, H, W) -> (N, C·∏kernel_size, L), or (C, H, W) -> (C·∏k, L).

    Args:
        input: the images.
        kernel_size, dilation, padding, stride: as for ``conv2d`` (an int or a pair).
    """
    kernel, dilation, padding, stride = _arguments("unfold", kernel_size, dilation, padding, stride)
    batched = _batched("unfold", input, 4)
    check_floating("unfold", input)  # PyTorch's im2col has float kernels only
    x = input if batched else input.unsqueeze(0)
    blocks = _blocks(x.shape[2:], kernel, dilation, padding, stride)
    if min(blocks) < 1:
        raise RuntimeError(f"unfold: input of shape {tuple(input.shape)} is too small for kernel_size {kernel}, "
                           f"dilation {dilation}, padding {padding}: it has no complete block")
    out = Unfold.apply(x, kernel, dilation, padding, stride)
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into images: (N, C·∏k, L) -> (N, C, *output_size), summing overlaps.

    Args:
        input: blocks as :func:`unfold` makes them; L must be the number of blocks that fit.
        output_size: the (H, W) of the images.
        kernel_size, dilation, padding, stride: as for :func:`unfold`.
    """
    size = _tuple(output_size, 2, "fold", "output_size")
    kernel, dilation, padding, stride = _arguments("fold", kernel_size, dilation, padding, stride)
    batched = _batched("fold", input, 3)
    check_floating("fold", input)
    cols = input if batched else input.unsqueeze(0)
    per_block = kernel[0] * kernel[1]
    if cols.shape[1] % per_block:
        raise RuntimeError(f"fold: expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size {kernel}, but got input.size(1)={cols.shape[1]}")
    blocks = _blocks(size, kernel, dilation, padding, stride)
    if min(blocks) < 1 or cols.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"fold: given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match "
                           f"the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={cols.shape[2]}")
    out = Fold.apply(cols, size, kernel, dilation, padding, stride)
    return out if batched else out.squeeze(0)
