"""``soma.accelerator``: PyTorch's device-agnostic accelerator queries.

There is no accelerator in this build: ``is_available()`` is False,
``current_accelerator()`` is None and ``device_count()`` is 0, so device-agnostic code
such as ``soma.accelerator.current_accelerator() or soma.device("cpu")`` runs on the CPU.
"""

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available():
    return False


def current_accelerator(check_available=False):
    return None


def device_count():
    return 0
