"""Convolutions: F.conv1d, F.conv2d, F.conv_transpose1d, F.conv_transpose2d.

A convolution layer slides a small kernel over the input and, at every position,
takes the weighted sum of the window plus a bias (see notes 004, "Convolution"):

    z[n,o,y,x] = b[o] + Σ_c Σ_i Σ_j x[n,c, y·s + i·d − p, x·s + j·d − p] · w[o,c,i,j]

(a cross-correlation, as in PyTorch: the kernel is not flipped). The output size
per spatial axis is ⌊(H + 2p − d·(k − 1) − 1) / s⌋ + 1, e.g. 32×32 input, 6×6
kernel, stride 2, padding 1 → 15×15 (notes 002). The arithmetic is done by one of
three algorithms in :mod:`soma.nn.functional.conv_algorithms` (``algorithm="im2col"``, the
default; ``"fft"``; ``"direct"``), all giving the same numbers and gradients.
"""


import numpy as np

from soma._errors import DTypeError
from soma._validation import conv_output_size
from soma._validation import ntuple as _tuple
from soma.autograd.function import Function
from soma.nn.functional.conv_algorithms import ALGORITHMS, ConvGeometry, pad_input
from soma.ops.shape import cat
from soma.tensor import Tensor

__all__ = [
    "Conv",
    "ConvTranspose",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_output_size",
    "same_padding",
]

# "auto" switches to the FFT for kernels of 7×7 and more at stride 1. Measured forward
# times on this 2-core machine (float32, one BLAS thread): 32×16×32×32 input, 32
# filters: 3×3 im2col 5.1 ms vs fft 20.4 ms, 7×7 im2col 29.6 ms vs fft 20.6 ms;
# 8×16×64×64, 16 filters: 3×3 2.9 vs 14.6 ms, 5×5 16.7 vs 14.9 ms; LeNet's 5×5
# layers 0.36 / 0.31 ms im2col vs 1.2 / 1.6 ms fft.
FFT_MIN_TAPS = 7 * 7


def same_padding(kernel_size, dilation=1):
    """(before, after) zero padding that keeps the size at stride 1; the odd one goes after, as in PyTorch."""
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def _pick(algorithm, kernel_size, stride, name):
    if algorithm == "auto":
        taps = kernel_size[0] * kernel_size[1]
        return ALGORITHMS["fft" if taps >= FFT_MIN_TAPS and stride == (1, 1) else "im2col"]
    try:
        return ALGORITHMS[algorithm]
    except KeyError:
        raise ValueError(
            f"{name}: algorithm must be 'auto', 'im2col', 'fft' or 'direct', got {algorithm!r}"
        ) from None


def _finite(algorithm, *arrays):
    """``algorithm``, or im2col where the FFT would meet an Inf or NaN: its transform spreads a NaN over the
    whole output, where PyTorch's sum keeps it to the windows that hold it."""
    if algorithm is ALGORITHMS["fft"] and not all(np.isfinite(a).all() for a in arrays):
        return ALGORITHMS["im2col"]
    return algorithm


