"""soma._memory: the process-wide glibc setting (on at import, off with SOMA_KEEP_FREED_MEMORY=0 or a call) and the
workspace pool. The glibc setting is observed, not just its flag: with it a 64 MiB malloc comes from the heap, without
it from a fresh mmap (glibc's mallinfo2 counts those), 64 MiB being above the largest threshold glibc adapts to."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import soma
from soma._memory import POOL, Pool, saved

GLIBC = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")

PROBE = textwrap.dedent("""
    import ctypes, json
    import soma
    libc = ctypes.CDLL("libc.so.6")
    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks "
                    "fordblks keepcost".split()]
    libc.mallinfo2.restype = MallInfo2
    libc.malloc.restype = ctypes.c_void_p
    def mmapped():  # does a 64 MiB block come from a fresh mmap?
        before = libc.mallinfo2().hblks
        block = libc.malloc(64 << 20)
        after = libc.mallinfo2().hblks
        libc.free(ctypes.c_void_p(block))
        libc.malloc_trim(0)  # the freed block must not serve the next probe
        return after > before
    first = (soma.backend.process_settings["reuse_freed_memory"], mmapped())
    soma.backend.reuse_freed_memory(False)
    second = (soma.backend.process_settings["reuse_freed_memory"], mmapped())
    soma.backend.reuse_freed_memory(True)
    third = (soma.backend.process_settings["reuse_freed_memory"], mmapped())
    print(json.dumps([first, second, third]))
""")


def _probe(value):
    env = {k: v for k, v in os.environ.items() if k != "SOMA_KEEP_FREED_MEMORY"}
    if value is not None:
        env["SOMA_KEEP_FREED_MEMORY"] = value
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [tuple(step) for step in json.loads(done.stdout)]


KEPT, RETURNED = (True, False), (False, True)  # (the flag soma reports, whether 64 MiB came from an mmap)


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's mallopt")
def test_freed_memory_is_kept_by_default_and_the_call_undoes_and_redoes_it():
    assert _probe(None) == [KEPT, RETURNED, KEPT]


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's mallopt")
@pytest.mark.parametrize("value", ["0", "off"])
def test_the_environment_variable_leaves_glibcs_defaults(value):
    assert _probe(value) == [RETURNED, RETURNED, KEPT]  # off at import; the call still turns it on


def test_the_pool_hands_back_what_it_was_given():
    pool = Pool(per_key=2, keys=4)
    f32 = np.dtype(np.float32)  # the kernels pass array dtypes
    a = pool.take((3, 4), f32, np.empty(0))
    assert a.shape == (3, 4) and a.dtype == f32
    pool.give(a, a, None, a[1:])  # the same array twice, nothing, and a view: kept once
    assert pool.take((3, 4), f32, a) is a
    assert pool.take((3, 4), f32, a) is not a  # a fresh one: the stack is empty again
    pool.give(*(np.empty(5) for _ in range(3)))
    assert len(pool.free[(np.ndarray, (5,), np.dtype(np.float64))]) == 2  # at most per_key
    for n in range(6):
        pool.give(np.empty(n + 10))
    assert len(pool.free) <= pool.keys + 1  # too many shapes: the pool starts over


def test_a_saved_view_returns_its_array_when_it_dies():
    array = np.empty((7, 3))
    view = saved(array)
    key = (np.ndarray, (7, 3), np.dtype(np.float64))
    assert view.base is array and not any(a is array for a in POOL.free.get(key, []))
    del view
    assert any(a is array for a in POOL.free.get(key, []))
    POOL.free[key].remove(array)
    assert saved(None) is None


def test_the_recurrent_kernels_use_this_pool():
    from soma.nn.functional.recurrent import workspace

    assert workspace.POOL is POOL and workspace.saved is saved
    assert soma.backend.reuse_freed_memory is soma._memory.reuse_freed_memory
