"""The matching-engine tests' shared world: one BTCUSDT spec, two funded accounts, request builders.

Used by ``tests/unit/test_engine_*.py`` directly and through the ``engine`` fixture (``tests/conftest.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import AccountId, OrderType, PlaceRequest, Side, SymbolSpec

__all__ = ["LOT", "SPEC", "START", "SYM", "A", "B", "K", "limit", "make_engine", "market"]

# 1 tick = 0.01 USDT, 1 lot = 0.001 BTC: a tick-lot is 1,000 USDT atoms, a lot 100,000 BTC atoms.
SPEC = SymbolSpec(
    symbol="BTCUSDT",
    base_asset="BTC",
    quote_asset="USDT",
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.001"),
    min_notional=Decimal("0.1"),
)
SYM = SPEC.symbol
K = SPEC.quote_atoms_per_tick_lot
LOT = SPEC.base_atoms_per_lot
A = AccountId("alice")
B = AccountId("bob")
START = {"BTC": 100 * 10**8, "USDT": 1_000_000 * 10**8}


def make_engine(listener: Any = None) -> MatchingEngine:
    engine = MatchingEngine([SPEC], clock_us=lambda: 1_000, listener=listener)
    engine.open_account(A, START)
    engine.open_account(B, START)
    return engine


def limit(account: AccountId, side: Side, price: int, qty: int, **kw: Any) -> PlaceRequest:
    return PlaceRequest(
        account=account, symbol=SYM, side=side, type=OrderType.LIMIT, price_ticks=price, qty_lots=qty, **kw
    )


def market(
    account: AccountId, side: Side, qty: int | None = None, quote: int | None = None, **kw: Any
) -> PlaceRequest:
    return PlaceRequest(
        account=account,
        symbol=SYM,
        side=side,
        type=OrderType.MARKET,
        qty_lots=qty,
        quote_qty_atoms=quote,
        **kw,
    )
