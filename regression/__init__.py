"""Regression gates against the stored baseline (``reports/baseline.json``), marker ``regression``.

The suite runs a bounded subset of ``mmbot regress`` (the baseline's first seed, every regime, the baseline's
session length) so that the numbers are comparable with the baseline exactly: sessions are deterministic.
"""
