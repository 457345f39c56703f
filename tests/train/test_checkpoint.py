"""Checkpoints: one safetensors file; resuming in a new process continues bit for bit."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import soma
import soma.nn as nn
import soma.optim as optim
from soma.train import Trainer, load_checkpoint, save_checkpoint

RUN = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import soma, soma.nn as nn, soma.optim as optim
    from soma.train import LRScheduler, Trainer, accuracy
    from soma.utils.data import DataLoader, TensorDataset

    mode, checkpoint, out = sys.argv[1:]
    rng = np.random.default_rng(123)
    X = rng.normal(size=(120, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    soma.manual_seed(999 if mode == "resume" else 0)  # a resumed run must not depend on this
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics=[accuracy],
                      callbacks=[LRScheduler(scheduler)], verbose=0)
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
    if mode == "full":
        trainer.fit(loader, epochs=4)
    elif mode == "first":
        trainer.fit(loader, epochs=2)
        trainer.save_checkpoint(checkpoint)
    else:
        start = trainer.load_checkpoint(checkpoint)
        trainer.fit(loader, epochs=4, initial_epoch=start)
    if mode != "first":
        soma.save(model.state_dict(), out + ".safetensors")
        moments = optimizer.state_dict()["state"][0]
        state = {k: np.asarray(v._array).tolist() for k, v in moments.items()}
        with open(out + ".json", "w") as f:
            json.dump({"history": trainer.history.history, "epoch": trainer.history.epoch,
                       "optimizer": state, "next": soma.rand(3).tolist()}, f)
    """
)


def _run(tmp_path, *args):
    script = tmp_path / "run.py"
    script.write_text(RUN)
    subprocess.run([sys.executable, str(script), *map(str, args)], check=True, timeout=120)


@pytest.mark.slow
def test_four_epochs_equal_two_plus_save_plus_load_in_a_new_process_plus_two(tmp_path):
    _run(tmp_path, "full", tmp_path / "unused", tmp_path / "full")
    _run(tmp_path, "first", tmp_path / "ckpt.safetensors", tmp_path / "unused")
    _run(tmp_path, "resume", tmp_path / "ckpt.safetensors", tmp_path / "resumed")
    full, resumed = (
        soma.load(tmp_path / "full.safetensors"),
        soma.load(tmp_path / "resumed.safetensors"),
    )
    assert full.keys() == resumed.keys()
    for key in full:
        np.testing.assert_array_equal(
            full[key].numpy(), resumed[key].numpy(), err_msg=key
        )  # bit for bit
    a = json.loads((tmp_path / "full.json").read_text())
    b = json.loads((tmp_path / "resumed.json").read_text())
    assert a == b  # history (losses, metrics, learning rates), optimizer moments, the RNG stream
    assert a["epoch"] == [0, 1, 2, 3]
    assert a["history"]["lr"] == pytest.approx([0.01, 0.007, 0.0049, 0.00343])


def _model(hidden=5):
    return nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 2), nn.BatchNorm1d(2))


def test_checkpoint_round_trip_restores_model_optimizer_rng_and_epoch(tmp_path):
    model = _model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(soma.randn(4, 3)).sum().backward()
    optimizer.step()
    save_checkpoint(tmp_path / "c.safetensors", model, optimizer, epoch=7, extra={"note": "x"})
    expected_rng = soma.rand(5).numpy()

    other = _model()
    other_optimizer = optim.SGD(other.parameters(), lr=0.5)
    soma.manual_seed(42)
    info = load_checkpoint(tmp_path / "c.safetensors", other, other_optimizer)
    assert info == {"epoch": 7, "extra": {"note": "x"}}
    for (name, a), b in zip(model.state_dict().items(), other.state_dict().values(), strict=True):
        assert a.shape == b.shape, name  # 0-d num_batches_tracked stays 0-d
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert other_optimizer.param_groups[0]["lr"] == 0.1
    assert other_optimizer.param_groups[0]["momentum"] == 0.9
    momentum = optimizer.state_dict()["state"][0]["momentum_buffer"]
    np.testing.assert_array_equal(
        other_optimizer.state_dict()["state"][0]["momentum_buffer"].numpy(), momentum.numpy()
    )
    np.testing.assert_array_equal(soma.rand(5).numpy(), expected_rng)


