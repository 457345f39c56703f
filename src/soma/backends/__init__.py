"""``soma.backends``: PyTorch's per-backend switches, so scripts that set them run unchanged.

``soma.backends.cudnn.benchmark = True`` and ``.deterministic = True`` are accepted and
have no effect (soma has no cuDNN; its CPU results are deterministic already).
``soma.backends.mps.is_available()`` is False. This is not :mod:`soma.backend`, which
names the array library soma computes with.
"""

from types import SimpleNamespace

__all__ = ["cudnn", "mps", "mkldnn"]

cudnn = SimpleNamespace(benchmark=False, deterministic=False, enabled=False, allow_tf32=False,
                        is_available=lambda: False)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
mkldnn = SimpleNamespace(is_available=lambda: False, enabled=False)
