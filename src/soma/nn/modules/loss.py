"""``torch.nn.modules.loss``'s import path for soma's own classes
(defined in ``soma.nn.loss``).

Not in soma: NLLLoss2d, PoissonNLLLoss, GaussianNLLLoss, HingeEmbeddingLoss, MultiLabelMarginLoss,
LinearCrossEntropyLoss, MultiLabelSoftMarginLoss, CosineEmbeddingLoss, MarginRankingLoss, MultiMarginLoss,
TripletMarginLoss, TripletMarginWithDistanceLoss, CTCLoss.
"""

from soma.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
)

__all__ = [
    "L1Loss", "NLLLoss", "KLDivLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "SmoothL1Loss", "HuberLoss",
    "SoftMarginLoss", "CrossEntropyLoss",
]
