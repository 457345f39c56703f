"""A rank that fails makes the whole job fail with its error, in bounded time, instead of hanging."""

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("world", [2, 4])
def test_a_rank_that_raises_fails_the_job_with_its_error(mpi_run, world):
    # a long collective timeout: the job must end through the abort, not by timing out
    done = mpi_run(world, "failures.py", "raise", timeout_s=120)
    assert done.returncode != 0
    assert f"ValueError: rank {world - 1} fails on purpose at step 1" in done.stderr
    assert f"[soma.distributed rank {world - 1}] uncaught exception" in done.stderr
    assert "timed out" not in done.stderr + done.stdout
    assert "every rank finished" not in done.stdout


@pytest.mark.slow
def test_a_rank_that_stalls_fails_the_job_by_timeout(mpi_run):
    done = mpi_run(2, "failures.py", "stall", timeout_s=3)
    assert done.returncode != 0
    assert "DistBackendError: DistributedDataParallel gradient all-reduce timed out after 3 s on rank 0 of 2" in (
        done.stderr
    )
    assert "every rank finished" not in done.stdout
