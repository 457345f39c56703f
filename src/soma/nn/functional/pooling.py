"""Window pooling: F.max_pool1d/2d, F.avg_pool1d/2d, F.lp_pool1d/2d and F.max_unpool1d/2d.

A pooling layer slides a window over each channel and keeps one number per window
(see notes 004, "What is a Pooling Layer?"): the largest (max pooling) or the mean
(average pooling). It has no weights; it shrinks the map and makes the features
a little shift-invariant. The output size follows the convolution's rule,
⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1 (⌈·⌉ with ``ceil_mode``), with stride = kernel by default.

All windows are read as strided slices, one kernel tap (i, j) at a time: a short
loop over the kh·kw taps, each step vectorized over batch, channels and positions.
"""

import numpy as np

from soma import backend
from soma._errors import check_floating
from soma.autograd.function import Function
from soma.nn.functional.conv import _tuple
from soma.tensor import Tensor

__all__ = [
    "MaxPool",
    "AvgPool",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "lp_pool1d",
    "lp_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "pool_output_size",
]


def pool_output_size(size, kernel_size, stride, padding=0, dilation=1, ceil_mode=False):
    """Windows along one axis; with ``ceil_mode`` a last partial window counts if it starts inside the input."""
    span = size + 2 * padding - dilation * (kernel_size - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class _Window:
    """The geometry of one pooling call, on 2-D maps (1-D pooling uses height 1)."""

    __slots__ = ("kernel", "stride", "padding", "dilation", "in_size", "out_size", "padded")

    def __init__(self, in_size, kernel, stride, padding, dilation, ceil_mode):
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.in_size = in_size
        self.out_size = tuple(
            pool_output_size(n, k, s, p, d, ceil_mode)
            for n, k, s, p, d in zip(in_size, kernel, stride, padding, dilation)
        )
        self.padded = tuple(
            max((o - 1) * s + d * (k - 1) + 1, n + p)
            for o, s, d, k, n, p in zip(self.out_size, stride, dilation, kernel, in_size, padding)
        )

    def pad(self, x, value):
        """x placed in a buffer of the padded size filled with ``value`` (x itself when none is needed)."""
        if self.padded == self.in_size:
            return x
        (ph, pw), (h, w) = self.padding, self.in_size
        out = np.full(x.shape[:2] + self.padded, value, x.dtype, like=x)
        out[:, :, ph : ph + h, pw : pw + w] = x
        return out

    def crop(self, xp):
        (ph, pw), (h, w) = self.padding, self.in_size
        return xp[:, :, ph : ph + h, pw : pw + w]

    def pairs(self):
        """Whether the windows are disjoint 2×2 (or 1×2) tiles: stride = kernel, no dilation."""
        return self.kernel in ((2, 2), (1, 2)) and self.stride == self.kernel and self.dilation == (1, 1)

    def taps(self):
        """(tap number, rows, cols): the strided slice of the padded input that each tap reads."""
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = self.kernel, self.stride, self.dilation, self.out_size
        return [
            (i * kw + j, slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))
            for i in range(kh)
            for j in range(kw)
        ]


class MaxPool(Function):
    """y = max over the window; the gradient goes to the (first) element that was the max.

    The forward is a running ``np.maximum`` over the taps (NaN propagates, as in
    PyTorch). The backward finds each window's first winning tap again by equality
    instead of storing an argmax: measured on (64, 6, 24, 24) float32 with a 2×2
    window, a running maximum takes 0.12 ms where tracking the argmax in the forward
    (``copyto(where=)`` per tap) took 2.6 ms.
    """

    @staticmethod
    def forward(ctx, x, window, return_indices):
        xp = window.pad(x, -np.inf)
        taps = [xp[:, :, rows, cols] for _, rows, cols in window.taps()]
        pair_wins = ()
        if window.pairs() and ctx.needs_input_grad[0]:
            best, pair_wins = _pairwise_max(taps)
        else:
            best = taps[0].copy()
            for tap in taps[1:]:
                np.maximum(best, tap, out=best)
        ctx.save_for_backward(xp, best, *pair_wins)
        ctx.window = window
        if not return_indices:
            return best
        return best, _flat_indices(_winners(xp, best, window), window)

    @staticmethod
    def backward(ctx, grad, *unused):
        xp, best, *pair_wins = ctx.saved_tensors
        window = ctx.window
        grad = backend.in_layout_of(grad, best)  # e.g. NCHW from a Flatten, where the maps are channels-last
        nan = bool(np.isnan(best).any())
        finite = bool(np.isfinite(grad).all())
        if pair_wins and finite and not nan:
            return window.crop(_pairwise_grad(grad, xp, pair_wins, window)), None, None
        dxp = np.zeros_like(xp, dtype=grad.dtype)  # same memory layout as the input (often NHWC)
        disjoint = all(s >= d * (k - 1) + 1 for s, d, k in zip(window.stride, window.dilation, window.kernel))
        remaining = None
        taps = window.taps()
        nan_winners = _winners(xp, best, window) if nan else None  # NaN windows: PyTorch's tap
        for number, rows, cols in taps:  # ∂max/∂x = 1 at the first winning element, 0 elsewhere
            hit = xp[:, :, rows, cols] == best if nan_winners is None else nan_winners == number
            if remaining is not None:
                hit &= remaining
            if number < len(taps) - 1:
                remaining = ~hit if remaining is None else remaining & ~hit
            target = dxp[:, :, rows, cols]
            if finite:  # the fast form: multiplying by the 0/1 mask (6x faster than a masked copy)
                if disjoint:  # every input element is in one window at one tap: write, don't add
                    np.multiply(grad, hit, out=target)
                else:
                    target += grad * hit
            elif disjoint:  # NaN or Inf upstream: only the winners get it (NaN·0 would spread it)
                np.copyto(target, grad, where=hit)
            else:
                np.add(target, grad, out=target, where=hit)
        return window.crop(dxp), None, None


