"""Memory reuse: the process-wide glibc setting and the workspace pool of preallocated scratch arrays.

Both fight one cost: a fresh multi-megabyte array costs a page fault per 4 KiB page on first
touch, and NumPy makes a fresh array for every intermediate. On this project's virtual
machine that can dominate a whole training step. soma answers it in two ways, both here.

**Keep freed memory for reuse** (process-wide, glibc only), applied when soma is imported.
glibc serves large allocations (over 128 KiB, adaptively more) with fresh pages from the
kernel and returns them on free, so every training step faults in every large
intermediate again. Raising glibc's mmap and trim thresholds keeps those pages in the
process. Measured on the 2-core machine: LeNet-5's training step 0.30x -> 0.65x of
PyTorch's throughput, a small VGG 0.16x -> 0.34x; the MLP unchanged. The price: up to
``MEMORY_KEPT`` bytes of freed memory may stay with the process instead of going back to
the system. To leave glibc's defaults alone, set ``SOMA_KEEP_FREED_MEMORY=0`` in the
environment before importing soma, or call ``soma.backend.reuse_freed_memory(False)``
(``soma.backend.process_settings`` says what is in effect).

**The workspace pool** (:data:`POOL`), for kernels that know their scratch shapes: the
recurrent layers take their gate, state and gradient buffers from it and give them back,
so a training loop reuses the same pages every step (measured: 9 ms an LSTM step with
reuse, 300+ ms without). Backward's scratch goes back at its end; what a graph node saves
for backward goes back when the node lets go of it (after backward without
``retain_graph``, or when the node dies): :func:`saved` hands out a view whose death
returns the array.
"""

import ctypes
import os
import sys
import weakref

import numpy as np

__all__ = ["MEMORY_KEPT", "ENVIRONMENT_VARIABLE", "applied", "reuse_freed_memory", "Pool", "POOL", "saved"]

# ------------------------------------------------------------ the process-wide glibc setting
MEMORY_KEPT = 1 << 30  # bytes of freed memory glibc may keep (the mmap and trim thresholds)
ENVIRONMENT_VARIABLE = "SOMA_KEEP_FREED_MEMORY"  # "0" (or false/no/off): leave glibc's defaults at import
_GLIBC_MMAP_THRESHOLD = -3  # mallopt parameter numbers from <malloc.h>
_GLIBC_TRIM_THRESHOLD = -1
_GLIBC_DEFAULT_THRESHOLD = 128 * 1024

applied = {"reuse_freed_memory": False}  # what is in effect (soma.backend.process_settings)


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") else None
    except OSError:  # musl or another C library without glibc's mallopt
        return None


def reuse_freed_memory(enabled=True):
    """Keep (``True``) or return (``False``, glibc's defaults) freed memory; see the module doc.

    Returns whether the setting took effect (False where the C library is not glibc).
    """
    libc = _libc()
    if libc is None:
        return False
    threshold = MEMORY_KEPT if enabled else _GLIBC_DEFAULT_THRESHOLD
    ok = bool(libc.mallopt(_GLIBC_MMAP_THRESHOLD, threshold)) and bool(
        libc.mallopt(_GLIBC_TRIM_THRESHOLD, threshold)
    )
    applied["reuse_freed_memory"] = ok and enabled
    return ok


def _wanted_at_import():
    return os.environ.get(ENVIRONMENT_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off")


# ------------------------------------------------------------ the workspace pool
class Pool:
    """Free arrays by (array type, shape, dtype); at most ``per_key`` each, at most ``keys`` shapes."""

    def __init__(self, per_key=4, keys=64):
        self.free, self.per_key, self.keys = {}, per_key, keys

    def take(self, shape, dtype, like):
        """A free array of ``shape`` and ``dtype`` in ``like``'s backend (a fresh one if none is free)."""
        stack = self.free.get((type(like), shape, dtype))
        return stack.pop() if stack else np.empty(shape, dtype, like=like)

    def give(self, *arrays):
        """Return whole arrays (``None`` and views are skipped: a view's base is what was taken)."""
        for array in arrays:
            if array is None or array.base is not None:
                continue
            if len(self.free) > self.keys:
                self.free.clear()
            stack = self.free.setdefault((type(array), array.shape, array.dtype), [])
            if len(stack) < self.per_key and all(a is not array for a in stack):
                stack.append(array)


POOL = Pool()


def saved(array):
    """A view of the pooled ``array`` for ``save_for_backward``: the array returns to the pool
    when the last holder of the view (the graph node's saved_tensors) lets go of it."""
    if array is None:
        return None
    view = array[...]
    weakref.finalize(view, POOL.give, array)
    return view


if _wanted_at_import():
    reuse_freed_memory()
