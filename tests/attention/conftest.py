import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # so these tests can `from attention_compare import ...`
