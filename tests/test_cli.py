"""The `soma` command: help, demo, and dispatch to explain and bench."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import soma.cli
from soma.cli import main


def test_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "soma.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for command in ("demo", "explain", "bench"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), result.stdout


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: soma" in capsys.readouterr().out


def test_demo_one_epoch_prints_test_accuracy_and_saves_files(tmp_path, capsys):
    assert main(["demo", "--epochs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    match = re.search(r"^test accuracy: (0\.\d{4}|1\.0000)$", out, re.MULTILINE)
    assert match and float(match.group(1)) > 0.5, out
    assert "Epoch 1/1" in out and "Total params" in out
    for name in ("model.safetensors", "history.png", "confusion_matrix.png", "predictions.png"):
        assert (tmp_path / name).stat().st_size > 0
        assert str(tmp_path / name) in out  # says where


def test_demo_on_iris(tmp_path, capsys):
    assert main(["demo", "--data", "iris", "--epochs", "30", "--out", str(tmp_path)]) == 0
    accuracy = float(re.search(r"test accuracy: ([\d.]+)", capsys.readouterr().out).group(1))
    assert accuracy >= 0.9


def test_demo_rejects_bad_options(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--data", "cifar"])
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--epochs", "0"])


def test_explain_receives_the_rest_of_the_arguments(monkeypatch):
    import soma.explain.cli

    seen = []
    monkeypatch.setattr(soma.explain.cli, "main", lambda argv: seen.append(argv) or 3)
    assert main(["explain", "xor", "--format", "markdown"]) == 3
    assert seen == [["xor", "--format", "markdown"]]


def test_bench_runs_the_benchmarks_package_of_the_checkout(monkeypatch):
    calls = []
    monkeypatch.setattr(
        soma.cli.subprocess,
        "run",
        lambda command, cwd, env: (
            calls.append((command, cwd)) or subprocess.CompletedProcess(command, 0)
        ),
    )
    assert main(["bench", "--quick"]) == 0
    command, cwd = calls[0]
    assert command[1:] == ["-m", "benchmarks", "--quick"]
    assert (Path(cwd) / "benchmarks" / "__main__.py").exists()
