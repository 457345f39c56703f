"""Run under mpiexec: DistributedDataParallel against one process on the same data order.

W ranks with per-rank batch b must end with the weights (to float32 round-off) that
one process reaches with batch W·b: rank r's k-th batch from DistributedSampler is a
share of the single process's k-th batch, and the averaged gradient of the ranks'
mean losses is the gradient of the mean loss over the union.
"""

import numpy as np
from common import gathered, run_checks

import soma
import soma.distributed as dist
from soma import nn, optim
from soma.nn.parallel import DistributedDataParallel, SyncBatchNorm
from soma.utils.data import DataLoader, TensorDataset
from soma.utils.data.distributed import DistributedSampler

B = 4  # per-rank batch


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)
    )


def bn_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(4 * 4 * 4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3),
    )


class TinyRNN(nn.Module):
    """A weight used at every time step: several gradient contributions per parameter per backward."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(6, 8, batch_first=True)
        self.head = nn.Linear(8, 3)
        self.unused = nn.Linear(8, 8)  # never in the graph: its gradient must stay None on every rank

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


def data(kind, n):
    rng = np.random.default_rng(7)
    shape = {"mlp": (n, 6), "cnn": (n, 1, 8, 8), "bn_cnn": (n, 1, 8, 8), "rnn": (n, 5, 6)}[kind]
    return TensorDataset(soma.tensor(rng.standard_normal(shape), dtype=soma.float32),
                         soma.tensor(rng.integers(0, 3, n)))


MODELS = {"mlp": mlp, "cnn": cnn, "bn_cnn": bn_cnn, "rnn": TinyRNN}


def train(model, loader, epochs, optimizer, penalty=0.0, accumulate=1, ddp=None):
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        optimizer.zero_grad()
        for step, (xb, yb) in enumerate(loader):
            syncing = ddp is None or (step + 1) % accumulate == 0
            with (ddp.no_sync() if not syncing else _nothing()):
                loss = loss_fn(model(xb), yb)
                if penalty:  # outside the module's forward: reaches the weights by another path; first in
                    # the sum, some of its gradients reach the weights before the module's (see _reducer)
                    loss = penalty * sum((p * p).sum() for p in model.parameters()) + loss
                loss.backward()
            if (step + 1) % accumulate == 0:
                optimizer.step()
                optimizer.zero_grad()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def compare_with_one_process(kind, opt="sgd", penalty=0.0, accumulate=1, bucket_cap_mb=None, epochs=2,
                             sync_bn=False):
    w, rank = dist.get_world_size(), dist.get_rank()
    n = w * B * 3 * accumulate
    dataset = data(kind, n)
    soma.manual_seed(1)
    reference = MODELS[kind]()
    replica = MODELS[kind]()
    replica.load_state_dict(reference.state_dict())
    if sync_bn:  # the reference keeps plain BatchNorm over its whole batch
        replica = SyncBatchNorm.convert_sync_batchnorm(replica)
    make = {"sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9), "adam": lambda p: optim.Adam(p, lr=0.01)}[opt]

    ddp = DistributedDataParallel(replica, bucket_cap_mb=bucket_cap_mb)
    sampler = DistributedSampler(dataset, seed=3)
    train(ddp, DataLoader(dataset, batch_size=B, sampler=sampler), epochs, make(ddp.parameters()),
          penalty, accumulate, ddp)

    single = DistributedSampler(dataset, num_replicas=1, rank=0, seed=3)
    train(reference, DataLoader(dataset, batch_size=w * B, sampler=single), epochs, make(reference.parameters()),
          penalty, accumulate)
    for (name, mine), theirs in zip(replica.state_dict().items(), reference.state_dict().values()):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=2e-5, atol=2e-6,
                                   err_msg=f"{kind}: {name} on rank {rank}")
    if kind == "rnn":
        assert replica.unused.weight.grad is None and reference.unused.weight.grad is None
    flat = np.concatenate([p.detach().numpy().ravel() for p in replica.parameters()])
    copies = gathered(flat)
    assert (copies == copies[0]).all(), f"{kind}: the ranks' weights differ"
    return ddp


def check_mlp_matches_one_process():
    compare_with_one_process("mlp")


def check_cnn_matches_one_process_adam():
    compare_with_one_process("cnn", opt="adam")


def check_rnn_shared_weights_and_unused_parameter():
    compare_with_one_process("rnn", bucket_cap_mb=0.0005)  # ~500 bytes: several buckets, started in order


def check_penalty_outside_forward():
    compare_with_one_process("mlp", penalty=1e-2, bucket_cap_mb=0.0002)


def check_no_sync_accumulation():
    compare_with_one_process("cnn", accumulate=2)


def check_sync_batchnorm_matches_one_process_batch_norm():
    compare_with_one_process("bn_cnn", sync_bn=True)  # weights and running statistics


def check_different_initial_weights_end_identical():
    rank = dist.get_rank()
    soma.manual_seed(100 + rank)  # every rank starts elsewhere
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    with soma.no_grad():
        model[1].running_mean.fill_(float(rank))
    before = np.concatenate([t.numpy().ravel() for t in model.state_dict().values()])
    ddp = DistributedDataParallel(model)
    after = np.concatenate([t.numpy().ravel() for t in model.state_dict().values()])
    copies = gathered(after)
    assert (copies == copies[0]).all(), "the ranks differ after construction"
    assert rank == 0 or not np.array_equal(before, after), "rank 0's weights were not copied here"
    rng = np.random.default_rng(rank)  # and every rank sees different data
    optimizer = optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    for _ in range(4):
        x = soma.tensor(rng.standard_normal((5, 6)), dtype=soma.float32)
        y = soma.tensor(rng.integers(0, 3, 5))
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(ddp(x), y).backward()
        optimizer.step()
    copies = gathered(np.concatenate([p.detach().numpy().ravel() for p in model.parameters()]))
    assert (copies == copies[0]).all(), "the ranks' weights drifted apart"


def check_forward_without_backward_then_missing_reduction():
    """A forward whose backward never ran is forgotten; half a reduction is an error, as in PyTorch."""
    model = TinyRNN()
    ddp = DistributedDataParallel(model)
    x = soma.randn(2, 5, 6)
    ddp(x)  # evaluation with grad on, no backward: fine
    out = ddp(x)
    extra = model.head(soma.randn(2, 8)).sum()  # uses only the head's weights
    extra.backward()  # the head's gradients arrive, the RNN's never do
    try:
        ddp(x)
    except RuntimeError as error:
        assert "finished reduction" in str(error), error
    else:
        raise AssertionError("a new forward after half a reduction did not raise")
    del out


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}

if __name__ == "__main__":
    run_checks(CHECKS)
