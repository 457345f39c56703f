"""The process group: which MPI communicator soma's collectives run on, and how long they may wait.

``init_process_group(backend="mpi")`` wires every process that ``mpiexec`` (or
``soma run``) started into one group of ``W = get_world_size()`` ranks. MPI has
already told each process who it is, so nothing else is needed: no address,
port or rendezvous file (``init_method``, ``store`` are for other backends).

Failure, not hang. Two things turn a broken rank into a failed job:

* an exception nobody catches on any rank prints that rank's traceback, then
  aborts every rank (``MPI_Abort``), so ``mpiexec`` exits non-zero instead of
  the other ranks waiting forever for a collective that will never come;
* every collective waits at most ``timeout`` (30 minutes by default, as in
  PyTorch; ``init_process_group(timeout=timedelta(seconds=60))`` for less), then
  raises :class:`DistBackendError` naming the call and the rank, which in turn
  aborts the job.
"""

import datetime
import importlib.util
import os
import stat
import sys
import time
import traceback

__all__ = [
    "Backend",
    "DistBackendError",
    "DistError",
    "GroupMember",
    "ProcessGroup",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
]

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)
_INSTALL_HINT = "soma.distributed needs mpi4py and an MPI library: pip install soma[distributed]"


class DistError(RuntimeError):
    """Base class of the errors the distributed package raises (as ``torch.distributed.DistError``)."""


class DistBackendError(DistError):
    """A collective failed or timed out (as ``torch.distributed.DistBackendError``)."""


class Backend:
    """Backend names. soma has one: ``"mpi"``."""

    MPI = "mpi"


class ProcessGroup:
    """A communicator with its rank, size and timeout (the default group is ``GroupMember.WORLD``)."""

    def __init__(self, comm, timeout):
        self.comm = comm
        self.timeout = timeout

    def rank(self):
        return self.comm.Get_rank()

    def size(self):
        return self.comm.Get_size()

    def __repr__(self):
        return f"ProcessGroup(backend='mpi', rank={self.rank()}, size={self.size()})"


class GroupMember:
    """``GroupMember.WORLD``: the default group, ``None`` until :func:`init_process_group`."""

    WORLD = None


def is_available():
    """Whether the distributed package can run here (mpi4py is installed)."""
    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available


def _mpi():
    """The ``mpi4py.MPI`` module (importing it initializes MPI), or an error naming the extra."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(f"{_INSTALL_HINT} ({error})") from error
    return MPI


def is_initialized():
    """Whether :func:`init_process_group` has run (and :func:`destroy_process_group` has not)."""
    return GroupMember.WORLD is not None


def _default_group(group=None):
    if group is not None:
        if not isinstance(group, ProcessGroup):
            raise TypeError(f"group must be a ProcessGroup or None, got {type(group).__name__}")
        return group
    if GroupMember.WORLD is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call init_process_group."
        )
    return GroupMember.WORLD


def _seconds(timeout):
    if timeout is None:
        return DEFAULT_TIMEOUT.total_seconds()
    seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)
    if not seconds > 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
    return seconds


def init_process_group(
    backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None, group_name="", **kwargs
):
    """Join the group of every process ``mpiexec`` started (``backend="mpi"``).

    Args:
        backend: ``"mpi"`` or ``None`` (the same). Other PyTorch backends
            (``"gloo"``, ``"nccl"``) are not part of soma.
        timeout: a ``datetime.timedelta`` (or seconds) that bounds every collective.
        world_size, rank: if given, they must be what MPI reports (a check on the launch).
        init_method, store, group_name: accepted for PyTorch compatibility; MPI needs none.

    Environment: ``SOMA_DISTRIBUTED_TIMEOUT`` (seconds) sets the default timeout.
    """
    if backend is not None and str(backend).lower() != Backend.MPI:
        raise ValueError(f"init_process_group: soma supports backend='mpi' (through mpi4py), got {backend!r}")
    if is_initialized():
        raise ValueError("trying to initialize the default process group twice!")
    if timeout is None and os.environ.get("SOMA_DISTRIBUTED_TIMEOUT"):
        timeout = float(os.environ["SOMA_DISTRIBUTED_TIMEOUT"])
    seconds = _seconds(timeout)
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()  # soma's own communicator: user MPI traffic cannot cross ours
    for name, given, actual in (("world_size", world_size, comm.Get_size()), ("rank", rank, comm.Get_rank())):
        if given is not None and given >= 0 and given != actual:
            comm.Free()
            raise ValueError(
                f"init_process_group: {name}={given} but MPI started this process with {name} {actual}; "
                "launch with `soma run -n N script.py` or `mpiexec -n N python script.py`"
            )
    GroupMember.WORLD = ProcessGroup(comm, seconds)
    _install_abort_on_error()


def destroy_process_group(group=None):
    """Leave the group: collectives raise again until :func:`init_process_group` (MPI itself stays up)."""
    pg = _default_group(group)
    if pg is GroupMember.WORLD:
        GroupMember.WORLD = None
        _uninstall_abort_on_error()
    pg.comm.Free()


def get_rank(group=None):
    """This process's rank, ``0 .. W-1``."""
    return _default_group(group).rank()


