"""Safety invariants (DESIGN section 4, items 1-9 and 11): each a small function of the indexed session.

Every function takes ``(index, config, venue)`` and returns its violations; it checks only what the records
allow (see ``records.BOT_RECORDS``) and never imports or calls the bot.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import Event, SessionIndex, seconds
from exchange_sim.checker.records import Violation
from exchange_sim.checker.state import VenueState, apply_trade
from exchange_sim.checker.trading import reachable_from, unreachable_windows
from exchange_sim.checker.venue_truth import answered_requests

Check = Callable[[SessionIndex, CheckConfig, VenueState | None], list[Violation]]


def _final_positions(index: SessionIndex) -> dict[str, Event]:
    records = index.records("bot.position")
    finals = [r for r in records if r.get("final")] or records
    return {str(r["s"]): r for r in finals}


def venue_position(index: SessionIndex, config: CheckConfig, symbol: str, until_t: int | None = None) -> int:
    """The bot's position in ``symbol`` from the venue's fills of its account (up to ``until_t`` if given)."""
    return config.initial_position_lots.get(symbol, 0) + sum(
        index.signed_lots(t) for t in index.trades if t["s"] == symbol and (until_t is None or t["t"] <= until_t))


def check_ledger(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """1. The bot's final position equals the venue's (signed venue fills) and the sum of the fills it booked."""
    out = []
    applied: dict[str, int] = defaultdict(int)
    last_epoch = index.memory_epoch(index.end_t)  # a cold restart books the past anew: its own ledger counts
    for fill in index.records("bot.fill_applied"):
        if index.memory_epoch(int(fill["t"])) == last_epoch:
            applied[str(fill["s"])] += (1 if fill["S"] == "BUY" else -1) * int(fill["q"])
    for symbol, record in sorted(_final_positions(index).items()):
        venue_lots = venue_position(index, config, symbol)
        if int(record["lots"]) != venue_lots:
            out.append(Violation("1.ledger", seconds(record["t"]), (), f"{symbol}: bot position {record['lots']} "
                                 f"lots, venue fills sum to {venue_lots}"))
        booked = config.initial_position_lots.get(symbol, 0) + applied[symbol]
        if index.records("bot.fill_applied") and booked != int(record["lots"]):
            out.append(Violation("1.ledger", seconds(record["t"]), (), f"{symbol}: bot position {record['lots']} "
                                 f"lots, its booked fills sum to {booked}"))
    return out


def check_fills_once(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """2. Each venue fill is booked exactly once: no trade id twice, none unknown to the venue, none missing."""
    fills = index.records("bot.fill_applied")
    if not fills:
        return []
    out = []
    venue_ids = {(str(t["s"]), int(t["id"])) for t in index.trades}
    epoch = {id(f): index.memory_epoch(int(f["t"])) for f in fills}  # a cold restart books the past anew
    counts = Counter((epoch[id(f)], str(f["s"]), int(f["tid"])) for f in fills)
    for fill in fills:
        key = (str(fill["s"]), int(fill["tid"]))
        if counts[(epoch[id(fill)], *key)] > 1:
            counts[(epoch[id(fill)], *key)] = 0  # report once
            out.append(Violation("2.fill_once", seconds(fill["t"]), (str(fill.get("c", "")),),
                                 f"trade {key[1]} on {key[0]} booked more than once"))
        elif key not in venue_ids:
            out.append(Violation("2.fill_once", seconds(fill["t"]), (str(fill.get("c", "")),),
                                 f"trade {key[1]} on {key[0]} booked but the venue has no such fill of ours"))
    if _final_positions(index):
        booked = {(str(f["s"]), int(f["tid"])) for f in fills}
        for trade in index.trades:
            if (str(trade["s"]), int(trade["id"])) not in booked:
                out.append(Violation("2.fill_once", seconds(trade["t"]), (), f"venue trade {trade['id']} on "
                                     f"{trade['s']} was never booked"))
    return out


def check_conservation(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """3. Exchange-wide supply is conserved; the bot's balances equal its opening balances plus its fills minus fees."""
    if venue is None:
        return []
    end = seconds(index.end_t)
    out = [Violation("3.conservation", end, (), f"{asset}: held {held} atoms, deposited {deposited}")
           for asset, (held, deposited) in sorted(venue.supply.items()) if held != deposited]
    initial = venue.initial_balances.get(config.account)
    if initial is None or not venue.specs:
        return out
    expected: dict[str, int] = dict(initial)
    for trade in index.trades:
        apply_trade(expected, trade, config.account, venue.specs[trade["s"]])
    actual = venue.balances.get(config.account, {})
    for asset in sorted(set(expected) | set(actual)):
        if expected.get(asset, 0) != actual.get(asset, 0):
            out.append(Violation("3.conservation", end, (), f"{config.account} {asset}: venue holds "
                                 f"{actual.get(asset, 0)} atoms, opening balance + fills - fees = "
                                 f"{expected.get(asset, 0)}"))
    return out


