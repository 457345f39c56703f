"""A process setting that makes NumPy fast for training, applied once when soma is imported.

It is a measured fix for a cost outside soma's own code, guarded so that it only
applies where it is safe, and it can be seen and undone from :mod:`soma.backend`.

**Keep freed memory for reuse** (glibc only). NumPy allocates a fresh buffer for
every intermediate array. glibc serves large ones (over 128 KiB, adaptively more)
with fresh pages from the kernel and returns them on free, so every training step
pays a page fault per 4 KiB of every large intermediate. Raising glibc's mmap and
trim thresholds keeps those pages in the process. Measured on the 2-core machine:
LeNet-5's training step 0.30x -> 0.65x of PyTorch's throughput, a small VGG
0.16x -> 0.34x; the MLP unchanged. The price: up to ``MEMORY_KEPT`` bytes of freed
memory may stay with the process instead of going back to the system.
"""

import ctypes
import sys

MEMORY_KEPT = 1 << 30  # bytes of freed memory glibc may keep (the mmap and trim thresholds)
_GLIBC_MMAP_THRESHOLD = -3  # mallopt parameter numbers from <malloc.h>
_GLIBC_TRIM_THRESHOLD = -1

applied = {"reuse_freed_memory": False}


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
    threshold = MEMORY_KEPT if enabled else 128 * 1024
    ok = bool(libc.mallopt(_GLIBC_MMAP_THRESHOLD, threshold)) and bool(
        libc.mallopt(_GLIBC_TRIM_THRESHOLD, threshold)
    )
    applied["reuse_freed_memory"] = ok and enabled
    return ok


reuse_freed_memory()
