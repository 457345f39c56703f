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


def test_the_abort_waits_until_the_traceback_has_left_the_pipe():
    # mpiexec forwards stderr through a pipe, and an abort tears the job down at once: what is
    # still in the pipe then is lost, and the job fails saying nothing (seen once on CI)
    import os
    import threading

    from soma.distributed.process_group import _wait_until_read

    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"Traceback ...\n" * 100)
        taken = []
        reader = threading.Timer(0.2, lambda: taken.append(os.read(read_end, 1 << 16)))
        reader.start()
        _wait_until_read(write_end, within_s=60)
        assert taken == [b"Traceback ...\n" * 100]  # it returned only once the reader had it all
        reader.join()
        os.write(write_end, b"never read")
        _wait_until_read(write_end, within_s=0.01)  # a reader that never comes: it gives up
        with open(os.devnull, "w") as devnull:
            _wait_until_read(devnull.fileno(), within_s=60)  # not a pipe: nothing to wait for
    finally:
        os.close(read_end)
        os.close(write_end)
