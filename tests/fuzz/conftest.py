"""The fuzz suites import ``fuzz_common`` from this folder; tests/conftest.py prints their tallies."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
