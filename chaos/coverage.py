"""Coverage of a chaos session, from its event log alone: how long the bot quoted, and which faults hit it.

A gate whose bot stops trading early, or whose faults never touch the bot's orders, passes without testing much
(issue 16). These figures say how much a swarm exercised; like the checker, they read only the venue's records
and the fault records, never the bot's claims.

* **Quoting time**: the bot quotes while at least one of its orders rests on the venue: from the venue's
  ``order`` records of the bot's account, an order rests from its first NEW/PARTIALLY_FILLED report until a
  terminal one (FILLED, CANCELED, EXPIRED, REJECTED, ...).
* **Fault time**: the union of the fault windows (``fault`` records, start to end); a ``crash``, ``cold_restart``
  or ``operator_stop`` lasts until the next instance starts (``bot.restart``), as the bot is down until then.
  **Non-fault time** = session time ``[0, duration_s]`` minus fault time; ``quoting_fraction`` = quoting time
  within non-fault time / non-fault time (None when faults cover the whole session).
* **Hit**: a fault kind hit the bot in a session when a ``fault_hit`` record of it is on the bot's account (a
  request of the bot lost, refused or answered unknown; one of its orders filled, raced or expired) or names no
  account (a feed message lost or cut: only the bot reads the venue's feeds); for a ``HARNESS`` kind (the bot
  process itself), when it started; for the other kinds (the market), when its end record counts at least one
  affected message or event.

The swarm target (issue 16): the bot quotes in at least ``QUOTING_TARGET`` of the non-fault time of the median
session, and every order-level kind hits in at least ``HIT_TARGET`` of the sessions that draw it.

Errors: none; records of other accounts and kinds are ignored, and a missing end record closes a window at the
session end.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from exchange_sim.checker.index import DOWN_KINDS  # the bot is down until its next bot.restart
from exchange_sim.eventlog import open_events

ORDER_LEVEL = frozenset({  # kinds whose effects land on the bot's requests or orders (fault_hit with "a")
    "partition", "timeout_after_processing", "partial_fill", "clock_skew", "rate_limit", "outage", "reject",
    "cancel_fill_race", "stp", "reset_peer", "user_stream", "cancel_replace_half", "report_redelivered",
    "truncated_frame"})
HARNESS = frozenset({"crash", "memory_pressure", "pause", "operator_stop", "cold_restart"})
RESTING = frozenset({"NEW", "PARTIALLY_FILLED"})
QUOTING_TARGET = 0.70
HIT_TARGET = 0.5
_NEEDLES = (b'"order"', b'"fault', b'"bot.restart"')  # a cheap pre-filter; every kept line is parsed and checked

Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Coverage:
    """What one session exercised (module docstring). Times in simulated seconds."""

    session_s: float
    fault_s: float  # the union of fault windows within the session
    quoting_s: float  # non-fault time with at least one of the bot's orders resting
    hit: tuple[str, ...] = ()  # fault kinds that hit the bot (module docstring), sorted

    @property
    def non_fault_s(self) -> float:
        return max(0.0, self.session_s - self.fault_s)

    @property
    def quoting_fraction(self) -> float | None:
        return self.quoting_s / self.non_fault_s if self.non_fault_s > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {"session_s": self.session_s, "fault_s": round(self.fault_s, 6), "quoting_s": round(self.quoting_s, 6),
                "quoting_fraction": self.quoting_fraction, "hit": list(self.hit)}


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same points as ``intervals`` (empty ones dropped)."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def length(intervals: Iterable[Interval]) -> float:
    return sum(end - start for start, end in intervals)


def intersection(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The intersection of two sorted disjoint interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def resting_intervals(orders: Iterable[Mapping[str, Any]], end_s: float) -> list[Interval]:
    """When at least one order rested, from ``order`` records in log order (each with ``t`` µs, ``s``, ``id``,
    ``X``); orders still resting at the end count until ``end_s``."""
    resting: set[tuple[str, int]] = set()
    out: list[Interval] = []
    since = 0.0
    for record in orders:
        key = (str(record["s"]), int(record["id"]))
        t_s = int(record["t"]) / 1e6
        was = bool(resting)
        if record["X"] in RESTING:
            resting.add(key)
        else:
            resting.discard(key)
        if not was and resting:
            since = t_s
        elif was and not resting:
            out.append((since, t_s))
    if resting:
        out.append((since, max(since, end_s)))
    return union((max(0.0, s), min(e, end_s)) for s, e in out)


def fault_windows(faults: Iterable[Mapping[str, Any]], restarts: Sequence[float], end_s: float) -> list[Interval]:
    """Fault windows from ``fault`` records (start/end by ``id``); a crash lasts until the next restart."""
    starts: dict[int, tuple[float, str]] = {}
    out: list[Interval] = []
    for record in faults:
        t_s = int(record["t"]) / 1e6
        if record["ph"] == "start":
            starts[int(record["id"])] = (t_s, str(record["f"]))
            continue
        began, kind = starts.pop(int(record["id"]), (t_s, str(record["f"])))
        if kind in DOWN_KINDS:
            t_s = next((r for r in restarts if r >= began), end_s)
        out.append((began, t_s))
    out.extend((began, end_s) for began, _kind in starts.values())  # never healed within the log
    return union((max(0.0, s), min(e, end_s)) for s, e in out)


def hit_kinds(faults: Iterable[Mapping[str, Any]], hits: Iterable[Mapping[str, Any]], account: str) -> set[str]:
    """Fault kinds that hit the bot (module docstring) from ``fault`` and ``fault_hit`` records."""
    out = {str(h["f"]) for h in hits if h.get("a", account) == account}  # no "a": a feed only bots read
    for record in faults:
        kind = str(record["f"])
        started = kind in HARNESS and record["ph"] == "start"
        affected = kind not in ORDER_LEVEL | HARNESS and record["ph"] == "end" and int(record.get("hits", 0)) > 0
        if started or affected:
            out.add(kind)
    return out


def session_coverage(records: Iterable[Mapping[str, Any]], *, account: str, duration_s: float) -> Coverage:
    """The coverage of one session from its event-log records (in log order)."""
    orders: list[Mapping[str, Any]] = []
    faults: list[Mapping[str, Any]] = []
    hits: list[Mapping[str, Any]] = []
    restarts: list[float] = []
    for record in records:
        kind = record.get("k")
        if kind == "order" and record.get("a") == account:
            orders.append(record)
        elif kind == "fault":
            faults.append(record)
        elif kind == "fault_hit":
            hits.append(record)
        elif kind == "bot.restart" and record.get("a") == account:
            restarts.append(int(record["t"]) / 1e6)
    windows = fault_windows(faults, restarts, duration_s)
    quoting = resting_intervals(orders, duration_s)
    return Coverage(session_s=duration_s, fault_s=length(windows),
                    quoting_s=length(quoting) - length(intersection(quoting, windows)),
                    hit=tuple(sorted(hit_kinds(faults, hits, account))))


def read_coverage_records(path: Path | str) -> list[dict[str, Any]]:
    """The records ``session_coverage`` needs from a JSON-lines event log (the rest is skipped unparsed)."""
    with open_events(path) as fh:  # plain or gzip
        return [orjson.loads(line) for line in fh if any(n in line for n in _NEEDLES)]


def median_quoting_fraction(coverages: Iterable[Coverage | None]) -> float | None:
    """The median session's quoting fraction (sessions without one are left out); None when none has one."""
    values = [c.quoting_fraction for c in coverages if c is not None and c.quoting_fraction is not None]
    return statistics.median(values) if values else None
