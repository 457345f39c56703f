"""Checkpoints that name their epoch, resumes that continue exactly, Ctrl-C, bad arguments, the display.

The interrupt tests send SIGINT to a real training subprocess; the display test runs one under a
pseudo-terminal of 80 columns.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import soma
import soma.nn as nn
import soma.optim as optim
from soma.train import Callback, CSVLogger, EarlyStopping, ModelCheckpoint, Trainer, accuracy
from soma.utils.data import DataLoader, TensorDataset


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def _trainer(callbacks, seed=0, lr=0.05):
    soma.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    return Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), metrics=[accuracy],
                   callbacks=callbacks, verbose=0)


class _Weights(Callback):
    """Records the model's weights at each epoch end (before checkpoints, which run last)."""

    def __init__(self):
        self.by_epoch = {}

    def on_epoch_end(self, epoch, logs=None):
        self.by_epoch[epoch + 1] = {k: v.numpy().copy() for k, v in self.trainer.model.state_dict().items()}


def test_a_checkpoint_holds_the_weights_of_the_epoch_it_names(tmp_path):
    X, y = _data()
    weights = _Weights()
    stop = EarlyStopping("loss", patience=1, min_delta=10.0, restore_best_weights=True)  # stops at epoch 2
    every = ModelCheckpoint(str(tmp_path / "e{epoch}.safetensors"), monitor="loss")
    best = ModelCheckpoint(tmp_path / "best.safetensors", monitor="loss", save_best_only=True)
    trainer = _trainer([weights, stop, every, best])
    trainer.fit(X, y, epochs=10, batch_size=16)
    assert stop.stopped_epoch == 1 and trainer.epoch == 2
    for epoch in (1, 2):
        saved = soma.load(tmp_path / f"e{epoch}.safetensors")
        assert saved["epoch"] == epoch
        for key, value in saved["model"].items():  # was epoch 1's weights in e2 (restored before the save)
            np.testing.assert_array_equal(value.numpy(), weights.by_epoch[epoch][key], err_msg=f"{epoch} {key}")
    saved = soma.load(tmp_path / "best.safetensors")
    for key, value in saved["model"].items():
        np.testing.assert_array_equal(value.numpy(), weights.by_epoch[saved["epoch"]][key])
    for key, value in trainer.model.state_dict().items():  # and the model ends with the best weights
        np.testing.assert_array_equal(value.numpy(), weights.by_epoch[1][key])


def _stopper():
    return EarlyStopping("val_loss", patience=2, min_delta=1e-3)


def test_callback_state_survives_a_resume_whatever_the_order(tmp_path):
    X, y = _data(80)
    fit = dict(batch_size=16, validation_split=0.25, shuffle=False)
    full = _trainer([_stopper(), CSVLogger(tmp_path / "a.csv")], lr=0.5)
    full.fit(X, y, epochs=40, **fit)
    stopped = len(full.history.epoch)
    assert 3 < stopped < 40  # the run does stop early
    first = _trainer([_stopper(), CSVLogger(tmp_path / "b.csv")], lr=0.5)
    first.fit(X, y, epochs=stopped - 1, **fit)
    first.save_checkpoint(tmp_path / "c.safetensors")
    # the callbacks listed in another order, as users do
    resumed = _trainer([CSVLogger(tmp_path / "b.csv", append=True), _stopper()], seed=7, lr=0.5)
    start = resumed.load_checkpoint(tmp_path / "c.safetensors")
    state = resumed.callbacks[1].state_dict()
    assert (state["wait"], state["best"]) == (first.callbacks[0].wait, first.callbacks[0].best)
    resumed.fit(X, y, epochs=40, initial_epoch=start, **fit)
    assert resumed.history.epoch == full.history.epoch  # no epoch an uninterrupted run would not train
    assert resumed.history.history["val_loss"] == full.history.history["val_loss"]


