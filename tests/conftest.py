import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))  # so tests can `from helpers import ...`

import soma  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same global seed."""
    soma.manual_seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
