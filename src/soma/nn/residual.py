"""ResidualBlock: y = ReLU(F(x) + x), the skip connection of ResNet.

Notes 003 (Q19, "vanishing gradients") list ResNet as a cure: "after some layers,
add x again: F(x) → … → F(x) + x". The reason is the chain rule: backpropagating
through y = F(x) + x gives ∂L/∂x = ∂L/∂y · (∂F/∂x + I). Through a plain stack the
gradient is a product of per-layer factors that shrinks when each is below one
(0.03 · 0.05 = 0.0015, notes 004); the identity term carries ∂L/∂y back unchanged,
so deep stacks of blocks still receive a usable gradient.
"""

from soma.nn.activation import ReLU
from soma.nn.common_types import DTypeLike, _size_any_t
from soma.nn.container import Sequential
from soma.nn.conv import Conv2d
from soma.nn.module import Module
from soma.nn.normalization import BatchNorm2d
from soma.ops.pointwise import relu
from soma.tensor import Tensor

__all__ = ["ResidualBlock"]


class ResidualBlock(Module):
    """y = ReLU(F(x) + shortcut(x)), F = conv3×3 → BN → ReLU → conv3×3 → BN (ResNet's basic block).

    Args:
        in_channels: channels of x.
        out_channels: channels of y (default: in_channels).
        stride: stride of the first convolution (2 halves the map).
        batch_norm: put BatchNorm2d after each convolution (default True; without it
            the convolutions get biases).

    The shortcut is the identity when x and F(x) have the same shape; otherwise a
    projection, a 1×1 convolution with the same stride (then BatchNorm2d), so that
    the two can be added.

    Attributes:
        body: the Sequential computing F(x).
        shortcut: None (identity) or the projection Sequential.

    Shape:
        - Input: ``(N, in_channels, H, W)``.
        - Output: ``(N, out_channels, ⌈H/stride⌉, ⌈W/stride⌉)``.

    Example::

        >>> block = nn.ResidualBlock(16, 32, stride=2)
        >>> block(soma.randn(2, 16, 8, 8)).shape
        (2, 32, 4, 4)
    """

    def __init__(self, in_channels: int, out_channels: int | None = None, stride: _size_any_t = 1,
                 batch_norm: bool = True, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

        def norm(channels):
            return [BatchNorm2d(channels, dtype=dtype)] if batch_norm else []

        def conv(cin, cout, kernel, s, padding):
            return Conv2d(cin, cout, kernel, s, padding, bias=not batch_norm, dtype=dtype)

        self.body = Sequential(
            conv(in_channels, out_channels, 3, stride, 1), *norm(out_channels), ReLU(),
            conv(out_channels, out_channels, 3, 1, 1), *norm(out_channels),
        )
        self.shortcut: Sequential | None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = Sequential(conv(in_channels, out_channels, 1, stride, 0), *norm(out_channels))
        else:
            self.shortcut = None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise RuntimeError(
                f"ResidualBlock(in_channels={self.in_channels}) got input of shape {tuple(x.shape)}: "
                f"expected (N, {self.in_channels}, H, W)"
            )
        identity = x if self.shortcut is None else self.shortcut(x)
        return relu(self.body(x) + identity)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"
