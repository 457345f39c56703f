"""Learning-rate schedulers (filled below)."""
