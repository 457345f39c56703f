"""Print each fuzz suite's tally (``layer fuzz: N cases, K disagreements``) at the end of the session.

Suites count their cases with ``fuzz_common.record``; under pytest-xdist every worker sends its tally to
the controller, which prints the sum.
"""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import fuzz_common  # noqa: E402


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
