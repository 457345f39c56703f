"""Train LeNet-5 (notes 004's table) on MNIST.

Uses the full 60,000/10,000 IDX files when they are in ``--root`` (get them with
``soma.datasets.mnist(root, download=True)`` on a machine with network access),
otherwise the 5,000-digit sample that ships with soma (4,000 to train, 1,000 to
test; about 97% in a minute on two cores).

    python examples/lenet_mnist.py [--root ~/data/mnist] [--epochs 7]
"""

import argparse

import soma
import soma.nn as nn
import soma.optim as optim
from soma.datasets import mnist, mnist_sample
from soma.models import LeNet5
from soma.optim.lr_scheduler import ExponentialLR
from soma.train import Trainer
from soma.train.callbacks import LRScheduler


def load(root):
    if root:
        try:
            return mnist(root), "MNIST (IDX files)"
        except (FileNotFoundError, OSError, ValueError) as error:
            print(f"full MNIST not available in {root} ({error}); using the bundled sample")
    return mnist_sample(), "the 5,000-digit MNIST sample"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    soma.manual_seed(args.seed)
    ((x_train, y_train), (x_test, y_test)), name = load(args.root)
    print(f"training LeNet-5 on {name}: {len(y_train)} train, {len(y_test)} test")
    model = LeNet5()
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, callbacks=[LRScheduler(ExponentialLR(optimizer, 0.6))])
    trainer.fit(x_train, y_train, epochs=args.epochs, batch_size=32)
    model.eval()
    correct = 0
    with soma.no_grad():
        for start in range(0, len(y_test), 1000):
            batch = soma.tensor(x_test[start : start + 1000])
            correct += int((model(batch).numpy().argmax(1) == y_test[start : start + 1000]).sum())
    print(f"test accuracy: {correct / len(y_test):.4f}")


if __name__ == "__main__":
    main()
