"""Benchmarks: run on demand (scripts/bench), never part of the test suite."""
