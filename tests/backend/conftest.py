import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import strict  # noqa: E402


@pytest.fixture
def strict_device():
    """The strict backend registered for the duration of a test; yields its device string."""
    strict.enable()
    try:
        yield strict.DEVICE
    finally:
        strict.disable()