def _pairwise_max(taps):
    """The max of 2 or 4 disjoint taps as a tree of pairwise maxima, and who won each pair.

    For a 2×2 window (taps a, b / c, d in row order): ``b > a``, ``d > c`` and ``max(c, d) >
    max(a, b)``; a strict ``>`` keeps the first of equal values, PyTorch's tie rule. The
    booleans cost three compares in the forward and make the backward six products and
    differences instead of a search by equality over every tap (LeNet's pooling backward:
    2.4 → 0.6 ms per step). A NaN window goes through the general backward.
    """
    if len(taps) == 2:
        a, b = taps
        return np.maximum(a, b), (np.greater(b, a),)
    a, b, c, d = taps
    first, second = np.maximum(a, b), np.maximum(c, d)
    pair_wins = (np.greater(b, a), np.greater(d, c), np.greater(second, first))
    return np.maximum(first, second, out=first), pair_wins


def _pairwise_grad(grad, xp, pair_wins, window):
    """∂L/∂xp for :func:`_pairwise_max`: each pair splits g as g·w and g − g·w (exact for finite g)."""
    covered = tuple(o * k for o, k in zip(window.out_size, window.kernel)) == window.padded
    dxp = (np.empty_like if covered else np.zeros_like)(xp, dtype=grad.dtype)
    targets = [dxp[:, :, rows, cols] for _, rows, cols in window.taps()]
    if len(targets) == 2:
        halves = [(grad, pair_wins[0], *targets)]
    else:
        w01, w23, lower = pair_wins
        bottom = grad * lower  # the share of the lower pair (c, d): g·[max(c, d) > max(a, b)]
        halves = [(grad - bottom, w01, *targets[:2]), (bottom, w23, *targets[2:])]
    for g, later, first, second in halves:
        np.multiply(g, later, out=second)
        np.subtract(g, second, out=first)
    return dxp


def _winners(xp, best, window):
    """The number (i·kw + j) of the first tap of each window that holds its maximum.

    A window holding NaN has the maximum NaN, and its winner is its *last* NaN tap: PyTorch's scan
    replaces the running maximum whenever ``v > max or isnan(v)``.
    """
    index = np.zeros(best.shape, np.int64, like=best)
    found = np.zeros(best.shape, bool, like=best)
    for number, rows, cols in window.taps():
        tap = xp[:, :, rows, cols]
        hit = (tap == best) & ~found
        index[hit] = number
        found |= hit
        index[np.isnan(tap)] = number
    return index


