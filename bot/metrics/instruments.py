"""Cheap single-threaded metric families (counter, gauge, histogram) exposed through one prometheus_client collector.

Why not ``prometheus_client.Counter`` & co.: they take a lock on every update and ``labels()`` costs about a
microsecond; a quote cycle records ~15 values in a budget of well under 70 us (DESIGN section 2), so these
families keep plain floats in dicts keyed by label tuples (about 0.1-0.3 us an update) and build the standard
``*MetricFamily`` objects only when scraped. The bot updates them from its event loop only; a scrape on another
thread reads plain Python numbers (atomic under the GIL), so the worst case is a value one update old.

Invariants: a family never holds more than ``max_series`` label combinations; further new combinations are
folded into one series whose label values are all ``OVERFLOW`` and counted in ``overflows`` (bounded
cardinality without crashing the quote loop). Histogram buckets are strictly increasing upper bounds (``le``);
counters only go up (``inc`` with a negative amount raises ``ValueError``). Label values count in arity:
``child`` with the wrong number of values raises ``ValueError``.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from typing import Generic, TypeVar

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

__all__ = ["OVERFLOW", "CounterFamily", "CounterSeries", "FamilySet", "GaugeFamily", "GaugeSeries",
           "HistogramFamily", "HistogramSeries"]

OVERFLOW = "other"
"""Label value of the series that absorbs label combinations beyond a family's ``max_series``."""


class CounterSeries:
    """One labelled counter: a float that only goes up."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError(f"a counter only goes up, got inc({amount})")
        self.value += amount


class GaugeSeries:
    """One labelled gauge: a float set to the latest value."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = value


class HistogramSeries:
    """One labelled histogram: non-cumulative bucket counts (the last is +Inf), sum and count."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # first upper bound >= value (Prometheus buckets are "less than or equal"); past the last: +Inf
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)


S = TypeVar("S", CounterSeries, GaugeSeries, HistogramSeries)


class _Family(Generic[S]):
    """The label bookkeeping shared by the three kinds."""

    kind = ""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], max_series: int) -> None:
        if max_series < 1:
            raise ValueError(f"{name}: max_series must be >= 1, got {max_series}")
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.max_series = max_series
        self.overflows = 0
        self._series: dict[tuple[str, ...], S] = {}

    def _new(self) -> S:
        raise NotImplementedError

    def child(self, *labels: str) -> S:
        """The series of these label values (created on first use; see the overflow rule above)."""
        series = self._series.get(labels)
        if series is None:
            if len(labels) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {labels}")
            if len(self._series) >= self.max_series:
                self.overflows += 1
                labels = (OVERFLOW,) * len(self.labelnames)
                series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = self._new()
        return series

    def items(self) -> list[tuple[tuple[str, ...], S]]:
        """Series in a deterministic order (sorted by label values)."""
        return sorted(self._series.items())


class CounterFamily(_Family[CounterSeries]):
    kind = "counter"

    def _new(self) -> CounterSeries:
        return CounterSeries()

    def to_metric(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, series in self.items():
            family.add_metric(list(labels), series.value)
        return family


class GaugeFamily(_Family[GaugeSeries]):
    kind = "gauge"

    def _new(self) -> GaugeSeries:
        return GaugeSeries()

    def to_metric(self) -> Metric:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, series in self.items():
            family.add_metric(list(labels), series.value)
        return family


class HistogramFamily(_Family[HistogramSeries]):
    kind = "histogram"

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], max_series: int, buckets: Sequence[float]
    ) -> None:
        super().__init__(name, documentation, labelnames, max_series)
        bounds = tuple(float(b) for b in buckets if not math.isinf(b))
        if not bounds or any(b >= c for b, c in pairwise(bounds)):
            raise ValueError(f"{name}: buckets must be non-empty and strictly increasing, got {buckets}")
        self.bounds = bounds
        self._le = [repr(b) for b in bounds] + ["+Inf"]  # Python floats parse as Prometheus floats

    def _new(self) -> HistogramSeries:
        return HistogramSeries(self.bounds)

    def to_metric(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, series in self.items():
            cumulative, running = [], 0
            for le, n in zip(self._le, series.counts, strict=True):
                running += n
                cumulative.append((le, float(running)))
            family.add_metric(list(labels), cumulative, series.sum)
        return family


Family = CounterFamily | GaugeFamily | HistogramFamily


class FamilySet(Collector):
    """The families of one ``BotMetrics``, registered in its registry as a single collector."""

    def __init__(self) -> None:
        self._families: dict[str, Family] = {}

    def add(self, family: Family) -> None:
        if family.name in self._families:
            raise ValueError(f"metric family {family.name!r} defined twice")
        self._families[family.name] = family

    def families(self) -> Iterable[Family]:
        return self._families.values()

    def collect(self) -> Iterator[Metric]:
        for family in self._families.values():
            yield family.to_metric()

    def describe(self) -> Iterator[Metric]:
        """Empty families: lets the registry detect name clashes without collecting values."""
        for family in self._families.values():
            if family.kind == "counter":
                yield CounterMetricFamily(family.name, family.documentation, labels=family.labelnames)
            elif family.kind == "gauge":
                yield GaugeMetricFamily(family.name, family.documentation, labels=family.labelnames)
            else:
                yield HistogramMetricFamily(family.name, family.documentation, labels=family.labelnames)
