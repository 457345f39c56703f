"""Preallocated workspace for the recurrent kernels: large scratch arrays reused across calls.

Fresh multi-megabyte arrays cost a page fault per 4 KiB page on first touch; on a
virtual machine that can dominate a whole training step (measured here: 9 ms with
reuse, 300+ ms without). Backward's scratch goes back to the pool at its end; what a
graph node saves for backward goes back when the node lets go of it (after backward
without ``retain_graph``, or when the node dies): :func:`saved` hands out a view whose
death returns the array.
"""

import contextlib
import weakref

import numpy as np

__all__ = ["POOL", "saved", "one_blas_thread"]


class Pool:
    """Free arrays by (array type, shape, dtype); at most ``per_key`` each, at most ``keys`` shapes."""

    def __init__(self, per_key=4, keys=64):
        self.free, self.per_key, self.keys = {}, per_key, keys

    def take(self, shape, dtype, like):
        """A free array of ``shape`` and ``dtype`` in ``like``'s backend (a fresh one if none is free)."""
        stack = self.free.get((type(like), shape, dtype))
        return stack.pop() if stack else np.empty(shape, dtype, like=like)

    def give(self, *arrays):
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


_blas = []  # the threadpoolctl controller, made on first use (it scans the loaded libraries once)


def one_blas_thread():
    """A context in which BLAS runs single-threaded: the per-step GEMMs of a recurrence are too small
    to split across threads (measured: (32, 128)x(128, 512) takes ~70 us on one thread, 2-6x that on
    two threads of a busy machine). Without threadpoolctl (``pip install soma[fast]``) it does nothing."""
    if not _blas:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas.append(None)
        else:
            _blas.append(ThreadpoolController())
    controller = _blas[0]
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")
