"""Invariants 19, 20 and 22: what the bot's orders do on the venue, judged against limits from the session's config
and the venue's own records (fills, order reports, listings), never against the bot's claims.

19. soft_reduce_only: no order decided while the bot must know that its venue position is at or past the SOFT
    inventory bound grows |position|. "Must know": a reconcile read the venue's fills (``listed_until``) and, over
    every subset of the venue fills since that listing (the bot may have received any of them, or none), the
    position stays at or past the bound on the same side::

        known(t) = |P(L)| - sum(max(0, -sign(P(L)) * f) for venue fills f in (L, t])   # the least |position|
        violation: known(t) >= soft_limit_lots and sign(order) == sign(P(L))

    ``L`` is the trade listing of the last reconcile recorded at least ``guard_lag_s`` of running time (time not
    inside a pause or a crash window) before the order was decided: the bot's risk loop assesses its guards
    periodically, so a reconcile's news needs that long to become a SOFT level. The grace for reports in flight
    is therefore the reconcile itself (a bound from the config: the reconcile interval), not the stream's
    delivery: fills the bot might not have heard of are only ever counted in its favour.
20. post_only: every limit order of the bot that rests on the venue is post-only (LIMIT_MAKER) unless the config
    lets the bot take with resting limit orders (``CheckConfig.maker_only``). The bot's taker path is MARKET or
    IOC/FOK (counted against the taker cap), which never rests; a plain LIMIT that rests was a quote that could
    have crossed and taken liquidity outside the cap.
22. soft_reduces: while the venue position stays at or past the SOFT bound on one side (the stretch ends when a
    fill takes it back inside or across), an order of the bot that reduces |position| rests on the venue within
    ``soft_reduce_bound_s`` (the config's reconcile interval) of time in which the bot could act and could know
    its position. Not counted: when its requests were blocked or it was down or paused (``unreachable_windows``,
    pauses), and when it may not have heard of its fills (the window of every fault that hit its traffic, and
    every gap of its user-data stream). Reduce-only is the SOFT guard's duty, not a halt. Excused, leniently,
    while the bot claims HARD or a SOFT whose reasons stop every order (an open circuit breaker, stale market
    data): those claims are judged by invariants 8 and 10.

21 is unassigned: a resting-bound candidate (no more resting orders per side than ladder levels) fired on the
unmodified bot and is not in the gate (docs/PERFORMANCE.md, sabotage catch rates, session 8).
"""

from __future__ import annotations

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import DOWN_KINDS, Event, SessionIndex, seconds
from exchange_sim.checker.records import TERMINAL, Violation
from exchange_sim.checker.state import VenueState
from exchange_sim.checker.trading import reachable_from, unreachable_windows
from exchange_sim.checker.venue_truth import answered_requests, listed_until


def _stalled_windows(index: SessionIndex) -> list[tuple[int, int]]:
    """When the bot's process did not run: pauses and crashes (until the next instance started)."""
    return sorted((start, end) for start, end, kind in index.fault_windows() if kind == "pause" or kind in DOWN_KINDS)


def _reconciles(index: SessionIndex, symbol: str) -> list[int]:
    """Times of the bot's reconcile records of ``symbol`` (``bot.position`` with final false); only when they
    happened is taken from the bot, what they read is the venue's listing."""
    return [int(r["t"]) for r in index.records("bot.position") if str(r["s"]) == symbol and not r.get("final")]


def _known_position(index: SessionIndex, config: CheckConfig, symbol: str, listed: int, t: int) -> tuple[int, int]:
    """(sign of the venue position at the listing ``listed``, the least |position| the bot can believe at ``t``)."""
    fills = [(int(tr["t"]), index.signed_lots(tr)) for tr in index.trades if tr["s"] == symbol and tr["t"] <= t]
    at_listing = config.initial_position_lots.get(symbol, 0) + sum(lots for when, lots in fills if when <= listed)
    sign = (at_listing > 0) - (at_listing < 0)
    reducing = sum(max(0, -sign * lots) for when, lots in fills if when > listed)
    return sign, abs(at_listing) - reducing