def check_no_orphans(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """4. After each reconcile and at session end, the venue's open orders equal the bot's.

    A reconcile's view is the venue's listing (its last answered ``openOrders`` request before the record:
    ``venue_truth.answered_requests``; one refused or cut short never reached the bot) plus what
    the user stream told it since: an order whose state changed on the venue between the listing and the
    record (filled or placed while the answer was on its way) is judged by neither side."""
    out = []
    listings = sorted(int(r["t"]) for r in answered_requests(index) if r.get("op") == "openOrders")
    for record in index.records("bot.open_orders"):
        t = int(record["t"])
        believed, pending = set(record.get("cids", ())), set(record.get("pending", ()))
        if record.get("phase") == "final" and venue is not None:
            on_venue = set(venue.open_orders.get(config.account, frozenset()))
        else:
            on_venue = {cid for cid, h in index.orders.items() if h.live_at(t)}
            listed_t = next((lt for lt in reversed(listings) if lt <= t), None)
            if listed_t is not None:
                changed = {cid for cid, h in index.orders.items()  # any change, even one undone since
                           if h.live_at(listed_t) != h.live_at(t)
                           or any(listed_t < int(r["t"]) <= t for r in h.reports)}
                believed, on_venue = believed - changed, on_venue - changed
        for cid in sorted(on_venue - believed - pending):
            out.append(Violation("4.no_orphans", seconds(t), (cid,), "open on the venue, unknown to the bot"))
        for cid in sorted(believed - on_venue):
            out.append(Violation("4.no_orphans", seconds(t), (cid,), "the bot believes it rests; the venue does not"))
    return out


def check_order_lifecycle(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """5. Ids never reused; one terminal state per intent, known to the bot within the bound (counted from when
    the venue was reachable again, as for invariant 8: ``trading.unreachable_windows``); an order that reached
    the venue is never booked as REJECTED unless the venue rejected it. An intent whose record a later cold
    restart erased need not be booked terminal (whatever of it rests is judged by invariants 4 and 13)."""
    out = []
    intents = index.records("bot.intent")
    for cid, n in sorted(Counter(str(i["c"]) for i in intents).items()):
        if n > 1:
            out.append(Violation("5.order_lifecycle", seconds(index.end_t), (cid,), f"client id used by {n} intents"))
    for cid, history in sorted(index.orders.items()):
        if len(history.order_ids) > 1:
            out.append(Violation("5.order_lifecycle", seconds(history.first_t), (cid,),
                                 f"client id names {len(history.order_ids)} venue orders"))
    finals: dict[str, list[Event]] = defaultdict(list)
    for record in index.records("bot.order_final"):
        finals[str(record["c"])].append(record)
    rejected_by_venue = {str(r.get("c")) for r in index.rejects if r.get("op") in ("place", "cancelReplace")}
    open_at_end = set(venue.open_orders.get(config.account, ())) if venue is not None else set()
    windows = unreachable_windows(index)
    for intent in intents:
        out += _lifecycle_of(str(intent["c"]), int(intent["t"]), index, config, finals, rejected_by_venue,
                             open_at_end, windows)
    return out


def _lifecycle_of(
    cid: str, t: int, index: SessionIndex, config: CheckConfig, finals: dict[str, list[Event]],
    rejected_by_venue: set[str], open_at_end: set[str], windows: list[tuple[int, int]],
) -> list[Violation]:
    out = []
    booked = finals.get(cid, [])
    statuses = {str(r["X"]) for r in booked}
    if len(statuses) > 1:
        out.append(Violation("5.order_lifecycle", seconds(booked[-1]["t"]), (cid,),
                             f"booked in several terminal states: {sorted(statuses)}"))
    history = index.orders.get(cid)
    terminal = history.terminal if history is not None else None
    if "REJECTED" in statuses and history is not None and cid not in rejected_by_venue:
        out.append(Violation("5.order_lifecycle", seconds(booked[0]["t"]), (cid,),
                             "booked as REJECTED but the venue accepted it (an unknown outcome booked as failure)"))
    if terminal is not None and booked:
        bound_us = round(config.terminal_bound_s * 1_000_000)  # counted from when the bot could read the venue
        late = seconds(int(booked[0]["t"]) - reachable_from(int(terminal["t"]), bound_us, windows))
        if late > config.terminal_bound_s:
            out.append(Violation("5.order_lifecycle", seconds(booked[0]["t"]), (cid,),
                                 f"the bot learned the terminal state {late:.1f}s after the venue"))
    forgotten = index.memory_epoch(index.end_t) > index.memory_epoch(t)  # a cold restart lost the intent's record
    if terminal is not None and not booked and finals and not forgotten and seconds(index.end_t - int(terminal["t"])) \
            > config.terminal_bound_s:
        out.append(Violation("5.order_lifecycle", seconds(terminal["t"]), (cid,),
                             f"the venue ended it ({terminal['X']}); the bot never booked a terminal state"))
    reached_end = seconds(index.end_t - t) > config.terminal_bound_s
    if not booked and terminal is None and cid not in rejected_by_venue and cid not in open_at_end and reached_end \
            and not forgotten and (history is None or not history.live_at(index.end_t)):
        out.append(Violation("5.order_lifecycle", seconds(t), (cid,), "no terminal state by the end of the session"))
    return out
