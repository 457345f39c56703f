"""Train the small DigitsCNN on the bundled 8×8 digits (about 98-99% test accuracy in seconds).

    python examples/cnn_digits.py
"""

import soma
import soma.nn as nn
import soma.optim as optim
from soma.datasets import digits
from soma.models import DigitsCNN
from soma.optim.lr_scheduler import ExponentialLR
from soma.train import Trainer
from soma.train.callbacks import LRScheduler


def main(epochs=15, seed=0):
    soma.manual_seed(seed)
    (x_train, y_train), (x_test, y_test) = digits(images=True)
    model = DigitsCNN()
    print(model)
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, callbacks=[LRScheduler(ExponentialLR(optimizer, 0.9))])
    trainer.fit(x_train, y_train, epochs=epochs, batch_size=32)
    model.eval()
    with soma.no_grad():
        accuracy = (model(soma.tensor(x_test)).numpy().argmax(1) == y_test).mean()
    print(f"test accuracy: {accuracy:.4f} on {len(y_test)} digits")
    return accuracy


if __name__ == "__main__":
    main()
