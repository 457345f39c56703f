"""``soma.nn.modules``: PyTorch's module paths (``torch.nn.modules.linear``, ``.conv``, ...) as aliases.

Programs that import from PyTorch's file layout (``from torch.nn.modules.linear import Linear``,
``isinstance(m, nn.modules.conv.Conv2d)``) find soma's own classes under the same paths: each
submodule re-exports the classes soma defines elsewhere in :mod:`soma.nn`, so
``soma.nn.modules.linear.Linear is soma.nn.Linear``. Names PyTorch has there and soma does not
are listed in each submodule's docstring.
"""

from soma.nn.modules import linear
from soma.nn.modules import conv
from soma.nn.modules import activation
from soma.nn.modules import loss
from soma.nn.modules import pooling
from soma.nn.modules import normalization
from soma.nn.modules import batchnorm
from soma.nn.modules import rnn
from soma.nn.modules import dropout
from soma.nn.modules import container
from soma.nn.modules import sparse
from soma.nn.modules import module
from soma.nn.modules import flatten
from soma.nn.modules import pixelshuffle
from soma.nn.modules import upsampling
from soma.nn.modules import fold
from soma.nn.modules import transformer
from soma.nn.modules import distance
from soma.nn.modules import padding
from soma.nn.modules import instancenorm
from soma.nn.modules import channelshuffle
from soma.nn.modules import lazy
from soma.nn.modules.linear import *  # noqa: F403
from soma.nn.modules.conv import *  # noqa: F403
from soma.nn.modules.activation import *  # noqa: F403
from soma.nn.modules.loss import *  # noqa: F403
from soma.nn.modules.pooling import *  # noqa: F403
from soma.nn.modules.normalization import *  # noqa: F403
from soma.nn.modules.batchnorm import *  # noqa: F403
from soma.nn.modules.rnn import *  # noqa: F403
from soma.nn.modules.dropout import *  # noqa: F403
from soma.nn.modules.container import *  # noqa: F403
from soma.nn.modules.sparse import *  # noqa: F403
from soma.nn.modules.channelshuffle import *  # noqa: F403
from soma.nn.modules.lazy import *  # noqa: F403
from soma.nn.modules.module import *  # noqa: F403
from soma.nn.modules.flatten import *  # noqa: F403
from soma.nn.modules.pixelshuffle import *  # noqa: F403
from soma.nn.modules.upsampling import *  # noqa: F403
from soma.nn.modules.fold import *  # noqa: F403
from soma.nn.modules.transformer import *  # noqa: F403
from soma.nn.modules.distance import *  # noqa: F403
from soma.nn.modules.padding import *  # noqa: F403
from soma.nn.modules.instancenorm import *  # noqa: F403
