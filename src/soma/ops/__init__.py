"""Tensor algebra: the differentiable primitives, one family per module, each backward beside its forward.

The neural-network kernels built on them (conv, pooling, losses, ...) are the second
tier, in :mod:`soma.nn.functional`.

The names here are the functional forms (``soma.exp``, ``soma.matmul``, ...); the
``Function`` classes (``ops.Mul``, ``ops.MatMul``, ...) are the graph nodes.
"""

from soma.autograd.function import is_grad_enabled, mark_dirty  # noqa: F401  (for Tensor.__setitem__)
from soma.ops._common import to_dtype  # noqa: F401
from soma.ops.arithmetic import *  # noqa: F403
from soma.ops.comparison import *  # noqa: F403
from soma.ops.rounding import *  # noqa: F403
from soma.ops.indexing import *  # noqa: F403
from soma.ops.linalg import *  # noqa: F403
from soma.ops.pointwise import *  # noqa: F403
from soma.ops.reduction import *  # noqa: F403
from soma.ops.norms import *  # noqa: F403
from soma.ops.shape import *  # noqa: F403
from soma.ops.softmax import *  # noqa: F403
from soma.ops.sorting import *  # noqa: F403
from soma.ops.layout import *  # noqa: F403
from soma.ops.combine import *  # noqa: F403
