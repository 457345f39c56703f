"""``soma.cuda``: PyTorch's ``torch.cuda`` queries, answered honestly.

soma computes with NumPy on the CPU, and with CuPy on an NVIDIA GPU where CuPy is
installed (:mod:`soma.backend.cupy_backend`; ``pip install soma[cuda]``). On a machine
without one, ``is_available()`` is False and ``device_count()`` is 0, so
the usual ``device = "cuda" if soma.cuda.is_available() else "cpu"`` picks the CPU.
Seeding calls are accepted and do nothing (there is no GPU generator to seed);
calls that need a GPU raise a ``RuntimeError`` saying there is none.
"""

__all__ = [
    "is_available", "device_count", "current_device", "get_device_name", "synchronize", "empty_cache",
    "manual_seed", "manual_seed_all", "seed", "seed_all", "is_bf16_supported", "is_initialized",
]


def is_available():
    """True where CuPy is installed and sees a GPU (then ``device="cuda"`` computes with CuPy)."""
    from soma.backend import cupy_backend

    return cupy_backend.load()


def device_count():
    from soma.backend import cupy_backend

    return cupy_backend.device_count()


def is_initialized():
    return False


def _no_gpu(name):
    raise RuntimeError(f"soma.cuda.{name}: CUDA is not available on this machine (soma.cuda.is_available() is False)")


def current_device():
    _no_gpu("current_device")


def get_device_name(device=None):
    _no_gpu("get_device_name")


def synchronize(device=None):
    _no_gpu("synchronize")


def empty_cache():
    """Nothing to free without a GPU (as in PyTorch, a no-op when CUDA was never used)."""


def manual_seed(seed):
    """Accepted and ignored without a GPU, as in PyTorch."""


manual_seed_all = manual_seed


def seed():
    """Accepted and ignored without a GPU."""


seed_all = seed


def is_bf16_supported(including_emulation=True):
    return False

from soma.cuda import amp  # noqa: E402  (torch.cuda.amp.GradScaler / autocast)
