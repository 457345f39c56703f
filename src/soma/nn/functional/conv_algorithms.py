"""Three ways to compute one convolution: im2col + GEMM, the FFT, and the plain sum.

Every algorithm answers the same three questions about a cross-correlation of a
(zero-padded) input ``xp`` of shape (N, C, Hp, Wp) with a weight ``w`` of shape
(O, C/groups, kh, kw), stride s and dilation d (see notes 004, "Convolution"):

* ``forward``:       z[n,o,y,x] = Σ_{c,i,j} xp[n,c, y·s+i·d, x·s+j·d] · w[o,c,i,j]
* ``grad_input``:    ∂L/∂xp[n,c,p,q] = Σ_{o,i,j} g[n,o,y,x] · w[o,c,i,j]   over p = y·s+i·d, q = x·s+j·d
* ``grad_weight``:   ∂L/∂w[o,c,i,j]  = Σ_{n,y,x} g[n,o,y,x] · xp[n,c, y·s+i·d, x·s+j·d]

``grad_input`` is also the forward of a transposed convolution, so ConvTranspose2d
reuses it. The three algorithms agree to rounding (1e-10 in float64); the tests
check that. Arrays are NCHW-indexed but may be laid out channels-last in memory:
im2col picks the layout whose copy has the longest contiguous runs, and returns
views, so no extra copy is spent putting the result back into NCHW memory.
"""

import numpy as np

from soma import backend
from soma._validation import conv_output_size
from soma.backend import contiguous

__all__ = ["ConvGeometry", "Im2col", "FFT", "Direct", "ALGORITHMS", "pad_input", "tap_slices"]


# The im2col forward writes its output channels-last in memory (NCHW-indexed) from this many output
# channels on, whichever way its columns are laid out: the ReLU, pooling and convolution after it then
# meet one memory order with runs of at least 16 floats (64 bytes). Fewer channels keep (C, N, H, W)
# memory, whose runs are rows: LeNet's 6-channel first layer pooled 8% slower channels-last.
CHANNELS_LAST_OUTPUT = 16


class ConvGeometry:
    """Sizes of one convolution: padded input (N, C, Hp, Wp), weight, output (N, O, Ho, Wo)."""

    __slots__ = ("input_shape", "weight_shape", "output_shape", "stride", "dilation", "groups")

    def __init__(self, input_shape, weight_shape, stride, dilation, groups):
        n, _, hp, wp = input_shape
        o, _, kh, kw = weight_shape
        ho = conv_output_size(hp, kh, stride[0], 0, dilation[0])
        wo = conv_output_size(wp, kw, stride[1], 0, dilation[1])
        self.input_shape = tuple(input_shape)
        self.weight_shape = tuple(weight_shape)
        self.output_shape = (n, o, ho, wo)
        self.stride = stride
        self.dilation = dilation
        self.groups = groups

    def channels_last(self):
        """Lay the GEMM out channels-last when a window row (kw·C values) beats an output row."""
        c, kw, wo = self.input_shape[1], self.weight_shape[3], self.output_shape[3]
        return self.groups == 1 and c * kw > wo


def pad_input(x, pads, channels_last=False):
    """Zero-pad the last two axes by ((top, bottom), (left, right)); return an NCHW-indexed view.

    With ``channels_last`` the memory is (N, H, W, C), which makes the window copy of
    im2col read long contiguous runs.
    """
    (top, bottom), (left, right) = pads
    n, c, h, w = x.shape
    if not (top or bottom or left or right):
        if not channels_last:
            return x
        return contiguous(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    hp, wp = h + top + bottom, w + left + right
    if channels_last:
        buffer = np.zeros((n, hp, wp, c), x.dtype, like=x)
        buffer[:, top : top + h, left : left + w] = x.transpose(0, 2, 3, 1)
        return buffer.transpose(0, 3, 1, 2)
    buffer = np.zeros((n, c, hp, wp), x.dtype, like=x)
    buffer[:, :, top : top + h, left : left + w] = x
    return buffer


def tap_slices(geom):
    """For each kernel tap (i, j): the (rows, cols) slices of the padded input it touches."""
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    _, _, kh, kw = geom.weight_shape
    _, _, ho, wo = geom.output_shape
    return [
        (i, j, slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))
        for i in range(kh)
        for j in range(kw)
    ]


