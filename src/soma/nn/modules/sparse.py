"""``torch.nn.modules.sparse``'s import path for soma's own classes
(defined in ``soma.nn.sparse``).
"""

from soma.nn.sparse import Embedding, EmbeddingBag

__all__ = ["Embedding", "EmbeddingBag"]
