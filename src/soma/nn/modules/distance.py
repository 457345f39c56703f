"""``torch.nn.modules.distance``'s import path for soma's own classes
(defined in ``soma.nn.distance``).
"""

from soma.nn.distance import CosineSimilarity, PairwiseDistance

__all__ = ["PairwiseDistance", "CosineSimilarity"]