def _col2im(taps, target, geom):
    """Add each tap's gradient block (kh, kw, A, B, Ho, Wo) into its slice of target (A, B, Hp, Wp).

    A loop over the kh·kw kernel taps only; each step is vectorized over batch,
    channels and output positions.
    """
    for i, j, rows, cols in tap_slices(geom):
        target[:, :, rows, cols] += taps[i, j]
    return target


class Im2col:
    """One GEMM over every window: copy the windows into a matrix (im2col), multiply by the weight.

    The windows come from a strided view (no loop over batch or positions); the
    backward is a GEMM for the weight and a GEMM plus col2im (kh·kw strided adds)
    for the input.
    """

    @staticmethod
    def windows(xp, geom):
        """View (N, C, Ho, Wo, kh, kw) of every receptive field, without copying."""
        n, c, _, _ = xp.shape
        _, _, kh, kw = geom.weight_shape
        _, _, ho, wo = geom.output_shape
        (sh, sw), (dh, dw) = geom.stride, geom.dilation
        sn, sc, sy, sx = xp.strides
        return backend.of(xp).windows(xp, (n, c, ho, wo, kh, kw), (sn, sc, sy * sh, sx * sw, sy * dh, sx * dw))

    @staticmethod
    def columns(xp, geom):
        """The im2col matrix: (N·Ho·Wo, kh·kw·C) channels-last, else (groups, C/g·kh·kw, N·Ho·Wo)."""
        win = Im2col.windows(xp, geom)
        n, c, ho, wo, kh, kw = win.shape
        if geom.channels_last():
            return win.transpose(0, 2, 3, 4, 5, 1).reshape(n * ho * wo, kh * kw * c)
        return win.transpose(1, 4, 5, 0, 2, 3).reshape(geom.groups, -1, n * ho * wo)

    @staticmethod
    def forward(xp, w, geom, keep_columns=False):
        cols = Im2col.columns(xp, geom)
        n, o, ho, wo = geom.output_shape
        if geom.channels_last():
            rows = cols @ w.transpose(0, 2, 3, 1).reshape(o, -1).T  # (N·Ho·Wo, O)
            out = rows.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)
        elif geom.groups == 1 and o >= CHANNELS_LAST_OUTPUT:
            rows = cols[0].T @ w.reshape(o, -1).T  # the same product as below, transposed: (N·Ho·Wo, O)
            out = rows.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)
        else:
            g = geom.groups
            out = (w.reshape(g, o // g, -1) @ cols).reshape(o, n, ho, wo).transpose(1, 0, 2, 3)
        return out, (cols if keep_columns else None)

    @staticmethod
    def grad_input(grad, w, geom):
        n, c, hp, wp = geom.input_shape
        o, cg, kh, kw = geom.weight_shape
        _, _, ho, wo = geom.output_shape
        if geom.channels_last():
            # One small GEMM per tap (a single batched matmul) so that each tap's block is
            # contiguous (N, Ho, Wo, C) and adds into the NHWC gradient in long runs: on
            # LeNet's conv2 backward this took 1.0 ms against 4.9 ms for one big GEMM whose
            # tap blocks are strided (runs of C values).
            g2 = grad.transpose(0, 2, 3, 1).reshape(n * ho * wo, o)
            dcols = np.matmul(g2, w.transpose(2, 3, 0, 1).reshape(kh * kw, o, c))  # (kh·kw, N·Ho·Wo, C)
            taps = dcols.reshape(kh, kw, n, ho, wo, c).transpose(0, 1, 2, 5, 3, 4)
            target = np.zeros((n, hp, wp, c), dcols.dtype, like=dcols).transpose(0, 3, 1, 2)
            return _col2im(taps, target, geom)
        g = geom.groups
        g2 = grad.transpose(1, 0, 2, 3).reshape(g, o // g, n * ho * wo)
        dcols = w.reshape(g, o // g, -1).transpose(0, 2, 1) @ g2  # (groups, C/g·kh·kw, N·Ho·Wo)
        taps = dcols.reshape(c, kh, kw, n, ho, wo).transpose(1, 2, 0, 3, 4, 5)
        target = np.zeros((c, n, hp, wp), dcols.dtype, like=dcols)
        return _col2im(taps, target, geom).transpose(1, 0, 2, 3)

    @staticmethod
    def grad_weight(xp, grad, geom, cols=None):
        if cols is None:
            cols = Im2col.columns(xp, geom)
        n, o, ho, wo = geom.output_shape
        _, cg, kh, kw = geom.weight_shape
        g = geom.groups
        rows = grad.transpose(0, 2, 3, 1)  # (N, Ho, Wo, O): contiguous when g is channels-last in memory
        if geom.channels_last():
            g2 = rows.reshape(n * ho * wo, o)
            return contiguous((g2.T @ cols).reshape(o, kh, kw, cg).transpose(0, 3, 1, 2))
        if g == 1 and rows.flags.c_contiguous:  # no copy of g: its transpose goes to the GEMM as it is
            return (rows.reshape(n * ho * wo, o).T @ cols[0].T).reshape(geom.weight_shape)
        g2 = grad.transpose(1, 0, 2, 3).reshape(g, o // g, n * ho * wo)
        return (g2 @ cols.transpose(0, 2, 1)).reshape(geom.weight_shape)


class FFT:
    """Convolution theorem: correlation in space is multiplication by a conjugate in frequency.

    Padded input and (dilated) kernel go through ``numpy.fft.rfft2`` at the padded
    input's size; the products are summed over input channels per frequency; the
    inverse transform's top-left block, taken every ``stride`` rows, is the output.
    The circular wrap-around never reaches that block, so no extra padding is needed.
    Cheaper than im2col for large kernels (see notes 004, "Fourier Transform Convolution").
    """

    @staticmethod
    def _dilated(w, geom):
        (dh, dw), (_, _, kh, kw) = geom.dilation, geom.weight_shape
        if dh == dw == 1:
            return w
        out = np.zeros(w.shape[:2] + (dh * (kh - 1) + 1, dw * (kw - 1) + 1), w.dtype, like=w)
        out[:, :, ::dh, ::dw] = w
        return out

    @staticmethod
    def _spectra(array, size, groups, channel_axis):
        """rfft2 at ``size``, channels split into (groups, per group), frequencies flattened."""
        f = np.fft.rfft2(array, s=size)
        shape = f.shape[:channel_axis] + (groups, -1) + f.shape[channel_axis + 1 : -2]
        return f.reshape(shape + (f.shape[-2] * f.shape[-1],))

    @staticmethod
    def _upsampled(grad, geom):
        """The output gradient placed on the stride-1 grid (zeros between strided samples)."""
        (sh, sw), (dh, dw) = geom.stride, geom.dilation
        n, o, ho, wo = geom.output_shape
        _, _, hp, wp = geom.input_shape
        _, _, kh, kw = geom.weight_shape
        if sh == sw == 1:
            return grad
        full = np.zeros((n, o, hp - dh * (kh - 1), wp - dw * (kw - 1)), grad.dtype, like=grad)
        full[:, :, ::sh, ::sw] = grad
        return full

    @staticmethod
    def _back(spectrum, geom, batch_shape):
        _, _, hp, wp = geom.input_shape
        spectrum = spectrum.reshape(batch_shape + (hp, wp // 2 + 1))
        return np.fft.irfft2(spectrum, s=(hp, wp))

    @staticmethod
    def forward(xp, w, geom, keep_columns=False):
        n, o, ho, wo = geom.output_shape
        size, g = geom.input_shape[2:], geom.groups
        fx = FFT._spectra(xp, size, g, 1)  # (N, G, C/g, F)
        fw = FFT._spectra(FFT._dilated(w, geom), size, g, 0)  # (G, O/g, C/g, F)
        fz = np.einsum("ngcf,gocf->ngof", fx, fw.conj())
        full = FFT._back(fz, geom, (n, o))
        (sh, sw) = geom.stride
        return full[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw].astype(xp.dtype), None

    @staticmethod
    def grad_input(grad, w, geom):
        n, c = geom.input_shape[:2]
        size, g = geom.input_shape[2:], geom.groups
        fg = FFT._spectra(FFT._upsampled(grad, geom), size, g, 1)  # (N, G, O/g, F)
        fw = FFT._spectra(FFT._dilated(w, geom), size, g, 0)  # (G, O/g, C/g, F)
        fx = np.einsum("ngof,gocf->ngcf", fg, fw)  # a full convolution: no conjugate
        return FFT._back(fx, geom, (n, c)).astype(grad.dtype)

    @staticmethod
    def grad_weight(xp, grad, geom, cols=None):
        size, g = geom.input_shape[2:], geom.groups
        o, cg, kh, kw = geom.weight_shape
        (dh, dw) = geom.dilation
        fx = FFT._spectra(xp, size, g, 1)
        fg = FFT._spectra(FFT._upsampled(grad, geom), size, g, 1)
        fw = np.einsum("ngcf,ngof->gocf", fx, fg.conj())
        full = FFT._back(fw, geom, (o, cg))
        return full[:, :, : dh * (kh - 1) + 1 : dh, : dw * (kw - 1) + 1 : dw].astype(xp.dtype)


class Direct:
    """The sum exactly as the notes write it, z = Σ x·w, one kernel tap (i, j) at a time.

    For teaching and checking: each tap multiplies a shifted slice of the input by
    one weight per (output, input) channel pair, and adds it in.
    """

    @staticmethod
    def _split(array, groups):
        return array.reshape(array.shape[0], groups, -1, *array.shape[2:])

    @staticmethod
    def forward(xp, w, geom, keep_columns=False):
        g = geom.groups
        n, o, ho, wo = geom.output_shape
        out = np.zeros((n, g, o // g, ho, wo), np.result_type(xp, w), like=xp)
        xg, wg = Direct._split(xp, g), w.reshape(g, o // g, *w.shape[1:])
        for i, j, rows, cols in tap_slices(geom):
            out += np.einsum("ngchw,goc->ngohw", xg[..., rows, cols], wg[..., i, j])
        return out.reshape(n, o, ho, wo), None

    @staticmethod
    def grad_input(grad, w, geom):
        g = geom.groups
        n, c, hp, wp = geom.input_shape
        o = geom.weight_shape[0]
        dxp = np.zeros((n, g, c // g, hp, wp), np.result_type(grad, w), like=grad)
        gg, wg = Direct._split(grad, g), w.reshape(g, o // g, *w.shape[1:])
        for i, j, rows, cols in tap_slices(geom):
            dxp[..., rows, cols] += np.einsum("ngohw,goc->ngchw", gg, wg[..., i, j])
        return dxp.reshape(n, c, hp, wp)

    @staticmethod
    def grad_weight(xp, grad, geom, cols=None):
        g = geom.groups
        o, cg, kh, kw = geom.weight_shape
        dw = np.zeros((g, o // g, cg, kh, kw), np.result_type(xp, grad), like=xp)
        xg, gg = Direct._split(xp, g), Direct._split(grad, g)
        for i, j, rows, cols_ in tap_slices(geom):
            dw[..., i, j] = np.einsum("ngohw,ngchw->goc", gg, xg[..., rows, cols_])
        return dw.reshape(geom.weight_shape)


ALGORITHMS = {"im2col": Im2col, "fft": FFT, "direct": Direct}
