"""``soma.nn.parallel``: training one model on many processes (``torch.nn.parallel``'s names)."""

from soma.nn.parallel.distributed import DistributedDataParallel
from soma.nn.parallel.sync_batchnorm import SyncBatchNorm

__all__ = ["DistributedDataParallel", "SyncBatchNorm"]
