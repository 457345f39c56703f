"""Unfold and Fold: im2col and col2im as layers (the convolution's window matrix made visible).

``nn.Unfold(k)(x)`` is the matrix whose columns are the receptive fields of a k×k
convolution (notes 004); a convolution is then one matrix product:

    >>> cols = nn.Unfold(3)(x)                                  # (N, C·9, L)
    >>> y = (conv.weight.view(O, -1) @ cols).view(N, O, H - 2, W - 2)
"""

from soma.nn.common_types import _size_any_t
from soma.nn.functional.patches import fold, unfold
from soma.nn.module import Module
from soma.tensor import Tensor

__all__ = ["Unfold", "Fold"]


class _Blocks(Module):
    def __init__(self, kernel_size: _size_any_t, dilation: _size_any_t = 1, padding: _size_any_t = 0,
                 stride: _size_any_t = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Unfold(_Blocks):
    """Extract sliding local blocks (im2col): out[n, (c, i, j), l] = x_pad[n, c, s·lₕ + d·i, s·l_w + d·j].

    Args:
        kernel_size: the block size (int or pair).
        dilation, padding, stride: as for ``Conv2d`` (int or pair).

    Shape: (N, C, H, W) → (N, C·kh·kw, L), or (C, H, W) → (C·kh·kw, L), with
    L = ∏ₐ ⌊(sizeₐ + 2pₐ − dₐ(kₐ − 1) − 1)/sₐ⌋ + 1 blocks.

    Example::

        >>> nn.Unfold(kernel_size=(2, 3))(soma.randn(2, 5, 3, 4)).shape
        (2, 30, 4)
    """

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)


class Fold(_Blocks):
    """Combine sliding local blocks into images (col2im), adding where blocks overlap: the adjoint of Unfold.

    Args:
        output_size: the images' (H, W).
        kernel_size, dilation, padding, stride: as for :class:`Unfold`.

    Shape: (N, C·kh·kw, L) → (N, C, H, W), or (C·kh·kw, L) → (C, H, W).

    Example::

        >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(soma.randn(1, 3 * 2 * 2, 12)).shape
        (1, 3, 4, 5)
    """

    def __init__(self, output_size: _size_any_t, kernel_size: _size_any_t, dilation: _size_any_t = 1,
                 padding: _size_any_t = 0, stride: _size_any_t = 1) -> None:
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"output_size={self.output_size}, " + super().extra_repr()
