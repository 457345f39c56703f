import json
import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))  # so tests can `from helpers import ...`
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))

import fuzz_common  # noqa: E402  (the fuzz suites' tallies, printed at the end of every run)

import soma  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same global seed."""
    soma.manual_seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


# The differential fuzz tallies ("op fuzz: N cases, K disagreements"): here, not in tests/fuzz/, because
# under pytest-xdist only this conftest is loaded by the controller, which sums the workers' tallies.
def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the tally to the controller
        workeroutput["fuzz_tally"] = json.dumps(fuzz_common.TALLY)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    serialized = getattr(node, "workeroutput", {}).get("fuzz_tally")
    if serialized:
        fuzz_common.merge(serialized)


def pytest_terminal_summary(terminalreporter):
    for line in fuzz_common.tally_lines():
        terminalreporter.write_line(line)
