"""Fixtures for the multi-process tests: run a worker script under ``mpiexec -n W``, bounded in time."""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import soma.distributed as dist

WORKERS = Path(__file__).parent / "workers"


@pytest.fixture
def mpi_run(tmp_path):
    """``mpi_run(n, script, *args, timeout_s=...)`` -> CompletedProcess; never hangs past ``limit``."""
    pytest.importorskip("mpi4py", reason="the multi-process tests need soma[distributed]")
    from soma.distributed.launch import mpiexec_command

    def run(n, script, *args, timeout_s=60, limit=240):
        env = dict(os.environ, SOMA_DISTRIBUTED_TIMEOUT=str(timeout_s), OMP_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        command = mpiexec_command(n, [str(WORKERS / script), *map(str, args)], python=sys.executable)
        return subprocess.run(command, capture_output=True, text=True, timeout=limit, env=env, cwd=tmp_path)

    return run


@pytest.fixture
def mpi_checks(mpi_run, tmp_path):
    """``mpi_checks(n, script)``: run every check of a worker on ``n`` ranks; fail listing what failed."""

    def run(n, script, *checks):
        out = tmp_path / f"results-{n}"
        out.mkdir()
        done = mpi_run(n, script, out, *checks)
        log = f"mpiexec exit {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
        files = sorted(out.glob("rank*.json"))
        assert len(files) == n, f"{len(files)} of {n} ranks wrote results\n{log}"
        results = {f.stem: json.loads(f.read_text()) for f in files}
        failed = [f"{rank} {r['check']}:\n{r['error']}" for rank, rs in results.items() for r in rs if not r["ok"]]
        assert not failed, "\n".join(failed) + "\n" + log
        assert done.returncode == 0, log
        return {r["check"] for rs in results.values() for r in rs}

    return run


@pytest.fixture
def group():
    """A process group of this one process (MPI's singleton mode): collectives are the identity."""
    pytest.importorskip("mpi4py", reason="needs soma[distributed]")
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=30))
    yield dist.group.WORLD
    dist.destroy_process_group()
