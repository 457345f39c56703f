"""Run under mpiexec: ``Trainer.fit`` on W ranks is one process's fit with batch W·b, logged once."""

import contextlib
import io
import os

import common
import numpy as np
from common import gathered, run_checks

import soma
import soma.distributed as dist
from soma import nn, optim
from soma.train import Trainer, accuracy

B = 3


def problem(n, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 3, n)


def model():
    soma.manual_seed(11)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))


def reference(x, y, xv, yv, batch, epochs):
    """One process, by hand: SGD on consecutive batches, the epoch loss weighted by batch size."""
    net, loss_fn = model(), nn.CrossEntropyLoss()
    opt = optim.SGD(net.parameters(), lr=0.1)
    logs = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(x), batch):
            xb, yb = soma.tensor(x[start : start + batch]), soma.tensor(y[start : start + batch])
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        with soma.no_grad():
            out = net(soma.tensor(xv))
            val_loss = loss_fn(out, soma.tensor(yv)).item()
        logs.append({"loss": total / len(x), "val_loss": val_loss, "val_accuracy": accuracy(yv, out.numpy())})
    return net, logs


def check_fit_matches_one_process_and_logs_the_same():
    w = dist.get_world_size()
    x, y = problem(w * B * 4, 1)
    xv, yv = problem(7, 2)  # 7 validation samples: the ranks' shares differ in size
    net = model()
    trainer = Trainer(net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1), metrics=[accuracy],
                      verbose=0)
    history = trainer.fit(x, y, epochs=2, batch_size=B, shuffle=False, validation_data=(xv, yv))
    ref, ref_logs = reference(x, y, xv, yv, w * B, 2)
    for mine, theirs in zip(net.parameters(), ref.parameters()):
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=2e-5, atol=2e-6)
    for key in ("loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history.history[key], [logs[key] for logs in ref_logs], rtol=2e-5, err_msg=key)
        copies = gathered(history.history[key])
        assert (copies == copies[0]).all(), f"{key} differs between ranks"
    scores = trainer.evaluate(xv, yv)
    np.testing.assert_allclose(scores["loss"], ref_logs[-1]["val_loss"], rtol=2e-5)


def check_shuffled_fit_keeps_ranks_identical():
    rank = dist.get_rank()
    soma.manual_seed(rank)  # different global generators: the shuffling seed must still be shared
    x, y = problem(30, 3)
    net = nn.Sequential(nn.Linear(5, 3))
    trainer = Trainer(net, nn.CrossEntropyLoss(), optim.Adam(net.parameters(), lr=0.01), verbose=0)
    trainer.fit(x, y, epochs=2, batch_size=4)
    copies = gathered(np.concatenate([p.detach().numpy().ravel() for p in net.parameters()]))
    assert (copies == copies[0]).all(), "the ranks' weights differ"


def check_progress_and_prints_on_rank_zero_only():
    x, y = problem(24, 4)
    net = model()
    trainer = Trainer(net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1), verbose=2)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        trainer.fit(x, y, epochs=2, batch_size=4)
        print("after fit")  # the ranks' own prints outside fit are theirs
    text = captured.getvalue()
    if dist.get_rank() == 0:
        assert "Epoch 1/2" in text and "Epoch 2/2" in text, text
    else:
        assert text == "after fit\n", repr(text)


def check_checkpoint_written_by_rank_zero_read_by_all():
    rank = dist.get_rank()
    x, y = problem(12, 5)
    net = model()
    trainer = Trainer(net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1), verbose=0)
    trainer.fit(x, y, epochs=1, batch_size=2)
    saved = [p.detach().numpy().copy() for p in net.parameters()]
    trainer.save_checkpoint(os.path.join(common.OUT, f"checkpoint-of-rank{rank}.safetensors"))
    with soma.no_grad():
        for p in net.parameters():
            p.fill_(float(rank))
    trainer.load_checkpoint(os.path.join(common.OUT, "checkpoint-of-rank0.safetensors"))
    written = sorted(f for f in os.listdir(common.OUT) if f.startswith("checkpoint-of"))
    assert written == ["checkpoint-of-rank0.safetensors"], written
    for p, value in zip(net.parameters(), saved):
        np.testing.assert_array_equal(p.detach().numpy(), value)
    assert trainer.epoch == 1


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}

if __name__ == "__main__":
    run_checks(CHECKS)