def _transpose_grad_weight(x4, grad4, geom, padding):
    """∂L/∂w of a transposed convolution, w[c,o,i,j] = Σ x[n,c,y,x]·g[n,o, y·s+i·d-p, x·s+j·d-p], over the
    output positions that exist only, one tap at a time. For inputs holding an Inf: the algorithms pad g by p
    and would multiply it by the padding's zeros (0·Inf = NaN), a product PyTorch never forms."""
    groups, (cin, cout_g, kh, kw) = geom.groups, geom.weight_shape
    n, _, h, w = x4.shape
    xg = x4.reshape(n, groups, cin // groups, h, w)
    gg = grad4.reshape(n, groups, cout_g, *grad4.shape[2:])
    out = np.zeros((groups, cin // groups, cout_g, kh, kw), np.result_type(x4, grad4), like=x4)

    def valid(size, out_size, stride, offset):  # the input rows y with 0 <= y·s + offset < out_size
        first = max(0, -(offset // stride) if offset < 0 else 0)
        last = min(size - 1, (out_size - 1 - offset) // stride)
        return slice(first, last + 1), slice(first * stride + offset, last * stride + offset + 1, stride)

    for i in range(kh):
        rows, g_rows = valid(h, grad4.shape[2], geom.stride[0], i * geom.dilation[0] - padding[0])
        for j in range(kw):
            cols, g_cols = valid(w, grad4.shape[3], geom.stride[1], j * geom.dilation[1] - padding[1])
            if rows.start < rows.stop and cols.start < cols.stop:
                out[..., i, j] = np.einsum("ngchw,ngohw->gco", xg[..., rows, cols], gg[..., g_rows, g_cols],
                                           optimize=True)
    return out.reshape(geom.weight_shape)


def _as_2d(x, spatial):
    """Conv1d runs as Conv2d on a height-1 image: (N, C, L) -> (N, C, 1, L) (a view)."""
    return x[:, :, None, :] if spatial == 1 else x


class Conv(Function):
    """z = x ⋆ w + b for 1-D or 2-D inputs; ``pads`` is ((top, bottom), (left, right)) of zeros."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups, algorithm):
        spatial = x.ndim - 2
        x4, w4 = _as_2d(x, spatial), _as_2d(weight, spatial)
        algorithm = _finite(algorithm, x4, w4)
        n, c, h, w = x4.shape
        padded = (n, c, h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1])
        geom = ConvGeometry(padded, w4.shape, stride, dilation, groups)
        xp = pad_input(x4, pads, algorithm is ALGORITHMS["im2col"] and geom.channels_last())
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        out, cols = algorithm.forward(xp, w4, geom, keep_columns=need_w)
        if bias is not None:
            out += bias.reshape(-1, 1, 1)
        if need_x or need_w or ctx.needs_input_grad[2]:
            ctx.save_for_backward(xp if need_w else None, w4, cols)
            ctx.geom, ctx.spatial, ctx.pads, ctx.algorithm = geom, spatial, pads, algorithm
            ctx.x_shape, ctx.w_shape = x.shape, weight.shape
        return out[:, :, 0, :] if spatial == 1 else out

    @staticmethod
    def backward(ctx, grad):
        xp, w4, cols = ctx.saved_tensors
        spatial, x_shape, w_shape, algorithm = ctx.spatial, ctx.x_shape, ctx.w_shape, ctx.algorithm
        (top, _), (left, _) = ctx.pads
        grad4 = _as_2d(grad, spatial)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # ∂L/∂x = Σ_o g ⋆ᵀ w (a transposed convolution), cropped
            dxp = algorithm.grad_input(grad4, w4, ctx.geom)
            h, w = (1, x_shape[-1]) if spatial == 1 else x_shape[2:]
            grad_x = dxp[:, :, top : top + h, left : left + w].reshape(x_shape)
        if ctx.needs_input_grad[1]:  # ∂L/∂w = Σ_{n,positions} g · x-window
            grad_w = algorithm.grad_weight(xp, grad4, ctx.geom, cols).reshape(w_shape)
        if ctx.needs_input_grad[2]:  # ∂L/∂b = Σ_{n,positions} g
            grad_b = grad4.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b, None, None, None, None, None


class ConvTranspose(Function):
    """The transposed convolution: the input-gradient of a convolution, used as a layer (upsampling)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups, algorithm):
        spatial = x.ndim - 2
        x4, w4 = _as_2d(x, spatial), _as_2d(weight, spatial)
        algorithm = _finite(algorithm, x4, w4)
        n, _, h, w = x4.shape
        cin, cout_g, kh, kw = w4.shape
        full = [
            (size - 1) * s + d * (k - 1) + 1 + op
            for size, s, d, k, op in zip((h, w), stride, dilation, (kh, kw), output_padding)
        ]
        geom = ConvGeometry((n, cout_g * groups, *full), w4.shape, stride, dilation, groups)
        out = algorithm.grad_input(x4, w4, geom)
        (ph, pw) = padding
        out = out[:, :, ph : full[0] - ph, pw : full[1] - pw]
        if bias is not None:
            out = out + bias.reshape(-1, 1, 1)
        ctx.save_for_backward(x4, w4)
        ctx.geom, ctx.spatial, ctx.padding, ctx.algorithm = geom, spatial, padding, algorithm
        ctx.x_shape, ctx.w_shape = x.shape, weight.shape
        return out[:, :, 0, :] if spatial == 1 else out

    @staticmethod
    def backward(ctx, grad):
        x4, w4 = ctx.saved_tensors
        spatial, x_shape, w_shape, algorithm = ctx.spatial, ctx.x_shape, ctx.w_shape, ctx.algorithm
        (ph, pw) = ctx.padding
        grad4 = _as_2d(grad, spatial)
        _, _, hp, wp = ctx.geom.input_shape
        pads = ((ph, hp - grad4.shape[2] - ph), (pw, wp - grad4.shape[3] - pw))
        gp = pad_input(grad4, pads, algorithm is ALGORITHMS["im2col"] and ctx.geom.channels_last())
        grad_x = grad_w = grad_b = None
        need_w = ctx.needs_input_grad[1]
        if ctx.needs_input_grad[0] or need_w:  # ∂L/∂x is the ordinary convolution of g with w
            out, cols = algorithm.forward(gp, w4, ctx.geom, keep_columns=need_w)
            grad_x = out.reshape(x_shape) if ctx.needs_input_grad[0] else None
        if need_w and not np.isfinite(x4).all():
            grad_w = _transpose_grad_weight(x4, grad4, ctx.geom, (ph, pw)).reshape(w_shape)
        elif need_w:  # ∂L/∂w pairs each input value with the g-window it was spread over
            grad_w = algorithm.grad_weight(gp, x4, ctx.geom, cols).reshape(w_shape)
        if ctx.needs_input_grad[2]:
            grad_b = grad4.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b, None, None, None, None, None, None


def _check(name, input, weight, bias, groups, spatial):
    x, w = input._array if isinstance(input, Tensor) else input, weight._array
    if x.ndim != spatial + 2:
        raise RuntimeError(
            f"{name}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D input "
            f"(N, C, {'L' if spatial == 1 else 'H, W'}), got input of shape {tuple(x.shape)}"
        )
    if w.ndim != spatial + 2:
        raise RuntimeError(f"{name}: expected a {spatial + 2}-D weight, got shape {tuple(w.shape)}")
    if groups < 1:
        raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
    if x.dtype != w.dtype:
        raise DTypeError(f"{name}: input dtype {x.dtype} and weight dtype {w.dtype} differ")


def _batched(fn, name, spatial, input, *args):
    """PyTorch's batch handling around a convolution ``fn``: an unbatched (C, *spatial) input runs as a batch
    of one, and an empty batch (N = 0) as one zero sample of which no row is kept (shapes and gradients
    then come out right without a special case in the kernels)."""
    if isinstance(input, Tensor) and input.ndim == spatial + 1:
        return fn(name, spatial, input.unsqueeze(0), *args).squeeze(0)
    if isinstance(input, Tensor) and input.ndim == spatial + 2 and input.shape[0] == 0:
        one = Tensor._make(np.zeros((1, *input.shape[1:]), input.dtype, like=input._array), False)
        return fn(name, spatial, cat([input, one]), *args)[:0]
    return fn(name, spatial, input, *args)


def _conv(name, spatial, input, weight, bias, stride, padding, dilation, groups, algorithm):
    return _batched(_conv_batch, name, spatial, input, weight, bias, stride, padding, dilation, groups, algorithm)


def _conv_batch(name, spatial, input, weight, bias, stride, padding, dilation, groups, algorithm):
    _check(name, input, weight, bias, groups, spatial)
    stride = _tuple(stride, spatial, name, "stride")
    dilation = _tuple(dilation, spatial, name, "dilation")
    kernel = tuple(weight.shape[2:])
    x_shape, w_shape = tuple(input.shape), tuple(weight.shape)
    if x_shape[1] != w_shape[1] * groups or w_shape[0] % groups:
        raise RuntimeError(
            f"{name}: weight of shape {w_shape} with groups={groups} expects input with "
            f"{w_shape[1] * groups} channels, got input of shape {x_shape}"
        )
    if bias is not None and tuple(bias.shape) != (w_shape[0],):
        raise RuntimeError(f"{name}: bias of shape {tuple(bias.shape)} does not match weight {w_shape}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * spatial
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            pads = tuple(same_padding(k, d) for k, d in zip(kernel, dilation))
        else:
            raise ValueError(f"{name}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}")
    else:
        pads = tuple((p, p) for p in _tuple(padding, spatial, name, "padding"))
    for size, (before, after), k, d in zip(x_shape[2:], pads, kernel, dilation):
        if size + before + after < d * (k - 1) + 1:
            raise RuntimeError(
                f"{name}: input of shape {x_shape} (padded by {pads}) is smaller than the "
                f"kernel {kernel} with dilation {dilation}"
            )
    if spatial == 1:
        stride, dilation, pads = (1, *stride), (1, *dilation), ((0, 0), *pads)
        kernel = (1, *kernel)
    return Conv.apply(input, weight, bias, stride, pads, dilation, groups, _pick(algorithm, kernel, stride, name))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, algorithm="auto"):
    """2-D convolution (cross-correlation) over an (N, C_in, H, W) input.

    Args:
        input: (N, C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride, dilation: int or (sH, sW).
        padding: int, (pH, pW), ``'valid'`` (none) or ``'same'`` (output size = input size).
        groups: split the channels into this many independent convolutions
            (``groups = C_in`` is a depthwise convolution).
        algorithm: ``"im2col"`` (one GEMM), ``"fft"`` (the convolution theorem),
            ``"direct"`` (the plain sum of the notes) or ``"auto"`` (FFT for kernels of
            7×7 and more at stride 1, im2col otherwise). All give the same numbers.

    Shape: output (N, C_out, H_out, W_out), H_out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.

    Example::

        >>> x = soma.randn(8, 3, 32, 32)
        >>> w = soma.randn(16, 3, 3, 3)
        >>> F.conv2d(x, w, padding=1).shape
        (8, 16, 32, 32)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups, algorithm)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, algorithm="auto"):
    """1-D convolution over an (N, C_in, L) input with weight (C_out, C_in / groups, k); see :func:`conv2d`."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups, algorithm)


def _conv_transpose(name, spatial, input, weight, bias, stride, padding, output_padding, groups, dilation, algorithm):
    return _batched(_conv_transpose_batch, name, spatial, input, weight, bias, stride, padding, output_padding,
                    groups, dilation, algorithm)


def _conv_transpose_batch(name, spatial, input, weight, bias, stride, padding, output_padding, groups, dilation,
                          algorithm):
    _check(name, input, weight, bias, groups, spatial)
    stride = _tuple(stride, spatial, name, "stride")
    padding = _tuple(padding, spatial, name, "padding")
    output_padding = _tuple(output_padding, spatial, name, "output_padding")
    dilation = _tuple(dilation, spatial, name, "dilation")
    x_shape, w_shape = tuple(input.shape), tuple(weight.shape)
    if x_shape[1] != w_shape[0] or w_shape[0] % groups:
        raise RuntimeError(
            f"{name}: weight of shape {w_shape} expects input with {w_shape[0]} channels, "
            f"got input of shape {x_shape}"
        )
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise ValueError(f"{name}: output_padding {output_padding} must be smaller than stride or dilation")
    if bias is not None and tuple(bias.shape) != (w_shape[1] * groups,):
        raise RuntimeError(
            f"{name}: bias of shape {tuple(bias.shape)} does not match {w_shape[1] * groups} output channels"
        )
    if spatial == 1:
        stride, padding, output_padding, dilation = (1, *stride), (0, *padding), (0, *output_padding), (1, *dilation)
    kernel = tuple(weight.shape[2:]) if spatial == 2 else (1, weight.shape[2])
    sizes = x_shape[-2:] if spatial == 2 else (1, x_shape[-1])
    for size, s, d, k, p, op in zip(sizes, stride, dilation, kernel, padding, output_padding):
        if (size - 1) * s + d * (k - 1) + 1 + op - 2 * p < 1:
            raise RuntimeError(f"{name}: padding {padding} leaves no output for input of shape {x_shape}")
    return ConvTranspose.apply(
        input, weight, bias, stride, padding, output_padding, dilation, groups, _pick(algorithm, kernel, stride, name)
    )


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                     algorithm="auto"):
    """Transposed 2-D convolution ("deconvolution"): each input value spreads a weighted kernel into the output.

    It is the gradient of :func:`conv2d` with respect to its input, so it upsamples:
    H_out = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1.

    Args:
        input: (N, C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW) (note the order, as in PyTorch).
        bias: (C_out,) or None.

    Example::

        >>> F.conv_transpose2d(soma.randn(1, 4, 5, 5), soma.randn(4, 2, 3, 3), stride=2).shape
        (1, 2, 11, 11)
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation, algorithm)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                     algorithm="auto"):
    """Transposed 1-D convolution over (N, C_in, L); see :func:`conv_transpose2d`."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation, algorithm)
