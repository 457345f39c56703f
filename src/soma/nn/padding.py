"""Padding layers: the module form of ``F.pad`` for the last 1, 2 or 3 dimensions.

``ConstantPadNd(padding, value)`` surrounds the input with ``value`` (``ZeroPadNd`` with 0; a negative
width crops that side); ``ReflectionPadNd`` mirrors the border without repeating the edge
(x₂ x₁ | x₁ x₂ … becomes … x₃ x₂ | x₁ x₂ x₃ …: y[-k] = x[k]), ``ReplicationPadNd`` repeats the edge
(y[-k] = x[0]) and ``CircularPadNd`` wraps around (y[-k] = x[n - k]), as a convolution over a periodic
signal sees it.

``padding`` is an int (the same width on every side) or PyTorch's tuple of (before, after) widths,
starting from the last dimension: ``(left, right)``, ``(left, right, top, bottom)``,
``(left, right, top, bottom, front, back)``. Each layer pads an unbatched input as its batched one.
"""

from collections.abc import Iterable

from soma.nn.module import Module
from soma.ops.shape import pad
from soma.tensor import Tensor

__all__ = [
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
]


class _PadNd(Module):
    """Shared by every padding layer: ``padding`` as PyTorch keeps it, a tuple of 2·n widths for n dims."""

    _dims: int = 1
    _mode: str = "constant"

    def __init__(self, padding: int | Iterable[int]) -> None:
        super().__init__()
        # PyTorch's _ntuple: a sequence is kept as given (its length is checked by F.pad), an int repeated
        self.padding = tuple(padding) if isinstance(padding, Iterable) else (padding,) * (2 * self._dims)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | Iterable[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``: ``padding`` = w or (left, right).

    Shape:
        - Input: ``(C, W)`` or ``(N, C, W)`` (any number of leading dims).
        - Output: the input's shape with W + left + right.
    """

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``: ``padding`` = w or (left, right, top, bottom).

    Shape:
        - Input: ``(C, H, W)`` or ``(N, C, H, W)`` (any number of leading dims).
        - Output: H + top + bottom, W + left + right.
    """

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``: ``padding`` = w or (left, right, top, bottom, front, back).

    Shape:
        - Input: ``(C, D, H, W)`` or ``(N, C, D, H, W)`` (any number of leading dims).
        - Output: D + front + back, H + top + bottom, W + left + right.
    """

    _dims = 3


class _ZeroPad:
    """``ConstantPadNd`` with value 0, written without it in the repr, as PyTorch's."""

    def __init__(self, padding: int | Iterable[int]) -> None:
        super().__init__(padding, 0.0)  # type: ignore[call-arg]

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last dimension with zeros (see :class:`ConstantPad1d`).

    Shape:
        - Input: ``(C, W)`` or ``(N, C, W)``.
        - Output: W + left + right.
    """


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two dimensions with zeros (see :class:`ConstantPad2d`).

    Shape:
        - Input: ``(C, H, W)`` or ``(N, C, H, W)``.
        - Output: H + top + bottom, W + left + right.
    """


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pad the last three dimensions with zeros (see :class:`ConstantPad3d`).

    Shape:
        - Input: ``(C, D, H, W)`` or ``(N, C, D, H, W)``.
        - Output: D + front + back, H + top + bottom, W + left + right.
    """


class ReflectionPad1d(_PadNd):
    """Pad the last dimension with its reflection at each border (widths smaller than W).

    Shape:
        - Input: ``(C, W)`` or ``(N, C, W)``.
        - Output: W + left + right.
    """

    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last two dimensions with their reflection at each border.

    Shape:
        - Input: ``(C, H, W)`` or ``(N, C, H, W)``.
        - Output: H + top + bottom, W + left + right.
    """

    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last three dimensions with their reflection at each border.

    Shape:
        - Input: ``(C, D, H, W)`` or ``(N, C, D, H, W)``.
        - Output: D + front + back, H + top + bottom, W + left + right.
    """

    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dimension by repeating its edge values.

    Shape:
        - Input: ``(C, W)`` or ``(N, C, W)``.
        - Output: W + left + right.
    """

    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last two dimensions by repeating their edge values.

    Shape:
        - Input: ``(C, H, W)`` or ``(N, C, H, W)``.
        - Output: H + top + bottom, W + left + right.
    """

    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last three dimensions by repeating their edge values.

    Shape:
        - Input: ``(C, D, H, W)`` or ``(N, C, D, H, W)``.
        - Output: D + front + back, H + top + bottom, W + left + right.
    """

    _dims, _mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    """Circular padding checks the number of dimensions itself, with PyTorch's ValueError."""

    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self._dims + 1}D or {self._dims + 2}D input "
                             f"(got {input.ndim}D input of shape {tuple(input.shape)})")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """Pad the last dimension with the values from its other end (widths at most W).

    Shape:
        - Input: ``(C, W)`` or ``(N, C, W)``.
        - Output: W + left + right.
    """

    _dims = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last two dimensions with the values from their other ends, as on a torus.

    Shape:
        - Input: ``(C, H, W)`` or ``(N, C, H, W)``.
        - Output: H + top + bottom, W + left + right.
    """

    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last three dimensions with the values from their other ends.

    Shape:
        - Input: ``(C, D, H, W)`` or ``(N, C, D, H, W)``.
        - Output: D + front + back, H + top + bottom, W + left + right.
    """

    _dims = 3
