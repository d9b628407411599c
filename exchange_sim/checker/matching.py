"""Invariant 11 (matching engine), recomputed from the event log: the book rebuilt from its level records is never
crossed between instants, every trade is at the best opposite price (price priority), and each of the bot's
orders executed exactly the quantity of its trades, never more than it asked for. Time priority among the bot's
own orders at one price: a later order never fills while an earlier one at that price rests untouched."""

from __future__ import annotations

from collections import defaultdict

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import Event, SessionIndex, seconds
from exchange_sim.checker.records import TERMINAL, Violation
from exchange_sim.checker.state import VenueState


def check_matching(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    out = []
    if venue is not None and venue.audit_error is not None:
        out.append(Violation("11.matching", seconds(index.end_t), (), f"engine audit: {venue.audit_error}"))
    out += _book_and_price_priority(index)
    out += _quantities(index)
    return out


def _book_and_price_priority(index: SessionIndex) -> list[Violation]:
    """Replay book and trade records in log order (a trade's level change is logged just before it)."""
    levels: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: {"BUY": {}, "SELL": {}})
    out: list[Violation] = []
    pending_t: int | None = None
    touched: set[str] = set()
    for event in index.market:
        t = int(event["t"])
        if pending_t is not None and t != pending_t:
            out += _crossed(levels, touched, pending_t)
            touched = set()
        pending_t = t
        symbol = str(event["s"])
        touched.add(symbol)
        if event["k"] == "book":
            side = levels[symbol][event["S"]]
            if int(event["q"]):
                side[int(event["p"])] = int(event["q"])
            else:
                side.pop(int(event["p"]), None)
            continue
        price = int(event["p"])
        makers = levels[symbol]["SELL" if event["S"] == "BUY" else "BUY"]
        better = [p for p in makers if (p < price if event["S"] == "BUY" else p > price)]
        if better:
            best = min(better) if event["S"] == "BUY" else max(better)
            out.append(Violation("11.matching", seconds(t), (), f"{symbol} trade {event['id']} at {price} while "
                                 f"{len(better)} better level(s) rest (best {best})"))
    if pending_t is not None:
        out += _crossed(levels, touched, pending_t)
    return out


def _crossed(levels: dict[str, dict[str, dict[int, int]]], symbols: set[str], t: int) -> list[Violation]:
    out = []
    for symbol in sorted(symbols):
        bids, asks = levels[symbol]["BUY"], levels[symbol]["SELL"]
        if bids and asks and max(bids) >= min(asks):
            out.append(Violation("11.matching", seconds(t), (), f"{symbol} book crossed: {max(bids)} >= {min(asks)}"))
    return out


def _quantities(index: SessionIndex) -> list[Violation]:
    traded: dict[int, int] = defaultdict(int)
    for trade in index.trades:
        for role in ("mo", "to"):
            traded[int(trade[role])] += int(trade["q"])
    out = []
    for cid, history in sorted(index.orders.items()):
        last: Event = history.reports[-1]
        executed = int(last["z"])
        if executed > int(last["q"]) and last["o"] != "MARKET":
            out.append(Violation("11.matching", seconds(last["t"]), (cid,),
                                 f"executed {executed} > ordered {last['q']}"))
        fills = sum(traded[i] for i in history.order_ids)
        if fills != executed:
            out.append(Violation("11.matching", seconds(last["t"]), (cid,), f"executed {executed} lots but its "
                                 f"trades sum to {fills}"))
    out += _time_priority(index)
    return out


def _time_priority(index: SessionIndex) -> list[Violation]:
    """Among the bot's own resting orders at one price and side, the oldest fills first."""
    live: dict[tuple[str, str, int], list[tuple[int, str, int]]] = defaultdict(list)  # -> (order id, cid, filled)
    out = []
    for report in index.order_reports:
        cid = str(report["c"])
        if cid not in index.orders or report.get("a") != index.account or report["p"] is None:
            continue
        key, oid = (str(report["s"]), str(report["S"]), int(report["p"])), int(report["id"])
        queue = live[key]
        if report["x"] == "TRADE":
            ahead = [c for o, c, z in queue if o < oid and z == 0]
            if ahead:
                out.append(Violation("11.matching", seconds(report["t"]), (cid, *ahead),
                                     "filled while an older order at the same price rested unfilled"))
        queue[:] = [(o, c, z) for o, c, z in queue if o != oid]
        if report["X"] not in TERMINAL:
            queue.append((oid, cid, int(report["z"])))
            queue.sort()
    return out
