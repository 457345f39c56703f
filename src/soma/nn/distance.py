"""Distance layers: the module form of :mod:`soma.nn.functional.distance`.

``PairwiseDistance`` gives d = ‖x₁ - x₂ + ε‖ₚ over the last dimension, ``CosineSimilarity``
cos θ = x₁·x₂ / (‖x₁‖‖x₂‖) along ``dim`` (each norm floored at ε). Neither has parameters.
"""

from soma.nn.functional import distance as F
from soma.nn.module import Module
from soma.tensor import Tensor

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """d = ‖x₁ - x₂ + ε·1‖ₚ over the last dimension (ε keeps the norm's gradient finite for equal inputs).

    ``p`` is kept as ``self.norm``, PyTorch's attribute name.

    Shape:
        - Input1: ``(N, D)`` or ``(D)``.
        - Input2: ``(N, D)`` or ``(D)``, broadcastable with Input1.
        - Output: ``(N)`` or ``()``; ``(N, 1)`` or ``(1)`` with ``keepdim=True``.

    Example::

        >>> nn.PairwiseDistance(p=1, eps=0.0)(soma.tensor([[0.0, 0.0]]), soma.tensor([[3.0, 4.0]]))
        tensor([7.])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """cos θ = Σ (x₁/max(‖x₁‖₂, ε))·(x₂/max(‖x₂‖₂, ε)) along ``dim``.

    Shape:
        - Input1: ``(*₁, D, *₂)`` with D at position ``dim``.
        - Input2: ``(*₁, D, *₂)``, broadcastable with Input1.
        - Output: ``(*₁, *₂)``.

    Example::

        >>> nn.CosineSimilarity(dim=0)(soma.tensor([1.0, 0.0]), soma.tensor([1.0, 1.0]))
        tensor(0.7071)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
