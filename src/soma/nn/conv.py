"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, SeparableConv2d, DepthwiseSeparableConv2d.

A convolution layer is a bank of small filters slid over the input; every output
value is the weighted sum of one window plus a bias (see notes 004, "Convolution"):

    z[n,o,y,x] = b[o] + Σ_c Σ_i Σ_j w[o,c,i,j] · x[n,c, y·s + i·d − p, x·s + j·d − p]

The same few weights are reused at every position (weight sharing), which is why a
5×5 filter needs 25 weights however large the image is (notes 000).
"""



from collections.abc import Sequence

from soma._errors import DTypeError
from soma._validation import conv_transpose_output_size, ntuple
from soma.nn import init
from soma.nn.common_types import DeviceLike, DTypeLike, _size_any_t
from soma.nn.functional.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, same_padding
from soma.nn.module import Module, empty_parameter
from soma.ops.shape import pad
from soma.tensor import Tensor

__all__ = [
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "SeparableConv2d",
    "DepthwiseSeparableConv2d",
]

_PADDING_MODES = {"zeros": None, "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


class _ConvNd(Module):
    """What Conv1d/Conv2d/ConvTranspose share: hyper-parameters, parameters and their initialization."""

    _spatial = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, output_padding=0, algorithm="auto", dtype=None, device=None):
        super().__init__()
        n, name = self._spatial, type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                f"divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {list(_PADDING_MODES)}, got {padding_mode!r}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be 'same', 'valid', an int or a tuple, got {padding!r}")
            if padding == "same" and any(s != 1 for s in ntuple(stride, n, name, "stride")):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ntuple(kernel_size, n, name, "kernel_size")
        self.stride = ntuple(stride, n, name, "stride")
        self.padding = padding if isinstance(padding, str) else ntuple(padding, n, name, "padding")
        self.dilation = ntuple(dilation, n, name, "dilation")
        self.output_padding = ntuple(output_padding, n, name, "output_padding")
        self.groups, self.padding_mode, self.algorithm = groups, padding_mode, algorithm
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = empty_parameter(shape, dtype, name, device)
        self.register_parameter("bias", empty_parameter(out_channels, dtype, name, device) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """w, b ~ U(−1/√fan_in, 1/√fan_in), fan_in = (channels per group)·kernel area (PyTorch's default)."""
        init.fan_in_uniform_(self.weight, self.bias)

    def _check_input(self, input):
        n = self._spatial
        shape = tuple(input.shape)
        if input.ndim not in (n + 1, n + 2) or shape[input.ndim - n - 1] != self.in_channels:
            axes = "L" if n == 1 else "H, W"
            padded = self.padding_mode != "zeros" and input.ndim not in (n + 1, n + 2)
            raise (NotImplementedError if padded else RuntimeError)(  # PyTorch's F.pad refuses that dimension first
                f"{type(self).__name__}(in_channels={self.in_channels}) got input of shape {shape}: "
                f"expected (N, {self.in_channels}, {axes}) or unbatched ({self.in_channels}, {axes})"
            )
        if input.dtype != self.weight.dtype:
            raise DTypeError(
                f"{type(self).__name__} has {self.weight.dtype} parameters but got input of dtype "
                f"{input.dtype}; convert one with .to(dtype)"
            )

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._spatial:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._spatial:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._spatial:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: _size_any_t, stride: _size_any_t = 1,
                 padding: _size_any_t | str = 0, dilation: _size_any_t = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: DeviceLike | None = None, dtype: DTypeLike | None = None,
                 algorithm: str = "auto") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, algorithm=algorithm, dtype=dtype, device=device)

    def _explicit_padding(self):
        """F.pad widths (last axis first) for reflect/replicate/circular padding."""
        if self.padding == "valid":
            return None
        if self.padding == "same":
            pairs = [same_padding(k, d) for k, d in zip(self.kernel_size, self.dilation)]
        else:
            pairs = [(p, p) for p in self.padding]
        return [w for pair in reversed(pairs) for w in pair]

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        convolve = conv2d if self._spatial == 2 else conv1d
        if self.padding_mode != "zeros":
            widths = self._explicit_padding()
            if widths is not None and any(widths):
                input = pad(input, widths, mode=_PADDING_MODES[self.padding_mode])
            return convolve(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups, self.algorithm)
        return convolve(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                        self.algorithm)


