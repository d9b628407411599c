"""LatencyHistogram: bounded memory, quantiles within the bucket error, exact count/max/mean."""

from __future__ import annotations

import math
import random

import pytest

from bot.quoting.latency import LatencyHistogram


def test_quantiles_are_within_the_relative_bucket_error() -> None:
    rng = random.Random(5)
    values = [rng.lognormvariate(3, 1) for _ in range(20_000)]
    hist = LatencyHistogram()
    for v in values:
        hist.record(v)
    for q in (0.5, 0.95, 0.99):
        exact = sorted(values)[int(q * len(values)) - 1]
        assert hist.quantile(q) == pytest.approx(exact, rel=0.05)


def test_count_mean_and_max_are_exact() -> None:
    hist = LatencyHistogram()
    for v in (1.0, 2.0, 9.0):
        hist.record(v)
    assert (hist.count, hist.mean, hist.max) == (3, 4.0, 9.0)


def test_memory_is_bounded_by_buckets_not_samples() -> None:
    hist = LatencyHistogram(min_value=0.01, max_value=1000.0)
    for i in range(100_000):
        hist.record((i % 1000) / 10)
    assert len(hist._buckets) < 300


def test_quantile_never_exceeds_the_maximum() -> None:
    hist = LatencyHistogram()
    hist.record(5.0)
    assert hist.quantile(1.0) == 5.0 and hist.quantile(0.5) <= 5.0


def test_empty_histogram_reports_zero() -> None:
    assert LatencyHistogram().summary()["p99"] == 0.0


def test_negative_sample_is_refused() -> None:
    with pytest.raises(ValueError, match="latency sample"):
        LatencyHistogram().record(-1.0)


def test_merge_adds_counts() -> None:
    a, b = LatencyHistogram(), LatencyHistogram()
    a.record(1.0)
    b.record(100.0)
    a.merge(b)
    assert a.count == 2 and a.max == 100.0 and a.quantile(1.0) == 100.0


def test_bucket_lookup_matches_the_log_formula_at_and_around_every_bound() -> None:
    hist = LatencyHistogram(min_value=0.01, max_value=1e4, growth=1.1)
    inv_log_growth = 1.0 / math.log(1.1)

    def formula(value: float) -> int:
        return 0 if value <= 0.01 else min(int(math.log(value / 0.01) * inv_log_growth), hist._max_bucket)

    for i in range(1, hist._max_bucket + 2):
        x = 0.01 * 1.1**i
        for value in (math.nextafter(x, 0.0), x, math.nextafter(x, math.inf), x * 1.05):
            before = dict(hist._buckets)
            hist.record(value)
            (changed,) = [k for k in hist._buckets if hist._buckets[k] != before.get(k, 0)]
            assert changed == formula(value), value


def test_an_infinite_sample_lands_in_the_last_bucket() -> None:
    hist = LatencyHistogram(min_value=1.0, max_value=100.0, growth=2.0)
    hist.record(float("inf"))
    assert hist.count == 1 and hist.quantile(0.5) > 0
