"""Invariants 13-17: the bot's claims about its orders and books against the venue's own records, during the
session and across restarts, never the other way round.

13. closed_at_end: nothing of the bot rests on the venue after its stop (the venue's end state).
14. one_per_intent: no re-sent duplicate. Two orders of the bot with the same symbol, side, type, price and
    quantity are one intent sent twice when the later was decided (``bot.intent``) strictly after the earlier,
    went live on the venue while the earlier still rested there (even if the earlier arrived late), and the bot
    had sent no cancel that could have been aimed at the earlier before it decided the later: it had no reason
    to believe the first was gone. Orders decided at one instant (one batch of quotes) are not compared. A
    re-send after the first order ended on the venue, or after a cancel of it was sent, is a new intent. An
    order of the bot the venue knows but that no ``bot.intent`` announced is a violation too (an undeclared
    send).
15. final_status: every ``bot.order_final`` equals the venue's terminal status of that order (EXPIRED_IN_MATCH
    reads as EXPIRED); an order the venue never saw may only be booked REJECTED or EXPIRED.
16. reconciled_books: after every reconcile, the bot's position equals the venue's: the venue's fills up to the
    trade listing that reconcile read, plus the later fills the bot had already booked from the stream; and its
    balances (``bot.balances``) equal the venue's totals as of the balance listing it read. A listing was read
    only if its answer reached the bot (``answered_requests``): reconciles may overlap.
17. restart_ledger: every position the bot reports, in every life, equals the sum of the distinct venue fills
    booked by all its lives so far; no fill is booked again by a later life.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import Event, SessionIndex, seconds
from exchange_sim.checker.records import INJECTED_PREFIX, Violation
from exchange_sim.checker.state import VenueState, apply_trade
from exchange_sim.checker.trading import CANCEL_OPS, unreachable_windows


def check_closed_at_end(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """13. Nothing of the bot left open on the venue at session end, unless the venue was unreachable for the
    bot (a blocking fault or a crash) within the HARD cancel bound of the end: then no cancel could land."""
    if venue is None:
        return []
    left = sorted(c for c in venue.open_orders.get(config.account, frozenset()) if not c.startswith(INJECTED_PREFIX))
    if not left:
        return []
    bound = round(config.hard_cancel_bound_s * 1_000_000)
    if any(end > index.end_t - bound for _, end in unreachable_windows(index)):
        return []
    return [Violation("13.closed_at_end", seconds(index.end_t), tuple(left),
                      f"{len(left)} order(s) of the bot still open on the venue after its stop")]


def _sent(event: Event) -> int:
    """When the bot sent the request (its ``sent`` field; else when the venue recorded it)."""
    return int(event["sent"] if "sent" in event else event["t"])


def _cancel_times(index: SessionIndex) -> tuple[dict[str, int], dict[str, list[int]], list[int]]:
    """When a cancel was first sent per client id, cancel-alls per symbol, and lost cancel-type requests (their
    target is unknown: they may have been aimed at any order)."""
    by_id = {oid: cid for cid, h in index.orders.items() for oid in h.order_ids}
    first: dict[str, int] = {}
    everything: dict[str, list[int]] = defaultdict(list)
    for request in index.requests:
        op, sent = request.get("op"), _sent(request)
        if op in ("cancel", "cancelReplace"):
            cid = request.get("c") or by_id.get(request.get("id") or -1)
            if cid is not None:
                first[str(cid)] = min(sent, first.get(str(cid), sent))
        elif op == "cancelAll":
            everything[str(request.get("s"))].append(sent)
    lost = [_sent(h) for h in index.fault_hits if h.get("op") in CANCEL_OPS]
    return first, everything, lost


def check_one_order_per_intent(index: SessionIndex, config: CheckConfig,
                               venue: VenueState | None) -> list[Violation]:
    """14. At most one live order per intent (see the module docstring for the rule)."""
    intents = {str(i["c"]): int(i["t"]) for i in index.records("bot.intent")}
    out = [Violation("14.one_per_intent", seconds(h.first_t), (cid,), "on the venue, but no bot.intent announced it")
           for cid, h in sorted(index.orders.items()) if cid not in intents]
    first_cancel, cancel_all, lost = _cancel_times(index)

    def cancelled_by(cid: str, symbol: str) -> float:
        """When a cancel that could have been aimed at ``cid`` was first sent (inf: never)."""
        return min(first_cancel.get(cid, math.inf), *cancel_all.get(symbol, ()), *lost, math.inf)

    groups: dict[tuple[str, str, str, int, int], list[str]] = defaultdict(list)
    for cid, h in index.orders.items():
        if h.price is not None:
            groups[(h.symbol, h.side, str(h.reports[0]["o"]), h.price, h.qty)].append(cid)
    for key, cids in sorted(groups.items()):
        out += _duplicates(index, key, cids, intents, cancelled_by)
    return out


def _duplicates(index: SessionIndex, key: tuple[str, str, str, int, int], cids: list[str], intents: dict[str, int],
                cancelled_by: Callable[[str, str], float]) -> list[Violation]:
    """Pairs of one key's orders that rested together although the later was decided after the earlier with no
    cancel sent that could have been aimed at the earlier (module docstring, 14)."""
    out = []
    decided = {c: intents.get(c, index.orders[c].first_t) for c in cids}
    went_live = {c: next((int(r["t"]) for r in index.orders[c].reports if r["x"] == "NEW"), None) for c in cids}
    ordered = sorted(cids, key=lambda c: (decided[c], index.orders[c].first_t))
    for i, later in enumerate(ordered):
        for earlier in ordered[:i]:
            live_e, live_l = went_live[earlier], went_live[later]
            if live_e is None or live_l is None or decided[earlier] >= decided[later]:
                continue  # one batch of quotes decides at one instant: not a re-send
            both = max(live_e, live_l)
            if index.orders[earlier].live_at(both) and index.orders[later].live_at(both) \
                    and cancelled_by(earlier, key[0]) > decided[later]:
                out.append(Violation("14.one_per_intent", seconds(both), (earlier, later),
                                     f"{key[1]} {key[4]} @ {key[3]} sent again while the first still rested and "
                                     "no cancel of it had been sent"))
                break
    return out


def _normal(status: str) -> str:
    return "EXPIRED" if status == "EXPIRED_IN_MATCH" else status


def check_final_status(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """15. The terminal status the bot booked equals the venue's."""
    out = []
    for record in index.records("bot.order_final"):
        cid, booked, t = str(record["c"]), _normal(str(record["X"])), seconds(record["t"])
        history = index.orders.get(cid)
        if history is None:
            if booked not in ("REJECTED", "EXPIRED"):
                out.append(Violation("15.final_status", t, (cid,), f"booked {booked}; the venue never had it"))
            continue
        terminal = history.terminal
        if terminal is None:
            out.append(Violation("15.final_status", t, (cid,), f"booked {booked}; the venue never ended it"))
        elif _normal(str(terminal["X"])) != booked:
            out.append(Violation("15.final_status", t, (cid,), f"booked {booked}; the venue's status is "
                                 f"{terminal['X']}"))
    return out


