"""examples/distributed_digits.py prints the same test accuracy on 1 and 2 processes."""

import re
import subprocess
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "distributed_digits.py"


@pytest.mark.slow
def test_two_processes_print_one_process_accuracy():
    pytest.importorskip("mpi4py", reason="needs soma[distributed]")
    pytest.importorskip("sklearn", reason="the digits come with soma[data]")
    from soma.distributed.launch import mpiexec_command

    args = [str(EXAMPLE), "--epochs", "1", "--samples", "64", "--batch", "32"]  # two steps
    lines = {}
    for n in (1, 2):
        done = subprocess.run(mpiexec_command(n, args), capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        found = re.findall(r"(\d) process(?:es)? x batch (\d+): (test accuracy .*)", done.stdout)
        assert len(found) == 1, done.stdout  # printed by rank 0 only
        lines[n] = found[0]
    assert lines[1][:2] == ("1", "32") and lines[2][:2] == ("2", "16")
    assert lines[1][2] == lines[2][2]  # accuracy and loss, to 4 decimals
