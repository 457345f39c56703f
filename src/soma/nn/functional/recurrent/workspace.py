"""The recurrent kernels' workspace: the pool of preallocated scratch arrays, and one BLAS thread.

The pool itself (:data:`POOL`, :func:`saved`) is soma's one workspace allocator, in
:mod:`soma._memory` beside the process-wide glibc setting that fights the same page
faults; it is re-exported here for the kernels. What is the recurrence's own is
:func:`one_blas_thread`.
"""

import contextlib

from soma._memory import POOL, saved
from soma._runtime import blas_controller

__all__ = ["POOL", "saved", "one_blas_thread"]


def one_blas_thread():
    """A context in which BLAS runs single-threaded: the per-step GEMMs of a recurrence are too small
    to split across threads (measured: (32, 128)x(128, 512) takes ~70 us on one thread, 2-6x that on
    two threads of a busy machine). Without threadpoolctl (``pip install soma[fast]``) it does nothing."""
    controller = blas_controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")
