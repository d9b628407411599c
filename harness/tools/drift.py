"""Edge drift detector: the bot's edge per time window from its fills in the event log, and an alarm on decay.

Per window (``window_s``): fills, traded notional, net PnL change (marked to the replayed mid,
``reports.eventseries``), ``net_bps`` = 1e4 * PnL change / notional, spread capture (how far inside the mid each
fill was, bps, notional-weighted) and markout (the mid ``markout_s`` later against the fill price: negative is
adverse selection). Windows with fewer than ``min_fills`` fills carry no edge signal.

Decay is flagged by a one-sided CUSUM (Page 1954) of per-window net_bps below the reference (the pooled edge of
the first ``reference_windows`` windows with signal): ``S = max(0, S + (ref - x - slack))``; an alarm when ``S``
exceeds ``threshold``. Also flagged: windows below the net_bps floor (``floor_bps``, default
``reports.baseline.NET_BPS_FLOOR``: the one threshold the regression gate and the MMBotNetBpsDegraded alert use
too) for ``floor_run`` consecutive windows.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reports.baseline import NET_BPS_FLOOR
from reports.eventseries import SessionSeries, derive_series

__all__ = ["DriftReport", "Window", "detect_drift", "edge_windows"]


@dataclass(frozen=True, slots=True)
class Window:
    start_s: float
    end_s: float
    fills: int
    notional_quote: float
    pnl_quote: float
    net_bps: float | None
    capture_bps: float | None
    markout_bps: float | None
    cusum: float = 0.0


@dataclass(frozen=True, slots=True)
class DriftReport:
    windows: list[Window]
    reference_bps: float | None
    alarms: list[str]

    @property
    def drifting(self) -> bool:
        return bool(self.alarms)


def _value_at(ts: list[float], vs: list[float], t: float) -> float | None:
    i = bisect.bisect_right(ts, t) - 1
    return vs[i] if i >= 0 else None


def edge_windows(series: SessionSeries, *, window_s: float = 600.0, markout_s: float = 10.0,
                 min_fills: int = 5) -> list[Window]:
    """Per-window edge summed over symbols."""
    duration = max(series.duration_s, 1e-9)
    n = max(1, int(-(-duration // window_s)))
    acc = [{"fills": 0, "notional": 0.0, "pnl": 0.0, "capture": 0.0, "markout": 0.0} for _ in range(n)]
    for s in series.symbols.values():
        for i in range(n):
            lo, hi = i * window_s, min((i + 1) * window_s, duration)
            start = _value_at(s.pnl_t, s.pnl, lo) or 0.0
            end = _value_at(s.pnl_t, s.pnl, hi)
            acc[i]["pnl"] += (end if end is not None else start) - start
        for f in s.fills:
            i = min(n - 1, int(f.t_s // window_s))
            notional = f.price * f.qty
            sign = 1.0 if f.side == "BUY" else -1.0
            acc[i]["fills"] += 1
            acc[i]["notional"] += notional
            if f.mid:
                acc[i]["capture"] += sign * (f.mid - f.price) / f.mid * 1e4 * notional
            later = _value_at(s.mid_t, s.mid, f.t_s + markout_s)
            if later:
                acc[i]["markout"] += sign * (later - f.price) / later * 1e4 * notional
    out = []
    for i, a in enumerate(acc):
        signal = a["fills"] >= min_fills and a["notional"] > 0
        out.append(Window(
            i * window_s, min((i + 1) * window_s, duration), int(a["fills"]), a["notional"], a["pnl"],
            1e4 * a["pnl"] / a["notional"] if signal else None,
            a["capture"] / a["notional"] if signal else None, a["markout"] / a["notional"] if signal else None,
        ))
    return out


def detect_drift(
    events: Iterable[dict[str, Any]], *, duration_s: float | None = None, window_s: float = 600.0,
    markout_s: float = 10.0, min_fills: int = 5, reference_windows: int = 3, slack_bps: float = 0.5,
    threshold_bps: float = 5.0, floor_bps: float = NET_BPS_FLOOR, floor_run: int = 3, account: str | None = None,
) -> DriftReport:
    """Windows, reference edge and alarms for one session's event log (``account``: the bot's; default the
    first account seen in an order record)."""
    series = derive_series(events, duration_s=duration_s, account=account)
    windows = edge_windows(series, window_s=window_s, markout_s=markout_s, min_fills=min_fills)
    with_signal = [w for w in windows if w.net_bps is not None]
    ref_rows = with_signal[:reference_windows]
    notional = sum(w.notional_quote for w in ref_rows)
    reference = 1e4 * sum(w.pnl_quote for w in ref_rows) / notional if notional else None
    alarms: list[str] = []
    cusum, below, out = 0.0, 0, []
    for w in windows:
        if w.net_bps is not None and reference is not None:
            cusum = max(0.0, cusum + (reference - w.net_bps - slack_bps))
            if cusum > threshold_bps and not any(a.startswith("cusum") for a in alarms):
                alarms.append(f"cusum: edge fell below the reference {reference:.2f} bps by more than "
                              f"{threshold_bps:g} bps cumulated, by {w.end_s / 3600:.2f} h")
            below = below + 1 if w.net_bps < floor_bps else 0
            if below == floor_run:
                alarms.append(f"floor: {floor_run} windows in a row below {floor_bps:g} bps, ending "
                              f"{w.end_s / 3600:.2f} h")
        out.append(Window(w.start_s, w.end_s, w.fills, w.notional_quote, w.pnl_quote, w.net_bps, w.capture_bps,
                          w.markout_bps, cusum))
    return DriftReport(out, reference, alarms)