def _flat_indices(index, window):
    """PyTorch's return_indices: the position of each max in the flattened (H·W) input plane."""
    (_, kw), (sh, sw), (ph, pw), (dh, dw) = window.kernel, window.stride, window.padding, window.dilation
    ho, wo = window.out_size
    rows = np.arange(ho, like=index)[:, None] * sh - ph + (index // kw) * dh
    cols = np.arange(wo, like=index)[None, :] * sw - pw + (index % kw) * dw
    return (rows * window.in_size[1] + cols).astype(np.int64)


class AvgPool(Function):
    """y = (1/count) Σ window; the gradient spreads g/count back over the window.

    int64 inputs average into int64, the quotient truncated toward zero, as PyTorch's kernel does.
    """

    @staticmethod
    def forward(ctx, x, window, divisor):
        xp = window.pad(x, 0)
        (_, rows, cols), *rest = window.taps()
        out = xp[:, :, rows, cols].copy()
        for _, rows, cols in rest:
            out += xp[:, :, rows, cols]
        ctx.window, ctx.divisor = window, divisor
        if out.dtype.kind == "f":
            return out / divisor
        quotient = out // divisor  # floor; one up where a negative quotient had a remainder
        return quotient + ((quotient < 0) & (quotient * divisor != out))

    @staticmethod
    def backward(ctx, grad):
        window = ctx.window
        share = grad / ctx.divisor
        dxp = np.zeros(grad.shape[:2] + window.padded, grad.dtype, like=grad)
        for _, rows, cols in window.taps():  # ∂mean/∂x = 1/count for every element of the window
            dxp[:, :, rows, cols] += share
        return window.crop(dxp), None, None


def _avg_divisor(window, count_include_pad, divisor_override, dtype):
    """Per-output window sizes as PyTorch counts them (padding included or not, never the ceil overhang)."""
    if divisor_override:
        return np.dtype(dtype).type(divisor_override)
    counts = []
    for n, k, s, p, o in zip(window.in_size, window.kernel, window.stride, window.padding, window.out_size):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    return np.outer(counts[0], counts[1]).astype(dtype)


def _check_average_dtype(name, input):
    """PyTorch averages floats and int64 (into int64); other integer and bool dtypes are not implemented."""
    if input.dtype != np.int64:
        check_floating(name, input)


def _window(name, x, spatial, kernel_size, stride, padding, dilation, ceil_mode):
    if x.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"{name}: expected a {spatial + 1}-D or {spatial + 2}-D input, got input of shape {tuple(x.shape)}"
        )
    kernel = _tuple(kernel_size, spatial, name, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _tuple(stride, spatial, name, "stride")
    padding = _tuple(padding, spatial, name, "padding")
    dilation = _tuple(dilation, spatial, name, "dilation")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{name}: padding {padding} should be at most half of the kernel size {kernel}")
    if min(kernel + stride + dilation) < 1:
        raise ValueError(f"{name}: kernel_size, stride and dilation must be positive")
    size = tuple(x.shape[-spatial:])
    if spatial == 1:
        kernel, stride, padding, dilation, size = (1, *kernel), (1, *stride), (0, *padding), (1, *dilation), (1, *size)
    window = _Window(size, kernel, stride, padding, dilation, ceil_mode)
    if min(window.out_size) < 1:
        raise RuntimeError(
            f"{name}: input of shape {tuple(x.shape)} is too small for kernel_size={kernel_size} "
            f"(output size {window.out_size[-spatial:]})"
        )
    return window


def _pool(function, name, spatial, input, window_args, *extra):
    """Run a pooling Function on (N, C, H, W), reshaping 1-D and unbatched inputs around it."""
    window = _window(name, input, spatial, *window_args)
    shape = tuple(input.shape)
    batched = input.ndim == spatial + 2
    four_d = (shape if batched else (1, *shape))[:2] + window.in_size
    x = input if four_d == shape else input.reshape(four_d)  # no graph node for a no-op reshape
    out = function.apply(x, window, *extra)
    outputs = out if isinstance(out, tuple) else (out,)
    lead = shape[:2] if batched else shape[:1]
    out_shape = lead + window.out_size[-spatial:]
    outputs = [o if o.shape == out_shape else o.reshape(out_shape) for o in outputs]
    if len(outputs) == 2:
        outputs[1] = Tensor._make(outputs[1]._array, False)
        return tuple(outputs)
    return outputs[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling: y[n,c,y,x] = max over the kernel window (padding counts as −∞).

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size, stride (default: kernel_size), padding, dilation: int or pair.
        ceil_mode: round the output size up instead of down.
        return_indices: also return, for each output, the flat H·W position of the max.

    Example (notes 004: a 3×3 window, stride 1, on a 5×5 map)::

        >>> F.max_pool2d(soma.tensor([[[[3., 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3],
        ...                             [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]]]), 3, stride=1)
        tensor([[[[3., 3., 3.], [3., 3., 3.], [3., 2., 3.]]]])
    """
    args = (kernel_size, stride, padding, dilation, ceil_mode)
    return _pool(MaxPool, "max_pool2d", 2, input, args, bool(return_indices))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L); see :func:`max_pool2d`."""
    check_floating("max_pool1d", input)  # PyTorch has max_pool2d for integers, not max_pool1d
    args = (kernel_size, stride, padding, dilation, ceil_mode)
    return _pool(MaxPool, "max_pool1d", 1, input, args, bool(return_indices))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling: y = (1/count) Σ window.

    ``count`` is kh·kw, or only the non-padding elements when ``count_include_pad=False``,
    or ``divisor_override``.
    """
    _check_average_dtype("avg_pool2d", input)
    window = _window("avg_pool2d", input, 2, kernel_size, stride, padding, 1, ceil_mode)
    divisor = backend.of(input._array).transfer(_avg_divisor(window, count_include_pad, divisor_override, input.dtype))
    return _pool(AvgPool, "avg_pool2d", 2, input, (kernel_size, stride, padding, 1, ceil_mode), divisor)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L); see :func:`avg_pool2d`."""
    _check_average_dtype("avg_pool1d", input)
    window = _window("avg_pool1d", input, 1, kernel_size, stride, padding, 1, ceil_mode)
    divisor = backend.of(input._array).transfer(_avg_divisor(window, count_include_pad, None, input.dtype))
    return _pool(AvgPool, "avg_pool1d", 1, input, (kernel_size, stride, padding, 1, ceil_mode), divisor)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """:func:`max_pool2d` that always returns (values, indices)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """:func:`max_pool1d` that always returns (values, indices)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ------------------------------------------------------------------ power-average pooling
def _lp_pool(name, pool, input, norm_type, kernel_size, stride, ceil_mode, spatial):
    """(Σ_window x^p)^(1/p): p = ∞ is the max of |x|, p = -∞ minus the max of -|x|, as PyTorch composes it."""
    if norm_type == float("inf"):
        return pool[0](input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -pool[0](-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    count = int(np.prod(_tuple(kernel_size, spatial, name, "kernel_size")))
    mean = pool[1](input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (mean.sign() * mean.abs().relu()).mul(count).pow(1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling: y = (Σ_window x^p)^(1/p) (p = 1: sum pooling; p = ∞: max of |x|).

    Composed as PyTorch does it, from avg_pool2d of x^p times the window size, so its gradient is zero
    where a window's sum is zero.
    """
    return _lp_pool("lp_pool2d", (max_pool2d, avg_pool2d), input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling over (N, C, L) or (C, L); see :func:`lp_pool2d`."""
    return _lp_pool("lp_pool1d", (max_pool1d, avg_pool1d), input, norm_type, kernel_size, stride, ceil_mode, 1)


# ------------------------------------------------------------------ unpooling
def _unpool_size(name, input, kernel, stride, padding, output_size):
    """PyTorch's unpooled size (in − 1)·s + k − 2p per axis, or ``output_size`` if within a stride of it."""
    spatial = len(kernel)
    default = [(n - 1) * s + k - 2 * p for n, s, k, p in zip(input.shape[-spatial:], stride, kernel, padding)]
    if output_size is None:
        return tuple(default)
    size = output_size[-spatial:] if len(output_size) == spatial + 2 else output_size
    if len(size) != spatial:
        raise ValueError(f"output_size should be a sequence containing {spatial} or {spatial + 2} elements, but it "
                         f"has a length of '{len(output_size)}'")
    for d, (want, base, s) in enumerate(zip(size, default, stride)):
        if not base - s < want < base + s:
            raise ValueError(f'invalid output_size "{size}" (dim {d} must be between {base - s} and '
                             f"{base + s})")
    return tuple(int(n) for n in size)


def _max_unpool(name, input, indices, kernel_size, stride, padding, output_size, spatial):
    """Scatter each value to its position in a zero map: the partial inverse of max pooling."""
    check_floating(name, input)
    if input.ndim not in (spatial + 1, spatial + 2) or tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{name}: expected a {spatial + 1}-D or {spatial + 2}-D input and indices of the same "
                           f"shape, got input {tuple(input.shape)} and indices {tuple(indices.shape)}")
    if indices.dtype != np.int64:
        raise RuntimeError(f"{name}: expected indices to have dtype int64, got {indices.dtype}")
    kernel = _tuple(kernel_size, spatial, name, "kernel_size")
    stride = kernel if stride is None else _tuple(stride, spatial, name, "stride")
    size = _unpool_size(name, input, kernel, stride, _tuple(padding, spatial, name, "padding"), output_size)
    lead = tuple(input.shape[:-spatial])
    plane = int(np.prod(size))
    flat = indices.reshape(*lead, -1)
    outside = ((flat._array < 0) | (flat._array >= plane)).ravel()
    if outside.any():
        bad = int(flat._array.ravel()[outside.argmax()])
        volume = "x".join(map(str, size + (1,) * (spatial == 1)))  # PyTorch unpools 1-D as (L, 1) planes
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size {volume})")
    out = input.new_zeros(*lead, plane).scatter(-1, flat, input.reshape(*lead, -1))
    return out.reshape(*lead, *size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of :func:`max_pool2d`: each value goes back to its flat H·W position ``indices``
    (from ``return_indices=True``), every other output is 0.

    Shape: (N, C, H, W) or (C, H, W) → (N, C, H_out, W_out), H_out = (H − 1)·s + k − 2p (or ``output_size``).
    """
    return _max_unpool("max_unpool2d", input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of :func:`max_pool1d` over (N, C, L) or (C, L); see :func:`max_unpool2d`."""
    return _max_unpool("max_unpool1d", input, indices, kernel_size, stride, padding, output_size, 1)
