"""Dropout layers: Dropout (each unit), Dropout1d/2d/3d (whole channels), AlphaDropout and
FeatureAlphaDropout (SELU networks' dropout: dropped units take SELU's saturation value).

In training mode each unit is zeroed with probability ``p`` and the survivors are
scaled by 1/(1 - p) (inverted dropout, notes 004: ``Dropout(0.5)`` drops half the
neurons and doubles the rest); in eval mode (``model.eval()``) the layer is the identity.
"""

from soma.nn._utils import maybe_inplace
from soma.nn.functional import dropouts as F
from soma.nn.module import Module
from soma.tensor import Tensor

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}"
            )
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """y = x·m/(1 - p) with m ~ Bernoulli(1 - p) per element, in training mode; y = x in eval.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.

    Example::

        >>> drop = nn.Dropout(0.2)          # kept units are scaled by 1.25
        >>> drop.eval()(x) is x
        True
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.dropout, input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) inputs.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.dropout1d, input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole feature maps of (N, C, H, W) inputs (for convolutional layers).

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.dropout2d, input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) inputs.

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        - Output: the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return maybe_inplace(self, F.dropout3d, input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Alpha dropout (for SELU networks): in training each unit is set to SELU's saturation value -λα with
    probability p, then y ↦ a·y + b restores mean 0 and variance 1 (see :mod:`soma.nn.functional.dropouts`);
    identity in eval. ``inplace`` is stored but, as in PyTorch, not used.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Output: ``(*)``, the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels: every element of a dropped (sample, channel) takes -λα at once.
    ``inplace`` is stored but, as in PyTorch, not used.

    Shape:
        - Input: ``(N, C, *)``.
        - Output: the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training)
