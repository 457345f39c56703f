"""Loss modules: the module form of every loss function (:mod:`soma.nn.functional.loss`,
:mod:`~soma.nn.functional.embedding_losses`, :mod:`~soma.nn.functional.likelihood_losses`).

``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, labels)``. Each
keeps its options (``reduction``, ``weight``, ...) and calls the functional form;
``weight`` and ``pos_weight`` are registered as buffers, as in PyTorch.
"""

from collections.abc import Callable
from typing import Any

from soma.nn.distance import PairwiseDistance
from soma.nn.functional import embedding_losses as E
from soma.nn.functional import likelihood_losses as L
from soma.nn.functional import loss as F
from soma.nn.module import Module
from soma.tensor import Tensor

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "SoftMarginLoss",
    "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
    "GaussianNLLLoss", "PoissonNLLLoss", "CTCLoss",
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


class _PairMarginLoss(_Loss):
    """A margin loss of a pair (x₁, x₂) and labels y: ``_function(x₁, x₂, y, margin, reduction)``."""

    _function: Any = None

    def __init__(self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return type(self)._function(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MarginRankingLoss(_PairMarginLoss):
    """E = max(0, -y·(x₁ - x₂) + margin), y ∈ {1, -1} saying which of x₁, x₂ should rank higher.

    Shape:
        - Input1: ``(N)`` or ``()``.
        - Input2: ``(N)`` or ``()``, input1's shape.
        - Target: ``(N)`` or ``()``, input1's shape.
        - Output: a scalar; with ``reduction='none'``, ``(N)`` (or ``()``).
    """

    _function = staticmethod(E.margin_ranking_loss)


class HingeEmbeddingLoss(_Loss):
    """E = x where y = 1, max(0, margin - x) where y = -1, for distances x and labels y ∈ {1, -1}.

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def __init__(self, margin: float = 1.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return E.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_PairMarginLoss):
    """E = 1 - cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) - margin) where y = -1.

    Shape:
        - Input1: ``(N, D)`` or ``(D)``.
        - Input2: input1's shape.
        - Target: ``(N)`` or ``()``.
        - Output: a scalar; with ``reduction='none'``, ``(N)`` (or ``()``).
    """

    _function = staticmethod(E.cosine_embedding_loss)


class TripletMarginLoss(_Loss):
    """E = max(0, margin + d(a, p) - d(a, n)), d(x, y) = ‖x - y + ε‖_p (min(d(a, n), d(p, n)) with ``swap``).

    Shape:
        - Anchor, Positive, Negative: ``(N, D)`` or ``(D)``, D the embedding size.
        - Output: a scalar; with ``reduction='none'``, ``(N)`` (or ``()``).
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return E.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """E = max(0, margin + d(a, p) - d(a, n)) for any ``distance_function`` d (default pairwise distance).

    Shape:
        - Anchor, Positive, Negative: ``(N, *)``, what ``distance_function`` takes.
        - Output: a scalar; with ``reduction='none'``, ``(N)``.
    """

    def __init__(self, *, distance_function: Callable[[Tensor, Tensor], Tensor] | None = None, margin: float = 1.0,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}")
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin, self.swap = margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return E.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Eᵢ = -(1/C)·Σ_c w_c [y_c ln σ(x_c) + (1 - y_c) ln σ(-x_c)], targets y_c ∈ {0, 1}.

    Shape:
        - Input: ``(N, C)`` or ``(C)``, C classes.
        - Target: the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(N)`` (or ``()``).
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return E.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Eᵢ = (1/C)·Σ_{j≠yᵢ} w_yᵢ·max(0, margin - x_yᵢ + x_j)^p, p ∈ {1, 2}: the multi-class hinge.

    Shape:
        - Input: ``(N, C)`` or ``(C)``, C classes.
        - Target: ``(N)`` or ``()``, class indices in [0, C).
        - Output: a scalar; with ``reduction='none'``, ``(N)`` (or ``()``).
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got p={p}")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be one-dimensional, got shape {tuple(weight.shape)}")
        super().__init__(weight, size_average, reduce, reduction)
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return E.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Eᵢ = (1/C)·Σ_{j ∈ Yᵢ} Σ_{k ∉ Yᵢ} max(0, 1 - x_j + x_k), Yᵢ the labels before the first -1.

    Shape:
        - Input: ``(N, C)`` or ``(C)``, C classes.
        - Target: the input's shape, class indices padded with -1.
        - Output: a scalar; with ``reduction='none'``, ``(N)`` (or ``()``).
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return E.multilabel_margin_loss(input, target, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """E = ½ (ln max(σ², ε) + (x - y)²/max(σ², ε)) [+ ½ ln 2π with ``full``].

    Shape:
        - Input: ``(N, *)`` or ``(*)``, the predicted means.
        - Target: the input's shape (or broadcastable to it).
        - Var: the input's shape, or it with one dimension of size 1 or without its last dimension.
        - Output: a scalar; with ``reduction='none'``, the input's shape.
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return L.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """E = eˣ - y·x for log-rates x (``log_input``), else x - y·ln(x + ε) [+ Stirling's ln y! with ``full``].

    Shape:
        - Input: ``(*)``, any number of dimensions.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average: bool | None = None,
                 eps: float = 1e-8, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return L.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class CTCLoss(_Loss):
    """E = -ln p(y | x), summed over every alignment of the labels y to the frames of x (repeats merged,
    blanks removed); the forward-backward recursion in log space (:func:`F.ctc_loss`).

    Shape:
        - Log_probs: ``(T, N, C)`` or ``(T, C)``, log-probabilities of C classes (blank included) on T frames.
        - Targets: ``(N, S)`` padded label rows, or their 1-d concatenation ``(sum(target_lengths))``.
        - Input_lengths, Target_lengths: ``(N)`` (or ``()`` unbatched), tensors or lists of ints.
        - Output: a scalar; with ``reduction='none'``, ``(N)`` (or ``()``).
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Tensor | list[int],
                target_lengths: Tensor | list[int]) -> Tensor:
        return L.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)