def test_unmatched_callback_state_warns(tmp_path):
    X, y = _data()
    trainer = _trainer([EarlyStopping("loss", patience=3)])
    trainer.fit(X, y, epochs=1, batch_size=16)
    trainer.save_checkpoint(tmp_path / "c.safetensors")
    other = _trainer([EarlyStopping("val_accuracy", patience=3)])
    with pytest.warns(UserWarning, match=r"no state for EarlyStopping\[val_accuracy,max\]"):
        other.load_checkpoint(tmp_path / "c.safetensors")
    with pytest.warns(UserWarning, match=r"does not have: EarlyStopping\[loss,min\]"):
        other.fit(X, y, epochs=2, initial_epoch=1, batch_size=16, validation_split=0.2)
    # a state whose callback comes with fit(callbacks=...) finds it there, silently
    late = _trainer([])
    late.load_checkpoint(tmp_path / "c.safetensors")
    stopper = EarlyStopping("loss", patience=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        late.fit(X, y, epochs=2, initial_epoch=1, batch_size=16, callbacks=[stopper])
    assert stopper.best < 1e9 and len(late.history.epoch) == 2


def test_a_corrupt_trainer_checkpoint_changes_nothing(tmp_path):
    X, y = _data()
    trainer = _trainer([EarlyStopping("loss", patience=3)])
    trainer.fit(X, y, epochs=2, batch_size=16)
    trainer.save_checkpoint(tmp_path / "c.safetensors")
    content = soma.load(tmp_path / "c.safetensors")
    content["extra"]["callbacks"]["EarlyStopping[loss,min]"]["wait"] = "x"  # fails when applied
    soma.save(content, tmp_path / "c.safetensors")
    fresh = _trainer([EarlyStopping("loss", patience=3)], seed=3)
    before = {k: v.numpy().copy() for k, v in fresh.model.state_dict().items()}
    with pytest.raises(ValueError, match="could not be applied, nothing was changed"):
        fresh.load_checkpoint(tmp_path / "c.safetensors")
    for key, value in fresh.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])
    assert fresh.history.epoch == [] and fresh.epoch == 0 and fresh.callbacks[0].best == float("inf")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": -1}, "epochs must be a non-negative integer"),
        ({"epochs": 2.5}, "epochs must be a non-negative integer"),
        ({"epochs": 2, "initial_epoch": 3}, "initial_epoch must be an integer from 0 to epochs=2"),
        ({"batch_size": None}, "batch_size must be a positive integer, got None"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"validation_split": 0.99}, "leaves 0 of the 5 samples for training"),
    ],
)
def test_bad_fit_arguments_are_clear_errors(kwargs, message):
    X, y = _data(5)
    with pytest.raises(ValueError, match=message):
        _trainer([]).fit(X, y, **{"epochs": 1, **kwargs})


def test_empty_training_data_is_a_clear_error():
    with pytest.raises(ValueError, match="training data is empty"):
        _trainer([]).fit(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), epochs=1)
    empty = TensorDataset(soma.zeros(0, 4), soma.zeros(0, dtype=soma.int64))
    with pytest.raises(ValueError, match="dataset is empty.*nothing to shuffle"):
        DataLoader(empty, batch_size=4, shuffle=True)
    with pytest.raises(ValueError, match="training data is empty"):
        _trainer([]).fit(DataLoader(empty, batch_size=4), epochs=1)


TRAIN = textwrap.dedent(
    """
    import sys, time, numpy as np, soma, soma.nn as nn, soma.optim as optim
    from soma.train import Callback, CSVLogger, ModelCheckpoint, Trainer

    folder, stall, until_ctrl_c = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "until-ctrl-c"

    class Pace(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if self.trainer.epoch == 2 and batch == 3:
                print("ready", flush=True)
                deadline = time.monotonic() + stall  # a long step: the Ctrl-C arrives inside it, however late
                while time.monotonic() < deadline and not (until_ctrl_c and self.trainer._interrupt.requested):
                    time.sleep(0.01)
            time.sleep(0.01)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), verbose=0,
                      callbacks=[Pace(), CSVLogger(folder + "/log.csv"),
                                 ModelCheckpoint(folder + "/ckpt-{epoch}.safetensors", monitor="loss")])
    history = trainer.fit(X, y, epochs=50, batch_size=10)
    print("returned", trainer.interrupted, history.epoch, flush=True)
    """
)


def _train_and_interrupt(tmp_path, stall, signals):
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    mode = "until-ctrl-c" if signals == 1 else "sleep"  # a second Ctrl-C must find the step still running
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(stall), mode],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "ready\n"
    process.send_signal(signal.SIGINT)
    seen = process.stderr.readline() + process.stderr.readline()  # a blank line, then the notice
    assert "Ctrl-C: stopping after this step" in seen
    if signals == 2:
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, seen + err


@pytest.mark.slow
def test_ctrl_c_stops_training_gracefully(tmp_path):
    code, out, err = _train_and_interrupt(tmp_path, stall=60.0, signals=1)
    assert code == 0, err
    assert "Traceback" not in err
    last = tmp_path / "ckpt-2.safetensors"
    assert f"interrupted at epoch 3, step 4; last checkpoint: {last}" in err  # the step in flight finished
    assert out.splitlines()[-1] == "returned True [0, 1]"  # the history of the complete epochs
    assert soma.load(last)["epoch"] == 2 and not (tmp_path / "ckpt-3.safetensors").exists()
    rows = (tmp_path / "log.csv").read_text().splitlines()  # closed by on_train_end, flushed
    assert [row.split(",")[0] for row in rows] == ["epoch", "0", "1"]


