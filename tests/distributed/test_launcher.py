"""``soma run -n N script.py args...`` and the mpiexec command line it builds."""

import sys
import textwrap

import pytest

from soma import cli
from soma.distributed import launch

SCRIPT = textwrap.dedent(
    """
    import sys
    import soma.distributed as dist

    dist.init_process_group("mpi")
    print(f"rank {dist.get_rank()} of {dist.get_world_size()} got {sys.argv[1:]}", flush=True)
    sys.exit(int(sys.argv[-1]))
    """
)


@pytest.mark.slow
def test_soma_run_starts_n_ranks_with_the_arguments(tmp_path, capfd):
    pytest.importorskip("mpi4py", reason="needs soma[distributed]")
    script = tmp_path / "hello.py"
    script.write_text(SCRIPT)
    assert cli.main(["run", "-n", "2", str(script), "--lr", "0.1", "0"]) == 0
    out = capfd.readouterr().out
    for rank in (0, 1):
        assert f"rank {rank} of 2 got ['--lr', '0.1', '0']" in out
    assert cli.main(["run", "-n", "2", str(script), "3"]) != 0  # a failing script fails the launch


def test_command_line(monkeypatch):
    monkeypatch.setenv("SOMA_MPIEXEC", "/opt/mpi/bin/mpiexec")
    monkeypatch.setattr(launch, "_is_open_mpi", lambda mpiexec: False)
    assert launch.mpiexec_command(4, ["train.py", "-x"]) == [
        "/opt/mpi/bin/mpiexec", "-n", "4", sys.executable, "train.py", "-x"
    ]
    monkeypatch.setattr(launch, "_is_open_mpi", lambda mpiexec: True)
    assert "--oversubscribe" in launch.mpiexec_command(4, ["train.py"])
    with pytest.raises(ValueError, match="-n must be a positive number of processes, got 0"):
        launch.mpiexec_command(0, ["train.py"])


def test_without_mpiexec_the_error_names_the_extra(monkeypatch, capsys):
    monkeypatch.delenv("SOMA_MPIEXEC", raising=False)
    monkeypatch.setattr(launch, "find_mpiexec", lambda: None)
    assert cli.main(["run", "-n", "2", "train.py"]) == 1
    assert "pip install soma[distributed]" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["run", "-n", "0", "train.py"])
