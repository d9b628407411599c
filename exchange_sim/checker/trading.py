"""Safety invariants of trading behaviour (DESIGN section 4, items 6-9): exposure, crossing, HARD guards, rate
limits and the taker cap. Each a small function of ``(index, config, venue)``; see ``safety`` for the rest."""

from __future__ import annotations

from collections import deque
from typing import Any

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import DOWN_KINDS, Event, SessionIndex, seconds
from exchange_sim.checker.records import TERMINAL, Violation
from exchange_sim.checker.state import VenueState

HOUR_US = 3_600_000_000


def _latest(records: list[Event], t: int, key: str, default: Any) -> Any:
    value = default
    for record in records:
        if record["t"] > t:
            break
        value = record[key]
    return value


def check_inventory_limit(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """6. |inventory| never exceeds the configured hard limit plus the orders already in flight when it was last
    within it; a ``bot.hard_limit`` claim that differs from the configured limit is a violation too."""
    out = [Violation("6.inventory_limit", seconds(r["t"]), (), f"{r['s']}: the bot claims a hard limit of "
                     f"{r['lots']} lots, the config's is {config.hard_limit_lots[str(r['s'])]}")
           for r in index.records("bot.hard_limit")
           if str(r["s"]) in config.hard_limit_lots and int(r["lots"]) != config.hard_limit_lots[str(r["s"])]]
    sent = {str(i["c"]): int(i["t"]) for i in index.records("bot.intent")}
    for symbol in sorted({str(t["s"]) for t in index.trades}):
        hard = config.hard_limit_lots.get(symbol)
        if hard is None:
            continue
        inventory = config.initial_position_lots.get(symbol, 0)
        within_t = 0
        for trade in (t for t in index.trades if t["s"] == symbol):
            inventory += index.signed_lots(trade)
            t = int(trade["t"])
            if abs(inventory) <= hard:
                within_t = t
                continue
            side = "BUY" if inventory > 0 else "SELL"
            in_flight = sum(h.qty for cid, h in index.orders.items() if h.symbol == symbol and h.side == side
                            and sent.get(cid, h.first_t) <= within_t
                            and (h.terminal is None or int(h.terminal["t"]) >= within_t))
            if abs(inventory) > hard + in_flight:
                out.append(Violation("6.inventory_limit", seconds(t), (), f"{symbol}: inventory {inventory} lots > "
                                     f"hard limit {hard} + {in_flight} in flight when last within it"))
    return out


def check_no_crossing(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """7. Own quotes never cross; no maker order crosses the book it was priced on; the local book is never
    crossed and its applied update ids are contiguous."""
    out = []
    for intent in index.records("bot.intent"):
        price, bid, ask = intent.get("p"), intent.get("bb"), intent.get("ba")
        if price is None or intent.get("o", "LIMIT_MAKER") != "LIMIT_MAKER":
            continue
        if (intent["S"] == "BUY" and ask is not None and price >= ask) or (
                intent["S"] == "SELL" and bid is not None and price <= bid):
            out.append(Violation("7.no_crossing", seconds(intent["t"]), (str(intent["c"]),),
                                 f"maker {intent['S']} at {price} crosses the book it was priced on ({bid}/{ask})"))
    out += _own_quotes_cross(index)
    last: dict[str, int] = {}
    for book in index.records("bot.book"):
        symbol, t = str(book["s"]), seconds(book["t"])
        if book.get("bb") is not None and book.get("ba") is not None and book["bb"] >= book["ba"]:
            out.append(Violation("7.no_crossing", t, (), f"{symbol} local book crossed: {book['bb']}/{book['ba']}"))
        if not book.get("snap") and symbol in last and int(book["U"]) > last[symbol] + 1:
            out.append(Violation("7.no_crossing", t, (), f"{symbol} local book applied update {book['U']} after "
                                 f"{last[symbol]}: a gap"))
        last[symbol] = int(book["u"])
    return out


def _own_quotes_cross(index: SessionIndex) -> list[Violation]:
    live: dict[str, dict[str, tuple[str, int]]] = {}  # symbol -> cid -> (side, price)
    out = []
    cids = set(index.orders)
    for report in index.order_reports:
        cid = str(report["c"])
        if cid not in cids or report.get("a") != index.account or report["p"] is None:
            continue
        book = live.setdefault(str(report["s"]), {})
        if report["X"] in TERMINAL:
            book.pop(cid, None)
            continue
        book[cid] = (str(report["S"]), int(report["p"]))
        bids = [(p, c) for c, (side, p) in book.items() if side == "BUY"]
        asks = [(p, c) for c, (side, p) in book.items() if side == "SELL"]
        if bids and asks and max(bids)[0] >= min(asks)[0]:
            out.append(Violation("7.no_crossing", seconds(report["t"]), (max(bids)[1], min(asks)[1]),
                                 f"own bid {max(bids)[0]} >= own ask {min(asks)[0]}"))
    return out


BLOCKING_EFFECTS = frozenset({  # fault_hit effects that kept one of the bot's requests from working
    "request_lost", "reply_lost", "http_503", "http_403", "http_429", "http_418", "timestamp", "processed_lost",
    "processed_error"})
CANCEL_OPS = frozenset({"cancel", "cancelReplace", "cancelAll"})


def unreachable_windows(index: SessionIndex) -> list[tuple[int, int]]:
    """When the bot could not act on the venue: (start, end) of every fault that blocked at least one of its
    requests (a ``fault_hit`` on the bot's account with a ``BLOCKING_EFFECTS`` effect, or a reject of one of its
    cancels), over the fault's whole window; and of every crash, from the crash until the next instance starts
    (``bot.restart``)."""
    blocking = {int(h["id"]) for h in index.fault_hits
                if h.get("e") in BLOCKING_EFFECTS or (h.get("e") == "reject" and h.get("op") in CANCEL_OPS)}
    windows = [(start, end) for fault_id, (start, end, kind) in index.fault_windows_by_id().items()
               if kind in DOWN_KINDS or kind == "pause" or fault_id in blocking]
    # A Retry-After forbids sending until it expires (invariant 9), whether or not the fault that caused it is over.
    windows += [(int(r["t"]), int(r["t"]) + int(r["ra_ms"]) * 1000) for r in index.rejects
                if r.get("ra_ms") is not None]
    return sorted(windows)


def reachable_from(start: int, bound_us: int, windows: list[tuple[int, int]]) -> int:
    """When the bound of a reaction due from ``start`` starts counting: the end of the last unreachable window
    that overlaps the reaction's (so far) allowed time, ``start`` itself when none does."""
    reachable = start
    for begin, end in windows:  # sorted by start; ``reachable`` only grows
        if begin <= reachable + bound_us and end > reachable:
            reachable = end
    return reachable


_PLACING = {"place": "c", "cancelReplace": "nc"}  # request op -> field holding the new order's client id


def check_hard_guard(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """8. After a HARD guard no new order until it is reset, and every open order is gone within the bound (an
    order accepted after the guard, i.e. in flight when it fired, within the bound after its acceptance).

    The bound counts from when the bot could act on the venue again: while a fault blocked its requests (a full
    partition, a long WAF 403, a ban) or the bot was down (a crash), no cancel can land; ``unreachable_windows``
    reads those periods from the ``fault`` and ``fault_hit`` records, and the deadline is the bound after the
    last of them that overlaps the guard's allowed time (``reachable_from``)."""
    out = []
    guards = index.records("bot.guard")
    bound_us = round(config.hard_cancel_bound_s * 1_000_000)
    windows = unreachable_windows(index)
    for i, guard in enumerate(guards):
        if guard["level"] != "HARD":
            continue
        start = int(guard["t"])
        end = next((int(g["t"]) for g in guards[i + 1:] if g["level"] != "HARD"), index.end_t + 1)
        decided_before: set[str] = set()
        for intent in index.records("bot.intent"):
            if start < intent["t"] < end:
                out.append(Violation("8.hard_guard", seconds(intent["t"]), (str(intent["c"]),),
                                     f"new order under the HARD guard ({guard.get('reason')})"))
            elif intent["t"] <= start:
                decided_before.add(str(intent["c"]))
        for request in index.requests:  # a retry of an order decided before the guard must not go out after it
            sent = int(request["sent"] if "sent" in request else request["t"])
            new_cid = str(request.get(_PLACING.get(str(request.get("op")), "")))
            if start < sent < end and new_cid in decided_before:
                out.append(Violation("8.hard_guard", seconds(sent), (new_cid,),
                                     f"order decided before the HARD guard ({guard.get('reason')}) sent after it "
                                     "(a held-back retry must be re-checked against the guard)"))
        reachable = reachable_from(start, bound_us, windows)
        late: dict[int, list[str]] = {}
        for cid, history in index.orders.items():
            # an order still in flight at the guard (sent before it, accepted after it) can be cancelled only once
            # it rests: its bound counts from its acceptance (chaos seed 388: sent 0.2 s before a LATENCY HARD,
            # accepted 4.7 s after it, cancelled 0.8 s later)
            accepted = history.first_t
            deadline = reachable + bound_us if accepted <= start else max(reachable, accepted) + bound_us
            if deadline < end and deadline <= index.end_t and accepted < end and history.live_at(deadline):
                late.setdefault(deadline, []).append(cid)
        for deadline, resting in sorted(late.items()):
            since = "" if reachable == start else f", venue reachable again at {seconds(reachable):.3f}s"
            out.append(Violation("8.hard_guard", seconds(deadline), tuple(sorted(resting)), f"still open "
                                 f"{config.hard_cancel_bound_s}s after the HARD guard ({guard.get('reason')}"
                                 f"{since})"))
    return out


def check_rate_and_taker(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """9. Zero 418s; nothing sent after a Retry-After arrived and before it expired (by the instance told, or a
    warm restart of it: an instance cold-started without the state file was never told); taker fills per sliding
    hour within the cap."""
    out = [Violation("9.rate_and_taker", seconds(r["t"]), (), f"418 IP ban on {r.get('op')}")
           for r in index.rejects if r.get("http") == 418]
    # a cold restart kills the instance that was told and starts one without its state file: the new instance
    # cannot know a Retry-After its predecessor received (a warm restart keeps it in the store and is bound)
    cold_kills = [start for start, _end, kind in index.fault_windows() if kind == "cold_restart"]
    for reject in index.rejects:
        if reject.get("ra_ms") is None or reject.get("rcv") is None:
            continue
        told, until = int(reject["rcv"]), int(reject["t"]) + int(reject["ra_ms"]) * 1000
        forgotten = min((c for c in cold_kills if told < c < until), default=until)
        early = [r for r in index.requests if "sent" in r and told < int(r["sent"]) < min(until, forgotten)]
        if early:
            out.append(Violation("9.rate_and_taker", seconds(early[0]["sent"]), (), f"{len(early)} request(s) sent "
                                 f"before the Retry-After of {reject['ra_ms']} ms expired"))
    out += _taker_cap(index, config)
    return out


def _taker_cap(index: SessionIndex, config: CheckConfig) -> list[Violation]:
    """Taker fills per sliding hour within the configured cap (the largest regime's) and within the cap the bot
    claimed at the time; a claimed cap that is none of the configured ones is a violation."""
    caps = index.records("bot.taker_cap")
    out = [Violation("9.rate_and_taker", seconds(c["t"]), (), f"the bot claims a taker cap of {c['per_hour']}/h; "
                     f"the config's caps are {sorted(config.taker_caps)}")
           for c in caps if config.taker_caps and int(c["per_hour"]) not in config.taker_caps]
    window: deque[int] = deque()
    for trade in index.trades:
        if trade.get("ta") != index.account:
            continue
        t = int(trade["t"])
        window.append(t)
        while window[0] <= t - HOUR_US:
            window.popleft()
        limits = [int(c) for c in (config.taker_cap_per_hour, _latest(caps, t, "per_hour", None)) if c is not None]
        cap = min(limits, default=None)
        if cap is not None and len(window) > cap:
            out.append(Violation("9.rate_and_taker", seconds(t), (), f"{len(window)} taker fills in the last hour, "
                                 f"cap {cap}"))
    return out