def get_world_size(group=None):
    """The number of processes ``W`` in the group."""
    return _default_group(group).size()


def get_backend(group=None):
    _default_group(group)
    return Backend.MPI


# ------------------------------------------------------------------ waiting with a deadline
def wait(requests, what, group=None):
    """Wait for MPI requests, at most the group's timeout; on timeout raise :class:`DistBackendError`.

    Polls with ``MPI_Testall`` (which also drives MPI's progress) and backs off to
    sleeping, so ranks oversubscribing a few cores leave them to the ranks that work.
    """
    MPI = _mpi()
    pg = _default_group(group)
    deadline = time.monotonic() + pg.timeout
    spins = 0
    while not MPI.Request.Testall(requests):
        if time.monotonic() > deadline:
            raise DistBackendError(
                f"{what} timed out after {pg.timeout:g} s on rank {pg.rank()} of {pg.size()}: another rank "
                "failed, exited or never reached this call (every rank must make the same collective calls "
                "in the same order)"
            )
        spins += 1
        if spins < 64:
            os.sched_yield()
        else:  # 1 us, doubling to 1 ms
            time.sleep(min(1e-3, 1e-6 * 2 ** min(spins - 64, 10)))


# ------------------------------------------------------------------ a failing rank fails the job
_previous_excepthook = None


def _abort_on_error(kind, value, tb):
    """``sys.excepthook`` while the group is up: print the traceback with the rank, then abort all ranks."""
    pg = GroupMember.WORLD
    if pg is None or issubclass(kind, KeyboardInterrupt):  # Ctrl-C reaches every rank from mpiexec itself
        (_previous_excepthook or sys.__excepthook__)(kind, value, tb)
        return
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(f"[soma.distributed rank {pg.rank()}] uncaught exception, aborting every rank:\n{text}")
    sys.stderr.flush()
    _wait_until_read(sys.stderr.fileno(), within_s=5.0)
    _mpi().COMM_WORLD.Abort(1)


def _wait_until_read(fd, within_s):
    """Wait until the reader of pipe ``fd`` has taken everything written to it (at most ``within_s``).

    mpiexec forwards a rank's stderr through a pipe; an abort tears the job down at once, and a
    traceback still in the pipe would be lost, leaving a failed job that says nothing.
    """
    try:
        import fcntl
        import termios

        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
        deadline = time.monotonic() + within_s
        while fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0") != b"\0\0\0\0" and time.monotonic() < deadline:
            time.sleep(1e-3)
    except (ImportError, OSError):  # no pipe we can ask (or no fcntl, on Windows): nothing to wait for
        return
    time.sleep(0.05)  # and let the forwarder pass it on before the abort reaches it


def _install_abort_on_error():
    global _previous_excepthook
    if sys.excepthook is not _abort_on_error:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_error


def _uninstall_abort_on_error():
    global _previous_excepthook
    if sys.excepthook is _abort_on_error:
        sys.excepthook = _previous_excepthook or sys.__excepthook__
    _previous_excepthook = None
