"""LatencyHistogram: bounded-memory latency quantiles (log-spaced buckets, about 2 % relative error).

A sample ``x > 0`` falls in bucket ``i = floor(log(x / min_value) / log(growth))``; bucket ``i`` covers
``[min_value * growth**i, min_value * growth**(i + 1))`` and a quantile is reported at its bucket's geometric
mid-point, so the relative error is at most ``sqrt(growth) - 1`` (about 2 % for ``growth = 1.04``). Samples
at or below ``min_value`` go to bucket 0, samples beyond the last bucket to the last one; count, sum and max are
exact. Memory is one dict entry per non-empty bucket (at most ``ceil(log(max/min) / log(growth))``), whatever
the number of samples: a 24-hour session at 10 cycles/s costs the same as a minute.

``record`` finds the bucket by bisecting the layout's lower bucket bounds, each the smallest float the formula
above puts in that bucket (found once per layout), so it is the formula's bucket without a ``log`` per sample.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from functools import cache

__all__ = ["LatencyHistogram"]


class LatencyHistogram:
    """Quantiles of positive samples in a unit of the caller's choosing (the name says which)."""

    __slots__ = ("_bounds", "_buckets", "_max_bucket", "count", "growth", "max", "min_value", "total")

    def __init__(self, *, min_value: float = 0.001, max_value: float = 1e7, growth: float = 1.04) -> None:
        if not 0 < min_value < max_value or growth <= 1:
            raise ValueError(f"need 0 < min_value < max_value and growth > 1, got {min_value}, {max_value}, {growth}")
        self.min_value = min_value
        self.growth = growth
        self._max_bucket = math.ceil(math.log(max_value / min_value) * (1.0 / math.log(growth)))
        self._bounds = _bucket_bounds(min_value, growth, self._max_bucket)
        self._buckets: dict[int, int] = {}
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def record(self, value: float) -> None:
        """Add one sample (negative or NaN samples are a caller bug: ``ValueError``)."""
        if not value >= 0:
            raise ValueError(f"latency sample must be >= 0, got {value!r}")
        self.count += 1
        self.total += value
        self.max = value if value > self.max else self.max  # max() would cost a call per sample
        index = bisect_right(self._bounds, value)
        buckets = self._buckets
        buckets[index] = buckets.get(index, 0) + 1

    def merge(self, other: LatencyHistogram) -> None:
        """Add ``other``'s samples (same bucket layout required)."""
        if (other.min_value, other.growth, other._max_bucket) != (self.min_value, self.growth, self._max_bucket):
            raise ValueError("cannot merge histograms with different bucket layouts")
        for index, n in other._buckets.items():
            self._buckets[index] = self._buckets.get(index, 0) + n
        self.count += other.count
        self.total += other.total
        self.max = max(self.max, other.max)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 <= q <= 1); 0.0 with no samples; the exact maximum for the top rank."""
        if not 0 <= q <= 1:
            raise ValueError(f"quantile must be in [0, 1], got {q!r}")
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(q * self.count))
        if rank >= self.count:
            return self.max
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                if index == 0:
                    return min(self.min_value, self.max)
                return min(self.min_value * float(self.growth ** (index + 0.5)), self.max)
        return self.max  # unreachable: the buckets hold every sample

    def summary(self) -> dict[str, float]:
        """count, mean, p50, p95, p99 and max (in the samples' unit)."""
        return {
            "count": float(self.count), "mean": self.mean, "p50": self.quantile(0.5), "p95": self.quantile(0.95),
            "p99": self.quantile(0.99), "max": self.max,
        }


def _bucket_index(value: float, min_value: float, inv_log_growth: float, max_bucket: int) -> int:
    """The bucket of ``value`` by the module docstring's formula."""
    if value <= min_value:
        return 0
    return min(int(math.log(value / min_value) * inv_log_growth), max_bucket)


@cache
def _bucket_bounds(min_value: float, growth: float, max_bucket: int) -> tuple[float, ...]:
    """For buckets 1..``max_bucket``, the smallest float that ``_bucket_index`` puts in that bucket or above.

    The index is non-decreasing in the value, so ``bisect_right(bounds, value)`` (the number of bounds at or below
    ``value``) is ``_bucket_index(value, ...)`` for every sample."""
    inv_log_growth = 1.0 / math.log(growth)
    bounds: list[float] = []
    for i in range(1, max_bucket + 1):
        x = min_value * growth**i  # within a few ulps of the bound
        while _bucket_index(x, min_value, inv_log_growth, max_bucket) >= i:
            x = math.nextafter(x, 0.0)
        while _bucket_index(x, min_value, inv_log_growth, max_bucket) < i:
            x = math.nextafter(x, math.inf)
        bounds.append(x)
    return tuple(bounds)
