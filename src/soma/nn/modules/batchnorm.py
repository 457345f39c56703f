"""``torch.nn.modules.batchnorm``'s import path for soma's own classes
(defined in ``soma.nn.normalization``).

Not in soma: LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, SyncBatchNorm.
"""

from soma.nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]
