"""Reproducible benchmarks (not part of the test suite); `bench/run.sh` runs them."""
