"""Hand-made event logs for the checker's tests: a clean session, and builders to break exactly one invariant."""

from __future__ import annotations

import dataclasses
from typing import Any

from exchange_sim.checker import SAFETY, CheckConfig, SymbolFacts, VenueState, Violation, check_session

Event = dict[str, Any]
S = "BTCUSDT"
SPEC = SymbolFacts("BTC", "USDT", base_atoms_per_lot=1000, quote_atoms_per_tick_lot=10)
US = 1_000_000
CONFIG = CheckConfig(hard_limit_lots={S: 100}, soft_limit_lots={S: 70},  # the session's
                     taker_cap_per_hour=50, taker_caps=frozenset({50}))


def config(**overrides: Any) -> CheckConfig:
    """The clean session's check config (limits as its bot was configured) with ``overrides``."""
    return dataclasses.replace(CONFIG, **overrides)


def order(t: float, c: str, x: str, status: str, *, side: str = "BUY", p: int = 100, q: int = 10, z: int = 0,
          oid: int = 1, a: str = "bot") -> Event:
    return {"t": round(t * US), "k": "order", "a": a, "s": S, "id": oid, "c": c, "x": x, "X": status, "S": side,
            "o": "LIMIT_MAKER", "p": p, "q": q, "z": z, "Z": 0, "tid": None, "r": ""}


def trade(t: float, tid: int, *, p: int = 100, q: int = 10, taker_side: str = "SELL", mo: int = 1, to: int = 99,
          ma: str = "bot", ta: str = "mm") -> Event:
    return {"t": round(t * US), "k": "trade", "s": S, "id": tid, "p": p, "q": q, "S": taker_side, "mo": mo, "to": to,
            "ma": ma, "ta": ta, "mf": 0, "tf": 0}


def book(t: float, side: str, p: int, q: int) -> Event:
    return {"t": round(t * US), "k": "book", "s": S, "S": side, "p": p, "q": q, "u": 0}


def bot(t: float, kind: str, **fields: Any) -> Event:
    return {"t": round(t * US), "k": f"bot.{kind}", **fields}


def clean_session() -> list[Event]:
    """The bot bids 10 lots at 100 on a 100/101 book, is filled by a seller at t=2, books it, ends flat of orders."""
    return [
        book(0.0, "BUY", 100, 50), book(0.0, "SELL", 101, 50),
        bot(0.5, "hard_limit", s=S, lots=100), bot(0.5, "taker_cap", per_hour=50),
        bot(0.6, "open_orders", a="bot", cids=[], pending=[], phase="reconciled"),
        bot(0.6, "position", a="bot", s=S, lots=0, final=False),
        {"t": 700_000, "k": "user_sub", "a": "bot", "n": 1, "ph": "start"},  # its user-data stream, after the reconcile
        bot(0.9, "book", s=S, U=1, u=1, bb=100, ba=101, snap=True),
        bot(1.0, "intent", a="bot", c="c1", s=S, S="BUY", o="LIMIT_MAKER", p=100, q=10, bb=100, ba=101),
        {"t": 1_010_000, "k": "request", "a": "bot", "op": "place", "c": "c1", "sent": 1_000_000},
        order(1.01, "c1", "NEW", "NEW"), book(1.01, "BUY", 100, 60),
        book(2.0, "BUY", 100, 50), trade(2.0, 7), order(2.0, "c1", "TRADE", "FILLED", z=10),
        bot(2.01, "fill_applied", a="bot", s=S, tid=7, c="c1", S="BUY", q=10),
        bot(2.01, "order_final", a="bot", c="c1", X="FILLED"),
        bot(3.0, "open_orders", a="bot", cids=[], pending=[], phase="final"),
        bot(3.0, "position", a="bot", s=S, lots=10, final=True),
    ]


def venue_state(*, open_orders: frozenset[str] = frozenset(), btc: int = 10_000 + 10 * 1000,
                usdt: int = 1_000_000 - 100 * 10 * 10) -> VenueState:
    return VenueState(open_orders={"bot": open_orders}, balances={"bot": {"BTC": btc, "USDT": usdt}},
                      supply={"BTC": (5, 5), "USDT": (7, 7)}, specs={S: SPEC},
                      initial_balances={"bot": {"BTC": 10_000, "USDT": 1_000_000}})


def invariants(events: list[Event], state: VenueState | None = None, config: CheckConfig | None = None,
               ) -> set[str]:
    return {v.invariant for v in violations(events, state, config)}


def violations(events: list[Event], state: VenueState | None = None, config: CheckConfig | None = None,
               ) -> list[Violation]:
    return check_session(sorted(events, key=lambda e: e["t"]), state if state is not None else venue_state(),
                         config if config is not None else CONFIG)


ALL_SAFETY = set(SAFETY)
