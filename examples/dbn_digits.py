"""A deep belief network on the 8×8 digits: greedy RBM pretraining, then fine-tuning by backpropagation.

Two RBMs (64 → 128 → 64 hidden units, CD-1) are trained one after the other without labels;
the stack is unrolled into the MLP 64-128-64-10 (sigmoid hidden layers) and fine-tuned on the
labels. The same MLP from random initialization is trained the same way beside it (the same
1,500 SGD steps), with all 1,437 training labels and with only 100 of them (pretraining still
sees every image).
Whichever way the numbers come out, they are printed as they are.

Run: python examples/dbn_digits.py   (under a minute on 2 cores)
"""

import numpy as np

import soma
import soma.nn.functional as F
import soma.optim
from soma import datasets, nn
from soma.classic import DBN

try:  # small matrices: one BLAS thread is faster, and steadier on a busy machine
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

HIDDEN, STEPS, BATCH = (128, 64), 1500, 32


def random_mlp():
    return nn.Sequential(nn.Linear(64, HIDDEN[0]), nn.Sigmoid(), nn.Linear(HIDDEN[0], HIDDEN[1]), nn.Sigmoid(),
                         nn.Linear(HIDDEN[1], 10))


def fine_tune(model, X, y, rng):
    """The same number of SGD steps (mini-batches of 32 drawn at random) whatever the number of labels."""
    optimizer = soma.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(STEPS):
        idx = rng.integers(0, len(X), BATCH)
        loss = F.cross_entropy(model(soma.tensor(X[idx])), soma.tensor(y[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def accuracy(model, X, y):
    with soma.no_grad():
        return float((model(soma.tensor(X)).argmax(-1).numpy() == y).mean())


def main():
    soma.manual_seed(0)
    (X, y), (X_test, y_test) = datasets.digits()
    dbn = DBN(HIDDEN, learning_rate=0.05, batch_size=10, n_iter=20, random_state=0).fit(X.astype(np.float64))
    for i, rbm in enumerate(dbn.rbms_, 1):
        print(f"RBM {i} ({rbm.components_.shape[1]} → {rbm.n_components}): pseudo-log-likelihood "
              f"{rbm.history_['pseudo_likelihood'][0]:.2f} → {rbm.history_['pseudo_likelihood'][-1]:.2f}")
    few = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(10)])  # 10 labels per class
    for name, idx in (("all 1,437 labels", np.arange(len(X))), ("100 labels", few)):
        for init in ("random init", "DBN init"):
            soma.manual_seed(1)
            model = random_mlp() if init == "random init" else dbn.to_mlp(n_outputs=10)
            fine_tune(model, X[idx], y[idx], np.random.default_rng(0))
            print(f"{name:17s} {init:12s} test accuracy {accuracy(model, X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
