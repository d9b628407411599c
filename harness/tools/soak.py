"""Soak analyzer: anomalies of a long session, from its summary and its event log, one streaming pass.

Checks on the summary: the stop was verified; the bot's position equals the venue's; inventory stayed well
inside the hard limit; no venue errors; no HARD guard; latency tails (p99 over 10x p50) and the 200 ms p95 gate.

Checks per time window of the event log (``window_s``): a window without any new order after the start
(quoting stalled: a liveness gap), reject bursts and order-rate spikes (over ``spike_factor`` times the median
window), and leak-like growth (records per window rising steadily: the last third's mean over
``growth_factor`` times the first third's). Each finding is an ``Anomaly`` with a severity.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Anomaly", "analyse_soak"]


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str
    severity: Literal["info", "warn", "error"]
    detail: str
    start_s: float | None = None
    end_s: float | None = None


def _summary_checks(summary: Mapping[str, Any]) -> list[Anomaly]:
    out = []
    if not summary.get("stop_verified", True):
        out.append(Anomaly("stop_unverified", "error", "orders may be open after the session ended"))
    for s in summary.get("symbols", []):
        if s.get("final_inventory_lots") != s.get("venue_position_lots"):
            out.append(Anomaly("ledger_mismatch", "error", f"{s['symbol']}: bot {s.get('final_inventory_lots')} "
                                                           f"lots, venue {s.get('venue_position_lots')} lots"))
        limit = s.get("hard_limit_lots") or 0
        if limit and s.get("max_abs_inventory_lots", 0) > 0.9 * limit:
            out.append(Anomaly("inventory_near_limit", "warn", f"{s['symbol']}: max |inventory| "
                                                               f"{s['max_abs_inventory_lots']} of {limit} lots"))
    if summary.get("errors"):
        out.append(Anomaly("venue_errors", "warn", f"venue errors {summary['errors']}"))
    hard = {k: v for k, v in (summary.get("guard_triggers") or {}).items() if k.startswith("hard")}
    if hard:
        out.append(Anomaly("hard_guard", "warn", f"HARD guards fired {hard}"))
    for name, q in (summary.get("latency") or {}).items():
        if q.get("count", 0) >= 100 and q.get("p50", 0) > 0 and q["p99"] > 10 * q["p50"]:
            out.append(Anomaly("latency_tail", "info", f"{name}: p99 {q['p99']:.2f} is "
                                                       f"{q['p99'] / q['p50']:.0f}x p50 {q['p50']:.2f}"))
    rest = (summary.get("latency") or {}).get("rest_ms")
    if rest and rest.get("p95", 0) > 200:
        out.append(Anomaly("latency_gate", "error", f"rest_ms p95 {rest['p95']:.1f} ms over the 200 ms gate"))
    return out


def _spikes(name: str, counts: list[int], window_s: float, factor: float, floor: int) -> list[Anomaly]:
    median = statistics.median(counts) if counts else 0
    return [Anomaly(f"{name}_spike", "warn", f"{c} {name} in the window, median {median:g}", i * window_s,
                    (i + 1) * window_s)
            for i, c in enumerate(counts) if c >= floor and c > factor * max(median, 1)]


def analyse_soak(
    summary: Mapping[str, Any], events: Iterable[dict[str, Any]] | None, *, window_s: float = 600.0,
    spike_factor: float = 5.0, growth_factor: float = 2.0, account: str | None = None,
) -> list[Anomaly]:
    """Every anomaly found, summary checks first, then windows in time order."""
    out = _summary_checks(summary)
    if events is None:
        return out
    duration_s = float(summary.get("hours", 0.0)) * 3600
    n = max(1, int(-(-duration_s // window_s))) if duration_s else 1
    records, orders, rejects = [0] * n, [0] * n, [0] * n
    for rec in events:
        t_s = rec["t"] / 1e6
        if duration_s and t_s > duration_s:
            continue
        i = min(n - 1, int(t_s // window_s))
        records[i] += 1
        kind = rec["k"]
        if kind == "order" and rec.get("x") == "NEW" and (account is None or rec.get("a") == account):
            orders[i] += 1
        elif kind == "reject" and (account is None or rec.get("a") == account):
            rejects[i] += 1
    for i in range(1 if n > 1 else 0, n):
        if orders[i] == 0:
            out.append(Anomaly("quoting_gap", "error", "no new order in the window", i * window_s,
                               (i + 1) * window_s))
    out += _spikes("rejects", rejects, window_s, spike_factor, 10)
    out += _spikes("orders", orders, window_s, spike_factor, 50)
    if n >= 6:
        third = n // 3
        first, last = statistics.fmean(records[:third]), statistics.fmean(records[-third:])
        if first > 0 and last > growth_factor * first:
            out.append(Anomaly("record_growth", "warn", f"records per window grew from {first:.0f} to {last:.0f}"))
    return out