class Conv2d(_Conv):
    """2-D convolution layer: ``out_channels`` filters of shape (in_channels/groups, kH, kW).

    z[n,o,y,x] = b[o] + Σ_{c,i,j} w[o,c,i,j] · x[n,c, y·s + i·d − p, x·s + j·d − p]

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size: int or (kH, kW).
        stride: int or pair (default 1).
        padding: int, pair, ``'valid'`` or ``'same'`` (default 0).
        dilation: spacing between kernel taps (default 1).
        groups: ``groups = in_channels`` makes a depthwise convolution (default 1).
        bias: learn a bias per output channel (default True).
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        algorithm: soma's choice of ``'auto'``, ``'im2col'``, ``'fft'`` or ``'direct'``
            (same numbers; see :func:`soma.nn.functional.conv2d`).

    Shape:
        input (N, C_in, H, W) → output (N, C_out, H_out, W_out) with
        H_out = ⌊(H + 2p − d·(kH − 1) − 1)/s⌋ + 1 (notes 002: 32, k=6, s=2, p=1 → 15).

    Attributes:
        weight: (C_out, C_in/groups, kH, kW), U(−1/√fan_in, 1/√fan_in), fan_in = C_in/groups·kH·kW.
        bias: (C_out,), same distribution.

    Example (notes 004's LeNet: 28×28×1 → 24×24×6)::

        >>> nn.Conv2d(1, 6, 5)(soma.randn(1, 1, 28, 28)).shape
        (1, 6, 24, 24)
    """


class Conv1d(_Conv):
    """1-D convolution layer over (N, C_in, L): z[n,o,t] = b[o] + Σ_{c,j} w[o,c,j] · x[n,c, t·s + j·d − p].

    Arguments, initialization and padding modes as :class:`Conv2d`; weight (C_out, C_in/groups, k).

    Shape:
        - Input: ``(N, C_in, L)`` or ``(C_in, L)``.
        - Output: ``(N, C_out, L_out)`` or ``(C_out, L_out)``, L_out = ⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1.

    Example::

        >>> nn.Conv1d(4, 8, 3, padding=1)(soma.randn(2, 4, 50)).shape
        (2, 8, 50)
    """

    _spatial = 1


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: _size_any_t, stride: _size_any_t = 1,
                 padding: _size_any_t | str = 0, output_padding: _size_any_t = 0, groups: int = 1, bias: bool = True,
                 dilation: _size_any_t = 1, padding_mode: str = "zeros", device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None, algorithm: str = "auto") -> None:
        if padding_mode != "zeros":
            raise ValueError(f'{type(self).__name__}: only "zeros" padding_mode is supported')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, algorithm, dtype, device)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        n = self._spatial
        output_size = tuple(output_size)[-n:]
        extra = []
        for axis in range(n):
            smallest = conv_transpose_output_size(input.shape[input.ndim - n + axis], self.kernel_size[axis],
                                                  self.stride[axis], self.padding[axis], self.dilation[axis])
            if not smallest <= output_size[axis] < smallest + max(self.stride[axis], self.dilation[axis]):
                raise ValueError(
                    f"{type(self).__name__}: requested output_size {output_size} is not reachable from "
                    f"input of shape {tuple(input.shape)} (sizes from {smallest} allowed)"
                )
            extra.append(output_size[axis] - smallest)
        return tuple(extra)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        self._check_input(input)
        convolve = conv_transpose2d if self._spatial == 2 else conv_transpose1d
        return convolve(input, self.weight, self.bias, self.stride, self.padding,
                        self._output_padding(input, output_size), self.groups, self.dilation, self.algorithm)


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution: every input value spreads a weighted copy of the kernel into the output.

    It is the gradient of a Conv2d with respect to its input, used as an upsampling
    layer (decoders, autoencoders): H_out = (H − 1)·s − 2p + d·(kH − 1) + output_padding + 1.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, groups, bias, dilation: as Conv2d.
        output_padding: extra rows/columns added on one side to pick among the input sizes
            a strided Conv2d maps to the same output size.

    Attributes:
        weight: (C_in, C_out/groups, kH, kW) (note the order), U(−1/√fan_in, 1/√fan_in) with
            fan_in = C_out/groups·kH·kW, as PyTorch computes it.
        bias: (C_out,).

    Shape:
        - Input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        - Output: ``(N, C_out, H_out, W_out)`` or ``(C_out, H_out, W_out)``,
          H_out = (H − 1)·s − 2p + d·(kH − 1) + output_padding + 1 (W_out alike).

    Example::

        >>> nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)(soma.randn(1, 16, 7, 7)).shape
        (1, 8, 14, 14)
    """


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution over (N, C_in, L); see :class:`ConvTranspose2d`.

    Shape:
        - Input: ``(N, C_in, L)`` or ``(C_in, L)``.
        - Output: ``(N, C_out, L_out)`` or ``(C_out, L_out)``,
          L_out = (L − 1)·s − 2p + d·(k − 1) + output_padding + 1.
    """

    _spatial = 1


