"""Liveness and determinism (DESIGN section 4, items 10 and 12), checked apart from safety.

Liveness: for every moment the faults heal (the end of a union of overlapping fault windows), the bot is quoting
again within ``liveness_bound_s``: it has an order resting on the venue at the bound, or placed one (a venue
``NEW`` report) or logged ``bot.quoting_resumed`` in between. A HARD guard still in force at the bound exempts
that heal (no quoting is the right behaviour until a reset); heals too close to the session end are not judged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import orjson

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import Event, SessionIndex, seconds
from exchange_sim.checker.records import Violation
from exchange_sim.checker.state import VenueState


def heal_times(index: SessionIndex) -> list[int]:
    """Ends of the unions of overlapping fault windows."""
    heals: list[int] = []
    current_end: int | None = None
    for start, end, _ in index.fault_windows():
        if current_end is not None and start > current_end:
            heals.append(current_end)
            current_end = None
        current_end = end if current_end is None else max(current_end, end)
    if current_end is not None:
        heals.append(current_end)
    return heals


def check_liveness(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """10. Quoting resumes within the bound after faults heal."""
    bound = round(config.liveness_bound_s * 1_000_000)
    guards = index.records("bot.guard")
    resumed = [int(r["t"]) for r in index.records("bot.quoting_resumed")]
    news = [h for h in index.orders.values()]
    out = []
    for heal in heal_times(index):
        deadline = heal + bound
        if deadline > index.end_t:
            continue
        level = next((g["level"] for g in reversed(guards) if g["t"] <= deadline), "OK")
        if level == "HARD":
            continue
        quoting = any(heal <= t <= deadline for t in resumed) or any(
            h.live_at(deadline) or any(heal <= r["t"] <= deadline and r["x"] == "NEW" for r in h.reports)
            for h in news)
        if not quoting:
            out.append(Violation("10.liveness", seconds(deadline), (), f"no quote within {config.liveness_bound_s}s "
                                 f"of the faults healing at {seconds(heal):.3f}s"))
    return out


def events_digest(events: Iterable[Event]) -> str:
    """The SHA-256 of the events as the event log writes them (equal to ``EventLog.digest()`` of that log)."""
    digest = hashlib.sha256()
    for event in events:
        digest.update(orjson.dumps(event) + b"\n")
    return digest.hexdigest()


def check_determinism(first: Iterable[Event], second: Iterable[Event]) -> list[Violation]:
    """12. Two runs of the same seed and code give the same event log; the first differing record is reported."""
    a, b = list(first), list(second)
    if events_digest(a) == events_digest(b):
        return []
    n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    t = seconds(a[n]["t"]) if n < len(a) else seconds(b[n]["t"]) if n < len(b) else 0.0
    return [Violation("12.determinism", t, (), f"event logs differ from record {n} ({len(a)} vs {len(b)} records)")]
