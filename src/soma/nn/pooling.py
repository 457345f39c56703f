"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, LPPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d and
MaxUnpool1d/2d.

A pooling layer keeps one number per window of each channel: the maximum or the
mean (see notes 004, "What is a Pooling Layer?"). It has no parameters; it halves
the map with the usual 2×2 window and stride 2 (24×24×6 → 12×12×6 in LeNet).
"""

from soma._validation import ntuple as _tuple
from soma.nn.common_types import _size_any_t
from soma.nn.functional.adaptive_pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
)
from soma.nn.functional.pooling import (
    avg_pool1d,
    avg_pool2d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from soma.nn.module import Module
from soma.tensor import Tensor

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "LPPool1d", "LPPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "MaxUnpool1d", "MaxUnpool2d"]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size: _size_any_t, stride: _size_any_t | None = None, padding: _size_any_t = 0,
                 dilation: _size_any_t = 1, return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """y[n,c,i,j] = max of the kH×kW window of channel c at (i·s − p, j·s − p).

    Args:
        kernel_size: int or pair; stride: defaults to kernel_size; padding (−∞), dilation: int or pair.
        return_indices: also return the flat H·W index of each maximum (for MaxUnpool).
        ceil_mode: round the output size up.

    Shape: (N, C, H, W) → (N, C, H_out, W_out), H_out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.

    Example (notes 004: 24×24×6 → 12×12×6)::

        >>> nn.MaxPool2d(2)(soma.randn(1, 6, 24, 24)).shape
        (1, 6, 12, 12)
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """Max over windows of (N, C, L); see :class:`MaxPool2d`.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, L_out)`` or ``(C, L_out)``, L_out = ⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1 (⌈⌉ with ``ceil_mode``).
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class _AvgPoolNd(Module):
    def __init__(self, kernel_size: _size_any_t, stride: _size_any_t | None = None, padding: _size_any_t = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """y = (1/count) Σ window: count = kH·kW, or the non-padding elements with ``count_include_pad=False``.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``,
          H_out = ⌊(H + 2p − kH)/s⌋ + 1 (⌈⌉ with ``ceil_mode``).

    Example::

        >>> nn.AvgPool2d(2)(soma.ones(1, 1, 4, 4)).shape
        (1, 1, 2, 2)
    """

    def __init__(self, kernel_size: _size_any_t, stride: _size_any_t | None = None, padding: _size_any_t = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of (N, C, L); see :class:`AvgPool2d`.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, L_out)`` or ``(C, L_out)``, L_out = ⌊(L + 2p − (k − 1) − 1)/s⌋ + 1 (⌈⌉ with ``ceil_mode``).
    """

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (bins [⌊iH/out⌋, ⌈(i+1)H/out⌉)), e.g. 1 for global pooling.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``, (H_out, W_out) = output_size.

    Example::

        >>> nn.AdaptiveAvgPool2d(1)(soma.randn(2, 64, 7, 7)).shape
        (2, 64, 1, 1)
    """

    def __init__(self, output_size: _size_any_t) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, L) to a fixed length.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, output_size)`` or ``(C, output_size)``.
    """

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size (bins [⌊iH/out⌋, ⌈(i+1)H/out⌉)); ``None`` keeps an axis.

    Args:
        output_size: int or pair; return_indices: also return the flat H·W index of each maximum.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``, (H_out, W_out) = output_size.
    """

    def __init__(self, output_size: _size_any_t, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max pooling of (N, C, L) to a fixed length.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, output_size)`` or ``(C, output_size)``.
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class LPPool2d(Module):
    """Power-average pooling: y = (Σ_window x^p)^(1/p); p = 1 is sum pooling, p = ∞ max pooling of |x|.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``, H_out = ⌊(H − kH)/s⌋ + 1 (⌈⌉ with ``ceil_mode``).
    """

    def __init__(self, norm_type: float, kernel_size: _size_any_t, stride: _size_any_t | None = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        pool = lp_pool2d if type(self) is LPPool2d else lp_pool1d
        return pool(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(LPPool2d):
    """Power-average pooling over (N, C, L); see :class:`LPPool2d`.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, L_out)``, L_out = ⌊(L − k)/s⌋ + 1 (⌈⌉ with ``ceil_mode``).
    """


class MaxUnpool2d(Module):
    """The partial inverse of MaxPool2d: each value goes back to the position its ``indices`` name, zeros
    elsewhere.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``, and indices of the same shape (from ``return_indices``).
        - Output: ``(N, C, H_out, W_out)``, H_out = (H − 1)·s + k − 2p, or ``output_size`` in forward.
    """

    spatial = 2

    def __init__(self, kernel_size: _size_any_t, stride: _size_any_t | None = None, padding: _size_any_t = 0) -> None:
        super().__init__()
        name, n = type(self).__name__, self.spatial
        self.kernel_size = _tuple(kernel_size, n, name, "kernel_size")
        self.stride = _tuple(kernel_size if stride is None else stride, n, name, "stride")
        self.padding = _tuple(padding, n, name, "padding")

    def forward(self, input: Tensor, indices: Tensor, output_size: _size_any_t | None = None) -> Tensor:
        unpool = max_unpool2d if self.spatial == 2 else max_unpool1d
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(MaxUnpool2d):
    """The partial inverse of MaxPool1d; see :class:`MaxUnpool2d`.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``, and indices of the same shape.
        - Output: ``(N, C, L_out)``, L_out = (L − 1)·s + k − 2p, or ``output_size`` in forward.
    """

    spatial = 1
