"""The report's series and charts do not mislead: resting-quote spread, whole-run coverage, latency, guards."""

from __future__ import annotations

from typing import Any

import pytest

from reports.calibration_report import surface_figure
from reports.charts import NO_GUARD_EVENTS, guard_figure, latency_figures, log_ticks
from reports.eventseries import SessionSeries, derive_series

US = 1_000_000  # event-log times are microseconds


def book(t_s: float, side: str, price: int, qty: int = 10) -> dict[str, Any]:
    return {"t": int(t_s * US), "k": "book", "s": "BTCUSDT", "S": side, "p": price, "q": qty}


def order(t_s: float, oid: int, side: str, price: int, status: str) -> dict[str, Any]:
    return {"t": int(t_s * US), "k": "order", "a": "bot", "s": "BTCUSDT", "id": oid, "x": status, "X": status,
            "S": side, "p": price}


def test_the_quoted_spread_is_from_resting_quotes_and_never_negative() -> None:
    events = [
        book(0, "BUY", 11990), book(0, "SELL", 12010),
        order(1, 1, "BUY", 11995, "NEW"), order(1, 2, "SELL", 12005, "NEW"),
        book(2, "BUY", 11991),  # sampled: both quotes rest, 10 ticks apart
        order(3, 2, "SELL", 12005, "CANCELED"),  # the market runs up; the ask is pulled first
        book(4, "BUY", 12011), book(4, "SELL", 12030), book(4, "SELL", 12010, 0), book(4, "BUY", 11990, 0),
        book(4, "BUY", 11991, 0),
        order(5, 1, "BUY", 11995, "CANCELED"), order(5, 3, "BUY", 12015, "NEW"),  # new bid above the old ask
        book(6, "BUY", 12012),  # only a bid rests: no point (the last placed bid/ask would say -10 ticks)
        order(7, 4, "SELL", 12025, "NEW"),
        book(8, "BUY", 12013),
        order(9, 4, "SELL", 12025, "FILLED"),
        book(10, "BUY", 12014),
    ]
    s = derive_series(events, account="bot", duration_s=10).symbols["BTCUSDT"]
    assert s.quoted_spread_t == [2.0, 8.0]
    assert s.quoted_spread_bps == pytest.approx([10 / 12000.5 * 1e4, 10 / 12021.5 * 1e4])  # 10 ticks over the mid
    assert min(s.quoted_spread_bps) > 0


def test_every_series_covers_a_long_run_to_its_end_downsampled() -> None:
    hours = 4.0
    events: list[dict[str, Any]] = [book(0, "BUY", 11990), book(0, "SELL", 12010),
                                    order(0.5, 1, "BUY", 11995, "NEW"), order(0.5, 2, "SELL", 12005, "NEW")]
    events += [book(t, "BUY", 11990 + t % 3) for t in range(1, int(hours * 3600))]
    s = derive_series(events, account="bot", duration_s=hours * 3600, max_points=500).symbols["BTCUSDT"]
    for ts in (s.mid_t, s.quoted_spread_t):
        assert ts[-1] > hours * 3600 - 60  # reaches the end
        assert 400 <= len(ts) <= 510  # on the grid, not every event and not cut at a count


def test_latency_chart_draws_p50_p95_p99_bars_and_the_max_as_a_marker_on_a_log_axis() -> None:
    latency = {"decision_us": {"count": 10, "p50": 20.0, "p95": 25.0, "p99": 30.0, "max": 90_000.0},
               "ladder_us": {"count": 10, "p50": 11.0, "p95": 13.0, "p99": 17.0, "max": 56.0},
               "rest_ms": {"count": 5, "p50": 25.0, "p95": 39.0, "p99": 49.0, "max": 70.0}}
    stages, io = latency_figures(latency)
    bars = [t for t in stages.data if t.type == "bar"]
    assert [t.name for t in bars] == ["p50", "p95", "p99"]
    assert all(t.orientation == "h" for t in bars)
    assert list(bars[0].y) == ["ladder", "decision"]  # readable names, fastest first
    assert max(max(t.x) for t in bars) == 30.0  # the 90 ms pause spike does not set the bars' scale
    (marker,) = [t for t in stages.data if t.name == "max"]
    assert list(marker.x) == [56.0, 90_000.0]
    assert stages.layout.xaxis.type == "log" and "(us)" in stages.layout.title.text
    assert list(io.data[0].y) == ["rest"]
    # every tick is labelled with its whole value: the I/O axis (25 to 70 ms) reads 20, 50, not a small "2", "5"
    assert list(io.layout.xaxis.ticktext) == ["10", "20", "50", "100"]
    assert list(io.layout.xaxis.tickvals) == [10.0, 20.0, 50.0, 100.0]
    assert list(stages.layout.xaxis.ticktext) == ["10", "100", "1k", "10k", "100k"]  # 11 us to 90 ms: decades


@pytest.mark.parametrize(("low", "high", "labels"), [
    (5.9, 106.9, ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1k"]),
    (0.74, 100_216.0, ["0.1", "1", "10", "100", "1k", "10k", "100k", "1M"]),
    (0.05, 0.3, ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"]),
])
def test_log_ticks_label_each_tick_with_its_whole_value(low: float, high: float, labels: list[str]) -> None:
    ticks, text = log_ticks(low, high)
    assert text == labels
    assert ticks[0] <= low and ticks[-1] >= high


def empty_series(guards: list[tuple[float, str, str]]) -> SessionSeries:
    return SessionSeries("bot", 3600.0, {}, guards, [], [], {})


def test_a_run_without_guard_events_says_so() -> None:
    for guards in ([], [(0.1, "OK", "reconciled at start")]):
        fig = guard_figure(empty_series(guards), {})
        assert [a.text for a in fig.layout.annotations] == [NO_GUARD_EVENTS]
        assert not fig.data


def test_a_guard_that_fired_is_drawn_as_a_timeline() -> None:
    fig = guard_figure(empty_series([(0.1, "OK", "start"), (600.0, "SOFT", "inventory")]), {"soft:inventory": 1})
    assert not fig.layout.annotations
    assert list(fig.data[0].y) == [0, 0, 1, 1]


def test_the_calibration_heatmap_labels_every_grid_value_as_its_own_tick() -> None:
    grid = [{"params": {"vol_sensitivity": v, "liq_sensitivity": li}, "score_bps": v + li}
            for v in (0.3, 0.6, 1.2, 2.4) for li in (0.1, 0.4)]
    fig = surface_figure(grid)
    assert fig is not None
    (heat,) = fig.data
    assert list(heat.x) == ["0.3", "0.6", "1.2", "2.4"] and list(heat.y) == ["0.1", "0.4"]
    assert fig.layout.xaxis.type == "category" and fig.layout.yaxis.type == "category"
    assert heat.z[1][3] == 2.4 + 0.4  # row = y value, column = x value
