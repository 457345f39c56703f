"""Utilities around modules: gradient clipping, parameter vectors, convolution cost, RNN packing."""

from soma.nn.utils.clip_grad import *  # noqa: F403
from soma.nn.utils.conv_cost import *  # noqa: F403
from soma.nn.utils.convert_parameters import *  # noqa: F403
from soma.nn.utils.rnn import *  # noqa: F403
from soma.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from soma.nn.utils.weight_norm import remove_weight_norm, weight_norm  # noqa: F401
from soma.nn.utils import parametrizations, parametrize  # noqa: E402, F401
