"""``torch.nn.modules.batchnorm``'s import path for soma's own classes
(defined in ``soma.nn.normalization``, ``soma.nn.lazy``, ``soma.nn.parallel.sync_batchnorm``).
"""

from soma.nn.lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d
from soma.nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from soma.nn.parallel.sync_batchnorm import SyncBatchNorm

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "SyncBatchNorm"]
