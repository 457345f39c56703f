"""Train the digits CNN on N processes; it prints the test accuracy one process gets.

    soma run -n 2 examples/distributed_digits.py              # 2 ranks, 32 samples each per step
    mpiexec -n 4 python examples/distributed_digits.py        # the same with the environment's mpiexec
    python examples/distributed_digits.py                     # 1 process, 64 samples per step

Data parallelism: every step uses ``batch`` samples in all; each of the W ranks takes
``batch / W`` of them (the Trainer shards the data with a DistributedSampler), computes
its gradient, and DistributedDataParallel averages the W gradients, so every rank takes
the step one process would take on the whole batch. The batch norms are SyncBatchNorm
(statistics over the whole batch, not each rank's part) and dropout is off (each rank
would draw its own masks), so 1, 2 or 4 processes print the same accuracy, up to
float32 round-off in the sums. Needs ``pip install soma[distributed]``.
"""

import argparse

import soma
import soma.distributed as dist
from soma import nn, optim
from soma.datasets import digits
from soma.models import DigitsCNN
from soma.nn.parallel import SyncBatchNorm
from soma.train import Trainer, accuracy


def main(epochs=5, batch=64, seed=0, samples=None):
    if dist.is_available():
        dist.init_process_group("mpi")  # under mpiexec: W ranks; plain python: a group of one
    rank = dist.get_rank() if dist.is_initialized() else 0
    world = dist.get_world_size() if dist.is_initialized() else 1
    if batch % world:
        raise SystemExit(f"the batch of {batch} does not split into {world} equal parts")
    soma.manual_seed(seed)  # the same initial weights and shuffling on every rank and every W
    (x_train, y_train), (x_test, y_test) = digits(images=True)
    n = min(samples or len(x_train), len(x_train)) // batch * batch  # whole batches: every W takes the same steps
    model = SyncBatchNorm.convert_sync_batchnorm(DigitsCNN(dropout=0.0))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=2e-3), metrics=[accuracy])
    trainer.fit(x_train[:n], y_train[:n], epochs=epochs, batch_size=batch // world)
    scores = trainer.evaluate(x_test, y_test)
    if rank == 0:
        print(f"{world} process{'es' if world > 1 else ''} x batch {batch // world}: "
              f"test accuracy {scores['accuracy']:.4f}, test loss {scores['loss']:.4f}")
    return scores


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64, help="samples per step, over all processes")
    parser.add_argument("--samples", type=int, default=None, help="train on the first SAMPLES digits only")
    args = parser.parse_args()
    main(args.epochs, args.batch, samples=args.samples)
