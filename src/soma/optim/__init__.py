"""``soma.optim``: optimizers that update parameters in place from their ``.grad``, and lr schedulers.

    >>> optimizer = soma.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> optimizer.zero_grad(); loss.backward(); optimizer.step()
"""

from soma.optim import lr_scheduler, swa_utils
from soma.optim.adadelta import Adadelta
from soma.optim.adafactor import Adafactor
from soma.optim.adagrad import Adagrad
from soma.optim.adam import Adam, AdamW
from soma.optim.adamax import Adamax
from soma.optim.asgd import ASGD
from soma.optim.lbfgs import LBFGS
from soma.optim.nadam import NAdam
from soma.optim.optimizer import Optimizer
from soma.optim.radam import RAdam
from soma.optim.rmsprop import RMSprop
from soma.optim.rprop import Rprop
from soma.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adadelta", "Adamax", "NAdam", "RAdam",
           "ASGD", "Rprop", "LBFGS", "Adafactor", "lr_scheduler", "swa_utils"]
