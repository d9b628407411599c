"""Our fills in a replayed session: queue position at entry, time waited, and markouts against the recorded mid.

``fill_report(records, account, source)`` reads a session's event log (``exchange_sim.eventlog.read_events``) and
the replay tape. For each trade of ``account``:

* ``queue_ahead_lots``: for a maker fill, the quantity resting ahead of the order when it joined its level
  (the level total logged right after the order's NEW report, minus the order's own remaining quantity);
* ``wait_s``: trade time minus the order's NEW time;
* ``markout_bps[h]`` for ``h`` in ``MARKOUT_HORIZONS_S``: ``sign * (mid(t + h) - price) / price * 1e4`` with
  ``sign`` +1 for a buy, -1 for a sell, and ``mid`` the *recorded* book's mid (the tape's own levels, not the
  venue's book with our orders in it); None when ``t + h`` is past the end of the recording.

Pure: reads its inputs once, in time order. Errors: none of its own (a malformed log raises ``KeyError``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from exchange_sim.replay.source import DEPTH, ReplaySource

MARKOUT_HORIZONS_S = (1.0, 10.0, 60.0)


@dataclass(frozen=True, slots=True)
class FillRow:
    t_s: float
    symbol: str
    side: str  # BUY / SELL (ours)
    price_ticks: int
    qty_lots: int
    maker: bool
    queue_ahead_lots: int | None
    wait_s: float | None
    markout_bps: tuple[float | None, ...]


class _RecordedMid:
    """The tape's book, advanced in time order; ``mid(symbol, t_us)`` for non-decreasing ``t_us``."""

    def __init__(self, source: ReplaySource) -> None:
        self._books = {s: (dict(b), dict(a)) for s, (b, a) in source.initial.items()}
        self._events = [e for e in source.events if e.kind == DEPTH]
        self._i = 0

    def mid(self, symbol: str, t_us: int) -> float | None:
        events = self._events
        while self._i < len(events) and events[self._i].t_us <= t_us:
            event = events[self._i]
            bids, asks = self._books[event.symbol]
            for is_bid, price, qty in event.changes:
                side = bids if is_bid else asks
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
            self._i += 1
        bids, asks = self._books[symbol]
        return (max(bids) + min(asks)) / 2 if bids and asks else None


Entries = dict[int, tuple[int, int]]  # order id -> (NEW time in us, queue ahead at entry in lots)


def _entries(records: Iterable[dict[str, Any]], account: str) -> tuple[list[dict[str, Any]], Entries]:
    """Our trades, and per order id (NEW time in us, queue ahead at entry)."""
    trades: list[dict[str, Any]] = []
    entry: Entries = {}
    pending: dict[tuple[str, str, int], tuple[int, int, int]] = {}  # level -> (order id, t, remaining lots)
    for record in records:
        kind = record["k"]
        if kind == "order" and record["a"] == account and record["x"] == "NEW" and record["p"] is not None:
            pending[(record["s"], record["S"], record["p"])] = (record["id"], record["t"], record["q"] - record["z"])
        elif kind == "book" and pending:
            waiting = pending.pop((record["s"], record["S"], record["p"]), None)
            if waiting is not None:
                order_id, t_us, remaining = waiting
                entry[order_id] = (t_us, max(0, record["q"] - remaining))
        elif kind == "trade" and account in (record["ma"], record["ta"]):
            trades.append(record)
    return trades, entry


