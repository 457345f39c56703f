"""``soma run -n N script.py args...``: start ``N`` ranks of a script under the environment's ``mpiexec``.

The ``mpiexec`` used is, in order: ``$SOMA_MPIEXEC``; the one installed beside
this Python (the ``mpich`` wheel of ``soma[distributed]`` puts it there, and it
matches the MPI library mpi4py loads); the first ``mpiexec`` on ``PATH`` (a
system MPI). Each rank runs this same Python. Open MPI gets the flags it needs
to run more ranks than cores (``--oversubscribe``) and, as root, to run at all.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["find_mpiexec", "mpiexec_command", "run"]


def find_mpiexec():
    """The path of the ``mpiexec`` to use, or ``None``."""
    given = os.environ.get("SOMA_MPIEXEC")
    if given:
        return given
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    return shutil.which("mpiexec") or shutil.which("mpirun")


def _is_open_mpi(mpiexec):
    try:
        version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in version or "OpenRTE" in version or "Open RTE" in version


def mpiexec_command(n, argv, mpiexec=None, python=None):
    """The command line that runs ``python argv...`` on ``n`` ranks; raises if no ``mpiexec`` is found."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"soma run: -n must be a positive number of processes, got {n!r}")
    mpiexec = mpiexec or find_mpiexec()
    if mpiexec is None:
        raise RuntimeError(
            "soma run: no mpiexec found; pip install soma[distributed] (mpi4py and the MPICH wheel), "
            "or install an MPI and put its mpiexec on PATH (or set SOMA_MPIEXEC)"
        )
    flags = []
    if _is_open_mpi(mpiexec):
        flags.append("--oversubscribe")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--allow-run-as-root")
    return [mpiexec, *flags, "-n", str(n), python or sys.executable, *argv]


def run(n, argv, timeout=None):
    """Run ``argv`` (a script and its arguments) on ``n`` ranks; returns ``mpiexec``'s exit code."""
    return subprocess.run(mpiexec_command(n, argv), timeout=timeout).returncode