def _last(requests: list[Event], op: str, until: int, symbol: str | None = None) -> Event | None:
    """The last request ``op`` (of ``symbol``) recorded at or before ``until``. The log is in time order, so the
    requests up to ``until`` are the prefix ``bisect_right`` finds; walked back from its end, the first match is
    the last one (one walk per reconcile, not a scan of the whole log from its start)."""
    for i in range(bisect_right(requests, until, key=_t) - 1, -1, -1):
        request = requests[i]
        if request.get("op") == op and (symbol is None or request.get("s") == symbol):
            return request
    return None


def _t(event: Event) -> int:
    return int(event["t"])


# fault_hit effects, logged at the instant the venue recorded the request, that kept its answer from the bot
_UNANSWERED_AT_ONCE = frozenset({"reply_truncated", "processed_lost", "processed_error", "http_429", "http_418",
                                 "http_503", "http_403", "timestamp"})


def answered_requests(index: SessionIndex) -> list[Event]:
    """The bot's requests whose answer reached it, as the venue's and the fault injector's records show: not
    refused (a ``reject`` of the same op at the instant the venue recorded the request), not cut short or lost
    by a fault (a ``fault_hit`` of the same op at that instant with an effect in ``_UNANSWERED_AT_ONCE``; a
    ``reply_lost``, logged when the answer would have landed, takes the latest such request before it). A
    listing the bot never read tells nothing about what it knows (chaos seeds 151 and 744: a trade listing cut
    short, one refused with a 429, both sent by a second reconcile while the first waited for its own)."""
    refused = {(r.get("op"), int(r["t"])) for r in index.rejects}
    refused |= {(h.get("op"), int(h["t"])) for h in index.fault_hits if h.get("e") in _UNANSWERED_AT_ONCE}
    lost = {id(request) for hit in index.fault_hits if hit.get("e") == "reply_lost"  # a refusal may be lost too
            if (request := _last(index.requests, str(hit.get("op")), int(hit["t"]))) is not None}
    return [r for r in index.requests if (r.get("op"), int(r["t"])) not in refused and id(r) not in lost]


def listed_until(index: SessionIndex, symbol: str, t: int, answered: list[Event] | None = None) -> int:
    """The venue time of the trade listing a reconcile recorded at ``t`` had read (-1: none). A reconcile lists
    trades, then open orders, then balances, each sent after the previous answer: the balances request is the
    last one answered before ``t``, the open-orders request the last answered one before that was sent, the trade
    listing the last answered one of ``symbol`` before that was sent (``answered_requests``, computed if not
    given)."""
    requests = answered_requests(index) if answered is None else answered
    balances = _last(requests, "account", t)
    opened = None if balances is None else _last(requests, "openOrders", _sent(balances))
    listing = None if opened is None else _last(requests, "myTrades", _sent(opened), symbol)
    return -1 if listing is None else int(listing["t"])