def fill_report(records: Iterable[dict[str, Any]], account: str, source: ReplaySource) -> list[FillRow]:
    """One row per trade of ``account`` (see module docstring), in time order."""
    trades, entry = _entries(records, account)
    rows = []
    mids = _RecordedMid(source)
    queries = sorted((t["t"] + round(h * 1e6), i, j) for i, t in enumerate(trades)
                     for j, h in enumerate(MARKOUT_HORIZONS_S))
    end_us = source.events[-1].t_us if source.events else 0
    marks: dict[tuple[int, int], float | None] = {}
    for t_us, i, j in queries:
        marks[(i, j)] = mids.mid(trades[i]["s"], t_us) if t_us <= end_us else None
    for i, t in enumerate(trades):
        maker = t["ma"] == account
        buy = (t["S"] == "SELL") if maker else (t["S"] == "BUY")
        order_id = t["mo"] if maker else t["to"]
        new = entry.get(order_id)
        markouts = []
        for j in range(len(MARKOUT_HORIZONS_S)):
            mid = marks[(i, j)]
            markouts.append(None if mid is None else (1 if buy else -1) * (mid - t["p"]) / t["p"] * 1e4)
        rows.append(FillRow(t["t"] / 1e6, t["s"], "BUY" if buy else "SELL", t["p"], t["q"], maker,
                            new[1] if new is not None and maker else None,
                            (t["t"] - new[0]) / 1e6 if new is not None else None, tuple(markouts)))
    return rows


def summarise(rows: list[FillRow]) -> dict[str, float | int | None]:
    """Means over the rows: queue ahead at entry (lots), wait (s), markouts (bps, qty-weighted) per horizon."""
    def mean(values: list[float]) -> float | None:
        return statistics.fmean(values) if values else None

    out: dict[str, float | int | None] = {
        "fills": len(rows),
        "queue_ahead_lots_mean": mean([r.queue_ahead_lots for r in rows if r.queue_ahead_lots is not None]),
        "wait_s_median": statistics.median(w) if (w := [r.wait_s for r in rows if r.wait_s is not None]) else None,
    }
    for j, h in enumerate(MARKOUT_HORIZONS_S):
        pairs = [(r.markout_bps[j], r.qty_lots) for r in rows if r.markout_bps[j] is not None]
        total = sum(q for _, q in pairs)
        out[f"markout_{h:g}s_bps"] = sum(m * q for m, q in pairs if m is not None) / total if total else None
    return out


def report_rows(records: Iterable[dict[str, Any]], account: str, source: ReplaySource) -> list[tuple[str, str]]:
    """``(metric, value)`` rows for a session summary table: the recorded market, our fills and markouts."""
    rows = fill_report(records, account, source)
    summary = summarise(rows)
    out = [(f"recorded {s}", f"{len(source.events):,} events, {source.duration_s:.0f} s, t0 {source.t0_ms} ms")
           for s in source.symbols]
    for symbol in source.symbols:
        bids, asks = source.initial[symbol]
        if bids and asks:
            spec = source.spec(symbol)
            mid = (max(bids) + min(asks)) / 2
            out.append((f"{symbol} mid / spread at start", f"{float(spec.tick_size) * mid:,.2f} / "
                        f"{min(asks) - max(bids)} ticks"))

    def fmt(value: float | int | None, unit: str = "") -> str:
        return "n/a" if value is None else f"{value:,.2f}{unit}"

    out += [
        ("our fills (maker / taker)", f"{sum(r.maker for r in rows)} / {sum(not r.maker for r in rows)}"),
        ("queue ahead at entry, mean", fmt(summary["queue_ahead_lots_mean"], " lots")),
        ("time waited, median", fmt(summary["wait_s_median"], " s")),
    ]
    out += [(f"markout {h:g} s (qty-weighted)", fmt(summary[f"markout_{h:g}s_bps"], " bps"))
            for h in MARKOUT_HORIZONS_S]
    return out


def payload(records: Iterable[dict[str, Any]], account: str, source: ReplaySource) -> dict[str, Any]:
    """JSON-ready: the summary and one object per fill (``replay_fills.json`` of a run directory)."""
    rows = fill_report(records, account, source)
    return {"horizons_s": list(MARKOUT_HORIZONS_S), "summary": summarise(rows),
            "fills": [{"t_s": r.t_s, "symbol": r.symbol, "side": r.side, "price_ticks": r.price_ticks,
                       "qty_lots": r.qty_lots, "maker": r.maker, "queue_ahead_lots": r.queue_ahead_lots,
                       "wait_s": r.wait_s, "markout_bps": list(r.markout_bps)} for r in rows]}
