"""Neural-network building blocks: ``Module``, layers by family, losses, initialization.

Each family lives in its own module (``linear``, ``activation``, ``conv``, ``rnn``,
...); this package gathers their public names, so ``soma.nn.Linear`` works as
``torch.nn.Linear`` does.
"""

from soma.nn import functional, init, utils
from soma.nn.activation import *  # noqa: F403
from soma.nn.attention import *  # noqa: F403
from soma.nn.container import *  # noqa: F403
from soma.nn.conv import *  # noqa: F403
from soma.nn.distance import *  # noqa: F403
from soma.nn.dropout import *  # noqa: F403
from soma.nn.fold import *  # noqa: F403
from soma.nn.instancenorm import *  # noqa: F403
from soma.nn.linear import *  # noqa: F403
from soma.nn.lazy import *  # noqa: F403
from soma.nn.loss import *  # noqa: F403
from soma.nn.module import *  # noqa: F403
from soma.nn.normalization import *  # noqa: F403
from soma.nn.padding import *  # noqa: F403
from soma.nn.pooling import *  # noqa: F403
from soma.nn.recursive import *  # noqa: F403
from soma.nn.regularization import *  # noqa: F403
from soma.nn.residual import *  # noqa: F403
from soma.nn.rmsnorm import *  # noqa: F403
from soma.nn.rnn import *  # noqa: F403
from soma.nn.seq2seq import *  # noqa: F403
from soma.nn.sparse import *  # noqa: F403
from soma.nn.transformer import *  # noqa: F403
from soma.nn.upsampling import *  # noqa: F403
from soma.nn import modules, parameter  # noqa: E402, F401  (PyTorch's module paths, aliases of the above)
from soma.nn import parallel  # noqa: E402  (DistributedDataParallel; MPI loads only when used)
from soma.nn.parallel import DataParallel, SyncBatchNorm  # noqa: E402

from soma.nn import (  # noqa: E402  (the families, to gather their public names)
    activation, attention, container, conv, distance, dropout, fold, instancenorm, lazy, linear, loss, module,
    normalization, padding, pooling, recursive, regularization, residual, rmsnorm, rnn, seq2seq, sparse, transformer,
    upsampling,
)

_FAMILIES = (activation, attention, container, conv, distance, dropout, fold, instancenorm, lazy, linear, loss, module,
             normalization, padding, pooling, recursive, regularization, residual, rmsnorm, rnn, seq2seq, sparse,
             transformer, upsampling)
__all__ = list(dict.fromkeys([name for family in _FAMILIES for name in family.__all__]
                             + ["SyncBatchNorm", "DataParallel"]))
__all__ += ["functional", "init", "utils", "modules", "parallel"]
