"""soma's benchmarks: ``python -m benchmarks [--only NAME] [--rounds N] [--block SECONDS]``."""
