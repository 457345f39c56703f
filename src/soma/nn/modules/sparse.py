"""``torch.nn.modules.sparse``'s import path for soma's own classes
(defined in ``soma.nn.sparse``).

Not in soma: EmbeddingBag.
"""

from soma.nn.sparse import Embedding

__all__ = ["Embedding"]
