"""LeNet-5 (notes 004's table) and a small CNN for the 8×8 digits.

LeNet-style networks alternate convolution (feature extraction) and pooling
(downsampling), then flatten and classify with fully connected layers
(see notes 004, "LeNet"):

    layer                    input      output
    Conv2d 6 filters 5×5     28×28×1    24×24×6
    MaxPool 2×2              24×24×6    12×12×6
    Conv2d 16 filters 5×5    12×12×6    8×8×16
    MaxPool 2×2              8×8×16     4×4×16
    Flatten                  4×4×16     256
    Linear 120 / 84 / 10     256 → 120 → 84 → 10

with ReLU after every convolution and hidden linear layer (44,426 parameters).
"""

from soma.nn.activation import ReLU
from soma.nn.container import Sequential
from soma.nn.conv import Conv2d
from soma.nn.dropout import Dropout
from soma.nn.linear import Flatten, Linear
from soma.nn.module import Module
from soma.nn.normalization import BatchNorm2d
from soma.nn.pooling import MaxPool2d

__all__ = ["LeNet5", "DigitsCNN"]


def _check(model, input, channels, size):
    if input.ndim != 4 or tuple(input.shape[1:]) != (channels, size, size):
        raise RuntimeError(
            f"{type(model).__name__} got input of shape {tuple(input.shape)}: "
            f"expected (N, {channels}, {size}, {size})"
        )


class LeNet5(Module):
    """LeNet-5 as in notes 004's table: two conv/pool stages, then 120-84-10 fully connected.

    Args:
        num_classes: outputs of the last layer (default 10).
        in_channels: image channels (default 1).

    Shape: input (N, 1, 28, 28) → logits (N, num_classes).

    Attributes:
        features: Conv2d(1, 6, 5), ReLU, MaxPool2d(2), Conv2d(6, 16, 5), ReLU, MaxPool2d(2).
        classifier: Flatten, Linear(256, 120), ReLU, Linear(120, 84), ReLU, Linear(84, 10).

    Example::

        >>> LeNet5()(soma.randn(2, 1, 28, 28)).shape
        (2, 10)
    """

    def __init__(self, num_classes=10, in_channels=1, dtype=None):
        super().__init__()
        self.in_channels = in_channels
        self.features = Sequential(
            Conv2d(in_channels, 6, 5, dtype=dtype), ReLU(), MaxPool2d(2),
            Conv2d(6, 16, 5, dtype=dtype), ReLU(), MaxPool2d(2),
        )
        self.classifier = Sequential(
            Flatten(),
            Linear(16 * 4 * 4, 120, dtype=dtype), ReLU(),
            Linear(120, 84, dtype=dtype), ReLU(),
            Linear(84, num_classes, dtype=dtype),
        )

    def forward(self, x):
        _check(self, x, self.in_channels, 28)
        return self.classifier(self.features(x))


class DigitsCNN(Module):
    """A small CNN for the 8×8 digits (``soma.datasets.digits(images=True)``), >= 98% test accuracy.

    conv3×3(1→16, same) → BN → ReLU → conv3×3(16→32, same) → BN → ReLU → MaxPool 2 (4×4)
    → Flatten (512) → Dropout → Linear(512, 64) → ReLU → Linear(64, 10).

    Args:
        num_classes: default 10.
        dropout: dropout probability before the hidden linear layer (default 0.25).

    Example::

        >>> DigitsCNN()(soma.randn(5, 1, 8, 8)).shape
        (5, 10)
    """

    def __init__(self, num_classes=10, dropout=0.25, dtype=None):
        super().__init__()
        self.features = Sequential(
            Conv2d(1, 16, 3, padding=1, bias=False, dtype=dtype), BatchNorm2d(16, dtype=dtype), ReLU(),
            Conv2d(16, 32, 3, padding=1, bias=False, dtype=dtype), BatchNorm2d(32, dtype=dtype), ReLU(),
            MaxPool2d(2),
        )
        self.classifier = Sequential(
            Flatten(), Dropout(dropout),
            Linear(32 * 4 * 4, 64, dtype=dtype), ReLU(),
            Linear(64, num_classes, dtype=dtype),
        )

    def forward(self, x):
        _check(self, x, 1, 8)
        return self.classifier(self.features(x))
