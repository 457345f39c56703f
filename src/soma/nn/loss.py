"""Loss modules: the module form of every function in :mod:`soma.nn.functional.loss`.

``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, labels)``. Each
keeps its options (``reduction``, ``weight``, ...) and calls the functional form;
``weight`` and ``pos_weight`` are registered as buffers, as in PyTorch.
"""

from soma.nn.functional import loss as F
from soma.nn.module import Module
from soma.tensor import Tensor

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "SoftMarginLoss",
]


class _Loss(Module):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = F._legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """E = mean (ŷ - y)² (notes 002: y = [3, -0.5, 2], ŷ = [2.5, 0, 2] gives 0.1667).

    The notes' squared error ½Σ(t - y)² over k outputs equals ``MSELoss()`` times k/2.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """E = mean |ŷ - y|

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """E = ½d² for |d| < δ, else δ(|d| - ½δ)

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """E = ½d²/β for |d| < β, else |d| - ½β

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """E = -[y ln p + (1 - y) ln(1 - p)] for probabilities p (after a Sigmoid); notes 002.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """BCE of σ(x) from logits x, stably; ``pos_weight`` (per class) scales the positive term.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class CrossEntropyLoss(_WeightedLoss):
    """E = -ln softmax(x)_y for logits x (N, C, ...) and class indices y, or probabilities.

    Args:
        weight: per-class weights (C,).
        ignore_index: target value that contributes nothing (-100).
        reduction: 'mean' (divides by Σ w_y), 'sum' or 'none'.
        label_smoothing: ε in [0, 1]: targets become (1 - ε)·onehot + ε/C.

    Shape:
        - Input: ``(C)``, ``(N, C)`` or ``(N, C, d₁, ..., d_K)``, C classes.
        - Target: class indices ``()``, ``(N)`` or ``(N, d₁, ..., d_K)`` in [0, C),
          or probabilities of the input's shape.
        - Output: a scalar; with ``reduction='none'``, the target's shape (without C).

    Example::

        >>> nn.CrossEntropyLoss()(soma.randn(8, 10), soma.randint(0, 10, (8,)))
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """E = -w_y·x_y for log-probabilities x (after LogSoftmax).

    Shape:
        - Input: ``(C)``, ``(N, C)`` or ``(N, C, d₁, ..., d_K)``, C classes.
        - Target: class indices ``()``, ``(N)`` or ``(N, d₁, ..., d_K)`` in [0, C).
        - Output: a scalar; with ``reduction='none'``, the target's shape (without C).
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL(y ‖ p) = Σ y (ln y - ln p) with input ln p; use ``reduction='batchmean'`` for the true KL.

    Shape:
        - Input: ``(*)``, log-probabilities.
        - Target: ``(*)``, the input's shape (log-probabilities with ``log_target=True``).
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SoftMarginLoss(_Loss):
    """E = ln(1 + e^(-y·x)), y ∈ {-1, 1}

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)