def _booked_at(index: SessionIndex) -> dict[tuple[str, int], int]:
    booked: dict[tuple[str, int], int] = {}
    for fill in index.records("bot.fill_applied"):
        booked.setdefault((str(fill["s"]), int(fill["tid"])), int(fill["t"]))
    return booked


def check_reconciled_books(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """16. The position after every reconcile equals the venue's as of that reconcile's trade listing."""
    out = []
    booked = _booked_at(index)
    answered = answered_requests(index)
    for record in index.records("bot.position"):
        if record.get("final"):
            continue
        symbol, t = str(record["s"]), int(record["t"])
        listed = listed_until(index, symbol, t, answered)
        counted = [tr for tr in index.trades if tr["s"] == symbol and tr["t"] <= t
                   and (tr["t"] <= listed or booked.get((symbol, int(tr["id"])), t + 1) <= t)]
        venue_lots = config.initial_position_lots.get(symbol, 0) + sum(index.signed_lots(tr) for tr in counted)
        if int(record["lots"]) != venue_lots:
            missed = sorted(int(tr["id"]) for tr in counted if booked.get((symbol, int(tr["id"])), t + 1) > t)
            out.append(Violation("16.reconciled_books", seconds(t), (), f"{symbol}: bot position {record['lots']} "
                                 f"lots after a reconcile, venue {venue_lots} (listed to {seconds(listed):.3f}s; "
                                 f"venue fills not booked: {missed[:5]})"))
    return out + _reconciled_balances(index, config, venue, answered)


def _reconciled_balances(index: SessionIndex, config: CheckConfig, venue: VenueState | None,
                         answered: list[Event]) -> list[Violation]:
    """16 (balances): each ``bot.balances`` equals the venue's totals as of the balance listing it read (the last
    answered ``account`` request before the record): opening balances plus the bot's fills up to then, minus
    fees."""
    initial = venue.initial_balances.get(config.account) if venue is not None else None
    if venue is None or initial is None:
        return []
    out = []
    requests = [int(r["t"]) for r in answered if r.get("op") == "account"]
    for record in index.records("bot.balances"):
        t = int(record["t"])
        listed = max((r for r in requests if r <= t), default=None)
        if listed is None:
            continue
        expected = dict(initial)
        for trade in index.trades:
            if trade["t"] > listed:
                break
            apply_trade(expected, trade, config.account, venue.specs[trade["s"]])
        claimed = {str(a): int(n) for a, n in record["atoms"].items()}
        wrong = [a for a in sorted(set(expected) | set(claimed)) if expected.get(a, 0) != claimed.get(a, 0)]
        if wrong:
            out.append(Violation("16.reconciled_books", seconds(t), (), "balances after a reconcile: " + ", ".join(
                f"{a} bot {claimed.get(a, 0)} atoms, venue {expected.get(a, 0)}" for a in wrong)))
    return out


def check_restart_ledger(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """17. Each position claim equals the distinct fills booked by all lives so far; no life re-books a fill that an
    earlier life booked, unless a cold restart (no state file) lies between them (``SessionIndex.memory_epoch``)."""
    out = []
    trades = {(str(tr["s"]), int(tr["id"])): index.signed_lots(tr) for tr in index.trades}
    restarts = sorted(int(r["t"]) for r in index.records("bot.restart"))
    first_life: dict[tuple[int, str, int], int] = {}  # (memory epoch, symbol, trade id) -> life that booked it
    for fill in index.records("bot.fill_applied"):
        key = (index.memory_epoch(int(fill["t"])), str(fill["s"]), int(fill["tid"]))
        life = sum(1 for r in restarts if r <= int(fill["t"]))
        if key in first_life and first_life[key] != life:
            out.append(Violation("17.restart_ledger", seconds(fill["t"]), (str(fill.get("c", "")),),
                                 f"trade {key[2]} on {key[1]} booked in life {first_life[key]} and again in "
                                 f"life {life} after a restart"))
        first_life.setdefault(key, life)
    booked = _booked_at(index)
    for record in index.records("bot.position"):
        symbol, t = str(record["s"]), int(record["t"])
        expected = config.initial_position_lots.get(symbol, 0) + sum(
            signed for key, signed in trades.items() if key[0] == symbol and booked.get(key, t + 1) <= t)
        if int(record["lots"]) != expected:
            out.append(Violation("17.restart_ledger", seconds(t), (), f"{symbol}: bot position {record['lots']} "
                                 f"lots, the distinct fills its lives booked sum to {expected}"))
    return out
