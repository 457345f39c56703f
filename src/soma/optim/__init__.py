"""``soma.optim``: optimizers that update parameters in place from their ``.grad``, and lr schedulers.

    >>> optimizer = soma.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> optimizer.zero_grad(); loss.backward(); optimizer.step()
"""

from soma.optim import lr_scheduler
from soma.optim.adagrad import Adagrad
from soma.optim.adam import Adam, AdamW
from soma.optim.optimizer import Optimizer
from soma.optim.rmsprop import RMSprop
from soma.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "lr_scheduler"]
