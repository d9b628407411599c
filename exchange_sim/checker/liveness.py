"""Liveness and determinism (DESIGN section 4, items 10 and 12), checked apart from safety.

Liveness: for every moment the faults heal (the end of a union of overlapping fault windows) that stays healed
for ``liveness_bound_s`` (a heal that new faults interrupt is judged at the next one), the bot is quoting again
within the bound: an order of its own rests on the venue at the bound, or the venue accepted one (a ``NEW``
report) in between. Only the venue's records count as quoting; the bot's own claims do not.

The bot may legitimately not quote at the bound only in these states, each verified against the venue and the
harness rather than taken from the bot's word (its ``bot.guard`` records say which state it claims):

* **a latch in force** (``bot.guard`` ``latch`` not empty): a ``kill_switch`` or ``operator`` latch needs a cause
  outside the bot's risk engine: an operator action (``harness.operator`` kill_switch) or a failed task
  (``bot.task_failed``) before it; an ``inventory`` latch needs the venue's own position (signed fills of the
  bot's account) to have reached the configured hard limit; a ``drawdown`` latch (the session stop-loss) is
  accepted as claimed - the checker does not mark positions to market. An unverified latch is a violation.
* **SOFT (reduce-only) with nothing to reduce**: the venue's position is flat in every symbol, so no order may
  be placed. SOFT with a position must quote the reducing side.

* **a loss halt** (HARD on loss rate or drawdown only, by the record's ``hard`` reasons: a SOFT inventory beside
  it does not matter): its window (``risk.pnl_rate.window_s``, 10 minutes) can
  outlast any bound, so it excuses when the venue shows a loss: the bot's equity from its fills, marked at the
  market's last trade, is below its running peak at the bound.

Any other recoverable HARD (latency, venue health, stale data, circuit) at the bound is no excuse: it clears by
itself once its cause is healthy (``risk.hard_recovery_s``), and the bound the session's config gives the checker
includes that recovery time (``harness.check_config.check_config_for``). Heals too close to the session end are
not judged.

A verified latch lifted inside the bound (an operator's reset, ``bot.guard`` without a latch after one with it)
moves the start of the bound to the lift: the bot could not quote before it, so it gets the same bound from the
moment it could (chaos seed 370: a kill switch the operator pulled, reset 89.75 s after the heal, the bot quoting
0.46 s after the reset). The bound is not widened: it restarts at most once per latch episode, and the heal is
then judged like one at the lift (no new fault within it, within the session).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import orjson

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import Event, SessionIndex, seconds
from exchange_sim.checker.records import Violation
from exchange_sim.checker.safety import venue_position
from exchange_sim.checker.state import VenueState

OUTSIDE_CAUSE_LATCHES = frozenset({"kill_switch", "operator"})
LOSS_REASONS = frozenset({"PNL_RATE", "DRAWDOWN"})  # the guards that halt on losses


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


def judged_heals(index: SessionIndex, bound_us: int) -> list[int]:
    """The heals whose bound ends within the session and before any new fault starts."""
    starts = sorted(start for start, _end, _kind in index.fault_windows())
    return [heal for heal in heal_times(index) if heal + bound_us <= index.end_t
            and not any(heal < s <= heal + bound_us for s in starts)]


def check_liveness(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """10. Quoting resumes within the bound after faults heal, unless a verified latch or a flat SOFT holds."""
    bound = round(config.liveness_bound_s * 1_000_000)
    guards = index.records("bot.guard")
    starts = sorted(start for start, _end, _kind in index.fault_windows())
    out = []
    for heal in judged_heals(index, bound):
        begin = heal
        while (lifted := _latch_lifted(index, config, guards, begin, begin + bound)) is not None:
            begin = lifted  # the bot could not quote before an operator lifted a legitimate latch
        deadline = begin + bound
        if deadline > index.end_t or any(heal < s <= deadline for s in starts):
            continue  # judged at the next heal, or too close to the end
        if any(h.live_at(deadline) or any(heal <= r["t"] <= deadline and r["x"] == "NEW" for r in h.reports)
               for h in index.orders.values()):
            continue
        guard = next((g for g in reversed(guards) if g["t"] <= deadline), None)
        excuse = _excuse(index, config, guard, deadline)
        if excuse is None:
            lift = f", a latch lifted at {seconds(begin):.3f}s" if begin != heal else ""
            out.append(Violation("10.liveness", seconds(deadline), (), f"no quote within {config.liveness_bound_s}s "
                                 f"of the faults healing at {seconds(heal):.3f}s{lift} (guard {_state(guard)})"))
        elif excuse:
            out.append(Violation("10.liveness", seconds(deadline), (), excuse))
    return out


def _latch_lifted(index: SessionIndex, config: CheckConfig, guards: list[Event], after: int, until: int) -> int | None:
    """When a latch that held after ``after`` was lifted (the first ``bot.guard`` without a latch following one
    with it), if that was in ``(after, until]`` and the latch was supported by the venue or the harness from its
    first record on; else None (an unsupported latch buys no time)."""
    held: Event | None = None
    lifted: tuple[int, Event] | None = None
    for guard in guards:
        t = int(guard["t"])
        if t > until:
            break
        if guard.get("latch") and guard["level"] == "HARD":
            held = held if held is not None else guard
        elif held is not None:
            if t > after:
                lifted = (t, held)
            held = None
    if lifted is None:
        return None
    t, first = lifted
    return t if _latch_unsupported(index, config, str(first["latch"]), int(first["t"])) == "" else None


def _state(guard: Event | None) -> str:
    if guard is None:
        return "OK"
    latch = f", latch {guard['latch']}" if guard.get("latch") else ""
    return f"{guard['level']} {guard.get('reason', '')}{latch}".strip()


def _excuse(index: SessionIndex, config: CheckConfig, guard: Event | None, deadline: int) -> str | None:
    """Why not quoting at ``deadline`` is right: "" (a verified excuse), a violation's text (a latch the venue and
    the harness do not support), or None (no excuse: the liveness violation itself)."""
    if guard is None:
        return None
    latch = str(guard.get("latch") or "")
    if latch and guard["level"] == "HARD":
        return _latch_unsupported(index, config, latch, int(guard["t"]))
    # the reasons holding the bot HARD ("hard"); older logs only list every reason in force, at any level
    reasons = set(str(guard["hard"] if "hard" in guard else guard.get("reason", "")).split(","))
    if guard["level"] == "HARD" and reasons <= LOSS_REASONS:
        return "" if _in_drawdown(index, deadline) else (
            f"the bot halts on {guard['reason']} at {seconds(deadline):.3f}s but its venue fills, marked at the "
            "market's last trade, show no loss from their peak: an unexplained halt")
    symbols = _symbols(index, config)
    if guard["level"] == "SOFT" and all(venue_position(index, config, s, deadline) == 0 for s in symbols):
        return ""
    return None


def _latch_unsupported(index: SessionIndex, config: CheckConfig, latch: str, since: int) -> str:
    """"" when the latch in force since ``since`` is supported by the venue or the harness, else why not."""
    if latch in OUTSIDE_CAUSE_LATCHES:
        operator = any(r.get("action") == "kill_switch" and int(r["t"]) <= since
                       for r in index.records("harness.operator"))
        if operator or any(int(r["t"]) <= since for r in index.records("bot.task_failed")):
            return ""
        return (f"the bot holds a {latch} latch since {seconds(since):.3f}s with no operator kill and no failed "
                "task before it: an unexplained halt")
    if latch == "inventory":
        for symbol, limit in config.hard_limit_lots.items():
            position = peak = config.initial_position_lots.get(symbol, 0)
            for trade in index.trades:
                if trade["s"] == symbol and int(trade["t"]) <= since:
                    position += index.signed_lots(trade)
                    peak = max(peak, abs(position))
            if abs(peak) >= limit:
                return ""
        return (f"the bot holds an inventory latch since {seconds(since):.3f}s but its venue position never "
                f"reached the hard limit {dict(config.hard_limit_lots)}")
    return ""  # drawdown (the stop-loss) and other configured latching reasons: accepted as claimed


def _in_drawdown(index: SessionIndex, until_t: int) -> bool:
    """Whether the bot's equity from its venue fills (cash flows plus position, marked at each symbol's last
    public trade, in ticks x lots per symbol) is below its running peak at ``until_t``: evidence of a loss
    that the venue, not the bot, shows. Fees are left out (the market maker's tier pays none)."""
    cash: dict[str, int] = {}
    position: dict[str, int] = {}
    last_price: dict[str, int] = {}
    peak = equity = 0
    for trade in index.all_trades:
        if int(trade["t"]) > until_t:
            break
        symbol, price = str(trade["s"]), int(trade["p"])
        last_price[symbol] = price
        signed = index.signed_lots(trade)
        if signed:
            position[symbol] = position.get(symbol, 0) + signed
            cash[symbol] = cash.get(symbol, 0) - signed * price
        equity = sum(cash[s] + position[s] * last_price[s] for s in cash)
        peak = max(peak, equity)
    return equity < peak


def _symbols(index: SessionIndex, config: CheckConfig) -> set[str]:
    return set(config.hard_limit_lots) | {str(t["s"]) for t in index.trades}


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
