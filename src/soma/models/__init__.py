"""Ready-made models: LeNet-5, autoencoders."""

from soma.models.autoencoder import *  # noqa: F403
from soma.models.lenet import *  # noqa: F403