def check_soft_reduce_only(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """19. No order grows |venue position| once the bot must know it is at or past the SOFT bound (module
    docstring)."""
    out = []
    lag_us = round(config.guard_lag_s * 1_000_000)
    stalled = _stalled_windows(index)
    reconciles = {s: _reconciles(index, s) for s in config.soft_limit_lots}
    answered = answered_requests(index)
    for intent in index.records("bot.intent"):
        symbol, t = str(intent["s"]), int(intent["t"])
        soft = config.soft_limit_lots.get(symbol)
        if soft is None:
            continue
        known_at = [r for r in reconciles[symbol] if reachable_from(r, lag_us, stalled) + lag_us <= t]
        if not known_at:
            continue
        listed = listed_until(index, symbol, known_at[-1], answered)
        if listed < 0:
            continue
        sign, least = _known_position(index, config, symbol, listed, t)
        side = 1 if intent["S"] == "BUY" else -1
        if sign != 0 and side == sign and least >= soft:
            out.append(Violation("19.soft_reduce_only", seconds(t), (str(intent["c"]),),
                                 f"{intent['S']} {intent['q']} lots grows |position| while the venue position is "
                                 f"past the SOFT bound {soft} lots: at least {sign * least} lots since the "
                                 f"reconcile that listed fills to {seconds(listed):.3f}s"))
    return out


def _rested(reports: list[Event]) -> Event | None:
    """The first report after which the order rested on the venue (its last report at that instant not terminal)."""
    for i, report in enumerate(reports):
        later = reports[i + 1] if i + 1 < len(reports) else None
        if report["X"] not in TERMINAL and (later is None or later["t"] != report["t"]):
            return report
    return None


def check_post_only(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """20. Every resting limit order of the bot is LIMIT_MAKER unless ``config.maker_only`` is false."""
    if not config.maker_only:
        return []
    plain = sorted((int(r["t"]), cid) for cid, h in index.orders.items() if str(h.reports[0]["o"]) == "LIMIT"
                   for r in (_rested(h.reports),) if r is not None)
    if not plain:
        return []
    first_t, cid = plain[0]
    history = index.orders[cid]
    return [Violation("20.post_only", seconds(first_t), tuple(c for _, c in plain[:5]), f"{len(plain)} plain LIMIT "
                      f"order(s) of the bot rested on the venue (not post-only LIMIT_MAKER), the first {history.side} "
                      f"{history.qty} @ {history.price}: a quote that could take liquidity outside the taker cap")]


UNQUOTABLE = frozenset({"CIRCUIT_OPEN", "STALE_DATA"})  # SOFT reasons under which the bot places no order at all


def _past_soft(index: SessionIndex, config: CheckConfig, symbol: str, soft: int) -> list[tuple[int, int, int]]:
    """(start, end, sign) of every stretch in which the venue position of ``symbol`` is at or past ``soft``."""
    position = config.initial_position_lots.get(symbol, 0)
    out: list[tuple[int, int, int]] = []
    start: tuple[int, int] | None = (0, (position > 0) - (position < 0)) if abs(position) >= soft else None
    for trade in (tr for tr in index.trades if tr["s"] == symbol):
        position += index.signed_lots(trade)
        t, sign = int(trade["t"]), (position > 0) - (position < 0)
        if start is not None and (abs(position) < soft or sign != start[1]):
            out.append((start[0], t, start[1]))
            start = None
        if start is None and abs(position) >= soft:
            start = (t, sign)
    if start is not None:
        out.append((start[0], index.end_t, start[1]))
    return out


def _reducer_rested(index: SessionIndex, symbol: str, side: str, start: int, end: int) -> bool:
    """Whether an order of the bot on ``side`` of ``symbol`` rested on the venue at some moment in [start, end]."""
    return any(h.symbol == symbol and h.side == side and (
        h.live_at(start) or any(start <= r["t"] <= end and r["X"] not in TERMINAL for r in h.reports))
        for h in index.orders.values())


def _excused(guards: list[Event], start: int, end: int) -> bool:
    """The bot claimed HARD, or a SOFT that stops every order, at some moment in [start, end]."""
    before = [g for g in guards if int(g["t"]) <= start]
    claims = before[-1:] + [g for g in guards if start < int(g["t"]) <= end]
    return any(g["level"] == "HARD" or (g["level"] == "SOFT" and UNQUOTABLE & set(str(g.get("reason", "")).split(",")))
               for g in claims)


def _blind_windows(index: SessionIndex) -> list[tuple[int, int]]:
    """When the bot may not have heard of its fills: the whole window of every fault that hit its traffic (a
    missed or late report, a lost reply), and every gap of its user-data stream (a subscription's end to the next
    one's start)."""
    hit = {int(h["id"]) for h in index.fault_hits}
    out = [(start, end) for fault_id, (start, end, _kind) in index.fault_windows_by_id().items() if fault_id in hit]
    down: int | None = None
    for sub in index.user_subs:
        if sub["ph"] == "end" and down is None:
            down = int(sub["t"])
        elif sub["ph"] == "start" and down is not None:
            out.append((down, int(sub["t"])))
            down = None
    if down is not None:
        out.append((down, index.end_t))
    return out


def check_soft_reduces(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """22. Past the SOFT bound the bot quotes the reducing side within the liveness bound (module docstring)."""
    out = []
    bound_us = round(config.soft_reduce_bound_s * 1_000_000)
    windows = sorted(unreachable_windows(index) + _stalled_windows(index) + _blind_windows(index))
    guards = index.records("bot.guard")
    for symbol, soft in sorted(config.soft_limit_lots.items()):
        for start, end, sign in _past_soft(index, config, symbol, soft):
            side = "SELL" if sign > 0 else "BUY"
            begin = start
            while True:
                deadline = reachable_from(begin, bound_us, windows) + bound_us
                if deadline >= end or deadline > index.end_t:
                    break
                if not _excused(guards, begin, deadline) and not _reducer_rested(index, symbol, side, begin,
                                                                                   deadline):
                    out.append(Violation("22.soft_reduces", seconds(deadline), (), f"{symbol}: the venue position "
                                         f"has been past the SOFT bound {soft} lots since {seconds(start):.3f}s and "
                                         f"no reducing {side} order of the bot rested from {seconds(begin):.3f}s "
                                         f"to {seconds(deadline):.3f}s"))
                    break
                begin = deadline
    return out
