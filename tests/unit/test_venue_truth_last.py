"""``venue_truth._last`` (the request a reconcile read) against the scan it replaced, on seeded random logs."""

from __future__ import annotations

import random

from exchange_sim.checker.index import Event
from exchange_sim.checker.venue_truth import _last

OPS = ("account", "openOrders", "myTrades", "order", "depth")


def _scan(requests: list[Event], op: str, until: int, symbol: str | None = None) -> Event | None:
    """The linear scan from the log's start that ``_last`` replaced (the reference)."""
    found = None
    for request in requests:
        if request["t"] > until:
            break
        if request.get("op") == op and (symbol is None or request.get("s") == symbol):
            found = request
    return found


def test_last_equals_the_scan_from_the_start() -> None:
    rng = random.Random(7)
    for _ in range(300):
        t = 0
        log: list[Event] = []
        for _ in range(rng.randrange(0, 40)):
            t += rng.choice((0, 0, 1, 5))  # equal times are common: several requests at one instant
            log.append({"k": "request", "t": t, "op": rng.choice(OPS), "s": rng.choice(("BTCUSDT", "ETHUSDT"))})
        for _ in range(20):
            until = rng.randrange(-1, t + 2)
            op, symbol = rng.choice(OPS), rng.choice((None, "BTCUSDT", "ETHUSDT"))
            assert _last(log, op, until, symbol) is _scan(log, op, until, symbol)


def test_last_takes_the_latest_match_at_the_bound() -> None:
    log: list[Event] = [{"t": 1, "op": "account"}, {"t": 2, "op": "account"}, {"t": 2, "op": "depth"},
                        {"t": 3, "op": "account"}]
    assert _last(log, "account", 2) is log[1]
    assert _last(log, "account", 0) is None
    assert _last(log, "myTrades", 9) is None
