"""Benchmark harness behind docs/PERFORMANCE.md (``python -m bench --help``)."""
