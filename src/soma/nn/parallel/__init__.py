"""``soma.nn.parallel``: training one model on many processes (``torch.nn.parallel``'s names)."""

from soma.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
