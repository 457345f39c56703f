"""``torch.nn.modules.batchnorm``'s import path for soma's own classes
(defined in ``soma.nn.normalization``, ``soma.nn.parallel.sync_batchnorm``).

Not in soma: LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d.
"""

from soma.nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from soma.nn.parallel.sync_batchnorm import SyncBatchNorm

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"]