def test_checkpoint_of_a_different_model_is_a_clear_error(tmp_path):
    save_checkpoint(tmp_path / "c.safetensors", _model(hidden=5))
    target = _model(hidden=6)
    before = target.state_dict()["0.weight"].numpy().copy()
    with pytest.raises(
        ValueError,
        match=r"different model.*\n.*0.weight has shape \(5, 3\) in the checkpoint but \(6, 3\)",
    ):
        load_checkpoint(tmp_path / "c.safetensors", target)
    np.testing.assert_array_equal(target.state_dict()["0.weight"].numpy(), before)  # untouched
    with pytest.raises(ValueError, match="missing from the checkpoint: 4.weight, 4.bias"):
        load_checkpoint(tmp_path / "c.safetensors", nn.Sequential(*_model(), nn.Linear(2, 2)))


def test_a_plain_weights_file_is_not_a_checkpoint(tmp_path):
    soma.save(_model().state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="not a soma training checkpoint.*load_state_dict"):
        load_checkpoint(tmp_path / "w.safetensors", _model())


def test_checkpoint_file_is_plain_safetensors_without_pickle(tmp_path):
    model = _model()
    save_checkpoint(tmp_path / "c.safetensors", model, optim.Adam(model.parameters()), epoch=1)
    from safetensors.numpy import load_file

    assert {"model.0.weight", "rng_state"} <= set(load_file(tmp_path / "c.safetensors"))
    content = soma.load(tmp_path / "c.safetensors")
    assert content["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999) and content["epoch"] == 1
    assert b"pickle" not in (tmp_path / "c.safetensors").read_bytes()


def _corrupt(path, **changes):
    content = soma.load(path)
    content.update(changes)
    soma.save(content, path)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"epoch": "3"}, "epoch must be a non-negative integer, got '3'"),
        ({"epoch": -1}, "epoch must be a non-negative integer"),
        ({"rng_state": soma.zeros(3)}, "rng_state"),
        ({"rng_state": soma.tensor(np.frombuffer(b"not json", np.uint8).copy())}, "could not be applied.*set_rng_state"),
        ({"optimizer": None}, "holds no optimizer state"),
        ({"optimizer": {"state": {}, "param_groups": []}}, "could not be applied.*parameter groups"),
        ({"format": "other"}, "not a soma training checkpoint"),
    ],
)
def test_a_corrupt_checkpoint_changes_nothing(tmp_path, changes, message):
    model = _model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(soma.randn(4, 3)).sum().backward()
    optimizer.step()
    save_checkpoint(tmp_path / "c.safetensors", model, optimizer, epoch=2)
    _corrupt(tmp_path / "c.safetensors", **changes)
    target = _model()
    target_optimizer = optim.SGD(target.parameters(), lr=0.5)
    weights = {k: v.numpy().copy() for k, v in target.state_dict().items()}
    rng = soma.random.get_rng_state().numpy().copy()
    with pytest.raises(ValueError, match=message):
        load_checkpoint(tmp_path / "c.safetensors", target, target_optimizer)
    for key, value in target.state_dict().items():  # all or nothing: the model is untouched
        np.testing.assert_array_equal(value.numpy(), weights[key], err_msg=key)
    assert target_optimizer.param_groups[0]["lr"] == 0.5 and not target_optimizer.state_dict()["state"]
    np.testing.assert_array_equal(soma.random.get_rng_state().numpy(), rng)


def test_trainer_load_checkpoint_restores_history(tmp_path):
    model = _model()
    trainer = Trainer(
        model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), verbose=0
    )
    X, y = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32), np.arange(20) % 2
    trainer.fit(X, y, epochs=2)
    trainer.save_checkpoint(tmp_path / "t.safetensors")
    fresh = Trainer(
        _model(), nn.CrossEntropyLoss(), optim.SGD(_model().parameters(), lr=0.1), verbose=0
    )
    assert fresh.load_checkpoint(tmp_path / "t.safetensors") == 2
    assert fresh.history.history == trainer.history.history and fresh.history.epoch == [0, 1]