@pytest.mark.slow
def test_a_second_ctrl_c_aborts_at_once(tmp_path):
    code, out, err = _train_and_interrupt(tmp_path, stall=30.0, signals=2)
    assert code != 0 and "KeyboardInterrupt" in err and "returned" not in out
    assert soma.load(tmp_path / "ckpt-2.safetensors")["epoch"] == 2  # the last good checkpoint is intact
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


DISPLAY = textwrap.dedent(
    """
    import numpy as np, soma, soma.nn as nn, soma.optim as optim
    from soma.train import EarlyStopping, Trainer, accuracy, top_k_accuracy
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.2),
                      metrics=[accuracy, top_k_accuracy], callbacks=[EarlyStopping(patience=0, min_delta=1.0)])
    trainer.fit(X, y, epochs=3, batch_size=20, validation_split=0.2)
    """
)


def _screen(raw):
    """The lines a terminal shows: each carriage return rewrites its line; escapes drop out."""
    import re

    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw).replace("\r\n", "\n")
    return [([part for part in line.split("\r") if part] or [""])[-1] for line in text.split("\n")]


def test_progress_fits_an_80_column_terminal(tmp_path):
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([sys.executable, "-c", DISPLAY], stdin=follower, stdout=follower, stderr=follower,
                               env=env, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 0
    os.close(leader)
    lines = [line for line in _screen(b"".join(chunks).decode()) if line.strip()]
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert sum(line.startswith("Epoch 1/3") for line in lines) == 1
    text = " ".join(lines)
    for key in ("loss", "accuracy", "top_k_accuracy", "val_loss", "val_accuracy", "val_top_k_accuracy", "lr"):
        assert f" {key}: " in f" {text}", key
    assert "early stopping: val_loss has not improved" in text


def test_redirected_output_is_one_clean_line_per_epoch(capfd):
    X, y = _data()
    trainer = _trainer([])
    trainer.fit(X, y, epochs=3, batch_size=16, validation_split=0.2, verbose=1)
    lines = capfd.readouterr().out.splitlines()
    assert len(lines) == 3 and all("\r" not in line and "val_accuracy: " in line for line in lines)


def test_the_bar_shows_the_running_mean_of_the_loss():
    from soma.train.progress import ProgressBar

    class Terminal:
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

        def isatty(self):
            return True

    class Stub:
        params = {"epochs": 1, "steps": 2, "verbose": 1}

    bar = ProgressBar(file=Terminal())
    bar.set_trainer(Stub())
    bar.on_train_begin()
    bar.on_epoch_begin(0)
    bar.on_train_batch_end(0, {"loss": 1.0, "size": 3})
    bar.on_train_batch_end(1, {"loss": 2.0, "size": 1})
    assert bar._bar.postfix == "loss: 1.2500"  # (3·1 + 1·2) / 4, not the last batch's 2.0
    bar.on_epoch_end(0, {"loss": 1.25, "val_loss": 1.5})
    assert "val_loss: 1.5000" in bar.file.text


def test_early_stopping_says_when_why_and_which_weights(capsys):
    X, y = _data()
    trainer = _trainer([EarlyStopping("loss", patience=1, min_delta=10.0, restore_best_weights=True, verbose=1)])
    trainer.fit(X, y, epochs=5, batch_size=16)
    assert capsys.readouterr().out.strip() == (
        f"Epoch 2: early stopping: loss has not improved for 1 epochs (patience 1)\n  best loss "
        f"{trainer.history.history['loss'][0]:.4f} at epoch 1; restored the weights of epoch 1"
    )


def test_history_records_json_safe_numbers(tmp_path):
    X, y = _data()
    trainer = _trainer([])
    trainer.fit(X, y, epochs=1, batch_size=16)
    json.dumps(trainer.history.history)


def test_ctrl_c_at_the_end_of_an_epoch_keeps_that_epoch_and_its_checkpoint(tmp_path, capsys):
    class CtrlC(Callback):
        order = -20  # before the checkpoint of the same epoch

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)  # e.g. during validation

    X, y = _data()
    saver = ModelCheckpoint(str(tmp_path / "c{epoch}.safetensors"), monitor="loss")
    trainer = _trainer([CtrlC(), saver])
    history = trainer.fit(X, y, epochs=5, batch_size=16)
    assert trainer.interrupted and history.epoch == [0, 1] and trainer.epoch == 2
    assert soma.load(tmp_path / "c2.safetensors")["epoch"] == 2
    assert f"interrupted at epoch 2, step 4; last checkpoint: {tmp_path / 'c2.safetensors'}" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back after fit