class SeparableConv2d(Module):
    """Spatially separable convolution: a k×1 filter, then a 1×k filter (notes 004).

    A k×k kernel that is an outer product v·hᵀ can be applied as two thin passes,
    costing k + k multiplications per pixel instead of k·k (3 + 3 = 6 instead of 9).

    Args:
        in_channels, out_channels: channels in and out (the k×1 pass maps in → out,
            the 1×k pass out → out).
        kernel_size: k; stride, padding, dilation: ints applied to both passes on their own axis.
        bias: one bias per output channel, added after the second pass.

    Attributes:
        vertical: Conv2d(in_channels, out_channels, (k, 1), bias=False).
        horizontal: Conv2d(out_channels, out_channels, (1, k)).

    Shape:
        - Input: ``(N, C_in, H, W)``.
        - Output: ``(N, C_out, H_out, W_out)``, H_out and W_out as for :class:`Conv2d`.

    Example::

        >>> nn.SeparableConv2d(3, 8, 3, padding=1)(soma.randn(2, 3, 16, 16)).shape
        (2, 8, 16, 16)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int | str = 0, dilation: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        k, s, d = int(kernel_size), int(stride), int(dilation)
        p = padding if isinstance(padding, str) else int(padding)
        vertical_padding = p if isinstance(p, str) else (p, 0)
        horizontal_padding = p if isinstance(p, str) else (0, p)
        self.vertical = Conv2d(in_channels, out_channels, (k, 1), (s, 1), vertical_padding, (d, 1), bias=False,
                               padding_mode=padding_mode, dtype=dtype)
        self.horizontal = Conv2d(out_channels, out_channels, (1, k), (1, s), horizontal_padding, (1, d), bias=bias,
                                 padding_mode=padding_mode, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return self.horizontal(self.vertical(input))


class DepthwiseSeparableConv2d(Module):
    """Depthwise-separable convolution: one k×k filter per input channel, then a 1×1 mix (notes 004).

    The depthwise pass (``groups = in_channels``) filters each channel on its own;
    the pointwise pass (1×1 convolution) combines channels. Per output location that
    is C_in·k² + C_in·C_out multiplications instead of C_in·k²·C_out (27 + 192 = 219
    instead of 1,728 for 3 → 64 channels and 3×3 kernels; see :func:`soma.nn.utils.conv_cost`).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, padding_mode: as Conv2d
            (they apply to the depthwise pass).
        depth_multiplier: filters per input channel in the depthwise pass (default 1).
        bias: one bias per output channel, in the pointwise pass.

    Attributes:
        depthwise: Conv2d(in, in·depth_multiplier, k, groups=in, bias=False).
        pointwise: Conv2d(in·depth_multiplier, out, 1).

    Shape:
        - Input: ``(N, C_in, H, W)``.
        - Output: ``(N, C_out, H_out, W_out)``, H_out and W_out as for :class:`Conv2d`.

    Example::

        >>> nn.DepthwiseSeparableConv2d(3, 64, 3, padding=1)(soma.randn(1, 3, 32, 32)).shape
        (1, 64, 32, 32)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: _size_any_t, stride: _size_any_t = 1,
                 padding: _size_any_t | str = 0, dilation: _size_any_t = 1, bias: bool = True,
                 depth_multiplier: int = 1, padding_mode: str = "zeros", dtype: DTypeLike | None = None) -> None:
        super().__init__()
        middle = in_channels * depth_multiplier
        self.depthwise = Conv2d(in_channels, middle, kernel_size, stride, padding, dilation, groups=in_channels,
                                bias=False, padding_mode=padding_mode, dtype=dtype)
        self.pointwise = Conv2d(middle, out_channels, 1, bias=bias, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(input))
