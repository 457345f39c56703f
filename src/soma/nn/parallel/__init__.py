"""``soma.nn.parallel``: training one model on many processes (``torch.nn.parallel``'s names)."""

from soma.nn.parallel.data_parallel import DataParallel, data_parallel
from soma.nn.parallel.distributed import DistributedDataParallel
from soma.nn.parallel.sync_batchnorm import SyncBatchNorm

__all__ = ["DataParallel", "DistributedDataParallel", "SyncBatchNorm", "data_parallel"]
