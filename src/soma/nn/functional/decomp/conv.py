"""Convolution, transposed convolution, unfold and fold in differentiable primitives.

A convolution is a sum over the kernel taps (notes 004): tap (i, j) reads the strided
slice of the padded input that it multiplies, for every output position at once,

    z[n,o,y,x] = b[o] + Σ_{i,j} Σ_c x_pad[n, c, y·s + i·d, x·s + j·d] · w[o, c, i, j],

so the composite is ``pad`` + one strided slice per tap, stacked into the (channel, tap) × position
matrix of each group, + one ``matmul`` with the weights: all ops with formulas, so every order of
derivative follows.

The transposed convolution (the input-gradient of a convolution) is the ordinary
convolution of the input *dilated* by the stride (s − 1 zeros between samples) and
padded by d·(k − 1) − p (+ output_padding after), with the kernel flipped and its two
channel axes swapped within each group:

    ConvTranspose(x, w)[z] = Σ_{h·s + i·d = z} x[h]·w[i] = Σ_i x_dil_pad[z + i·d]·w[k − 1 − i].

Unfold and fold are linear in their input (a copy and its adjoint, the sum back into
place), so the engine re-applies them to the incoming gradients (``linear = True``).
"""

from soma.nn.functional.conv import Conv, ConvTranspose
from soma.nn.functional.patches import Fold, Unfold
from soma.ops.shape import cat, pad, stack

__all__ = ["conv_taps", "dilate", "pad_or_crop"]

Unfold.linear = True
Fold.linear = True


def _as_4d(t, spatial):
    """(N, C, L) -> (N, C, 1, L): 1-D runs as 2-D on a height-1 image."""
    return t.unsqueeze(2) if spatial == 1 else t


def pad_or_crop(x, pads):
    """x with ((top, bottom), (left, right)) zeros added where positive, rows/columns cut where negative."""
    h, w = x.shape[-2:]
    (top, bottom), (left, right) = pads
    x = x[..., max(-top, 0) : h - max(-bottom, 0), max(-left, 0) : w - max(-right, 0)]
    widths = (max(left, 0), max(right, 0), max(top, 0), max(bottom, 0))
    return pad(x, widths) if any(widths) else x


def conv_taps(x, weight, bias, stride, pads, dilation, groups):
    """z = Σ_taps slice(x_pad) · w[:, :, i, j] + b on (N, C, H, W) in differentiable ops."""
    xp = pad_or_crop(x, pads)
    n, c, hp, wp = xp.shape
    out_c, cg, kh, kw = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    taps = [
        xp[:, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    columns = stack(taps, 2).reshape(n, groups, cg * kh * kw, ho * wo)  # (channel, tap) rows per group
    out = (weight.reshape(groups, out_c // groups, cg * kh * kw) @ columns).reshape(n, out_c, ho, wo)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def _conv(ctx, x, weight, bias, stride, pads, dilation, groups, algorithm):
    spatial = x.ndim - 2
    out = conv_taps(_as_4d(x, spatial), _as_4d(weight, spatial), bias, stride, pads, dilation, groups)
    return out.squeeze(2) if spatial == 1 else out


def dilate(x, stride):
    """(N, C, H, W) with s − 1 zeros between neighbouring samples along each spatial axis."""
    for axis, s in ((2, stride[0]), (3, stride[1])):
        if s == 1:
            continue
        size = x.shape[axis]
        spread = x.unsqueeze(axis + 1)
        zeros = spread.new_zeros(spread.shape[: axis + 1] + (s - 1,) + spread.shape[axis + 2 :])
        x = cat([spread, zeros], axis + 1)
        x = x.reshape(*x.shape[:axis], size * s, *x.shape[axis + 2 :])
        x = x.narrow(axis, 0, (size - 1) * s + 1)
    return x


def _conv_transpose(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups, algorithm):
    spatial = x.ndim - 2
    x4, w4 = _as_4d(x, spatial), _as_4d(weight, spatial)
    in_c, out_g, kh, kw = w4.shape
    flipped = w4.reshape(groups, in_c // groups, out_g, kh, kw).transpose(1, 2).flip((3, 4))
    flipped = flipped.reshape(groups * out_g, in_c // groups, kh, kw)
    pads = tuple(
        (d * (k - 1) - p, d * (k - 1) - p + op) for d, k, p, op in zip(dilation, (kh, kw), padding, output_padding)
    )
    out = conv_taps(dilate(x4, stride), flipped, bias, (1, 1), pads, dilation, groups)
    return out.squeeze(2) if spatial == 1 else out


Conv.composite = staticmethod(_conv)
ConvTranspose.composite = staticmethod(_conv_transpose)

