"""``soma.nn.functional`` (``F``): the functional form of every layer, loss and activation.

The functions live beside their ``Function`` classes in :mod:`soma.ops`; this module
gathers them under PyTorch's names (``F.linear``, ``F.conv2d``, ``F.cross_entropy``, ...).
"""

from soma.ops import interpolate as _resizing
from soma.ops import log_softmax, one_hot, relu, sigmoid, softmax, tanh  # noqa: F401
from soma.ops.activation import *  # noqa: F403
from soma.ops.attention import scaled_dot_product_attention  # noqa: F401
from soma.ops.conv import *  # noqa: F403
from soma.ops.dropout import *  # noqa: F403
from soma.ops.fold import fold, unfold  # noqa: F401
from soma.ops.interpolate import *  # noqa: F403
from soma.ops.linear import *  # noqa: F403
from soma.ops.loss import *  # noqa: F403
from soma.ops.normalization import *  # noqa: F403
from soma.ops.pooling import *  # noqa: F403
from soma.ops.recurrent import *  # noqa: F403
from soma.ops.shape import pad  # noqa: F401

interpolate, upsample = _resizing.interpolate, _resizing.upsample  # every mode, not pooling's nearest-only one
