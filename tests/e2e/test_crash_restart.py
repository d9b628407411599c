"""Crash and restart: a bot torn down mid-session recovers from its SQLite state with no orphan and exact fills.

Instance 1 quotes around the touch; at a moment when requests are in flight its tasks are cancelled with no
shutdown path (a crash), its database connection dropped. The venue runs on and keeps filling the orders it
left resting. Instance 2 starts on the same state file, reconciles (open orders, fills since the last run),
quotes again, then shuts down. The checks use the venue's own ledger and trade history, never the bot's
accounting (DESIGN section 4: the checker is independent of the code it checks).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

import pytest

from bot.connectors.binance.connector import BinanceConnector
from bot.core.clock import LoopClock
from bot.core.types import Quote, Side
from bot.execution.config import ExecutionConfig
from bot.execution.order_manager import OrderManager
from bot.execution.state import StateStore
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId, EngineError, TradeId
from exchange_sim.engine.types import Side as SimSide
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from harness.session_venue import SimLink

pytestmark = pytest.mark.e2e

BOT = AccountId("bot")
SYMBOL = "BTCUSDT"
START = {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT}


async def quote_loop(om: OrderManager, venue: BinanceConnector) -> None:
    """Minimal symmetric quoter (test scaffolding): join the touch on both sides every 200 ms."""
    while True:
        book = await venue.book(SYMBOL, limit=5)
        if book.bids and book.asks:
            await om.replace_quotes(SYMBOL, [
                Quote(side=Side.BUY, price_ticks=book.bids[0].price_ticks, qty_lots=500),
                Quote(side=Side.SELL, price_ticks=book.asks[0].price_ticks, qty_lots=500),
            ])
        await asyncio.sleep(0.2)


def _all_orders(path: Path) -> list[tuple[str, str]]:
    """(client id, status) of every order in the state file, read with plain SQL (independent of the bot)."""
    with sqlite3.connect(path) as db:
        return [(str(c), str(s)) for c, s in db.execute("SELECT client_order_id, status FROM orders")]


def new_instance(link: SimLink, path: Path) -> tuple[OrderManager, BinanceConnector, StateStore]:
    """A new process on the same host: a new connection to the venue, the connector's state (Retry-After) and
    the order state in the same SQLite file."""
    world = link.world
    store = StateStore(path)
    venue: BinanceConnector = link.connector(store)
    info = {s.symbol: s for s in world.run(venue.symbols())}
    om = OrderManager(venue, store, LoopClock(), ExecutionConfig(reconcile_interval_s=5.0), info, rng=random.Random(0))
    return om, venue, store


def test_crash_restart_leaves_no_orphan_and_books_every_fill_once(tmp_path: Path) -> None:
    world = SimWorld(seed=22, duration_s=3600, market=MarketConfig(symbols=(SYMBOL,), regime="volatile"))
    world.venue.open_account(BOT, START)
    path = tmp_path / "state.sqlite3"
    link = SimLink(world, BOT, request_timeout_s=ExecutionConfig().request_timeout_s)

    # instance 1: quote for a while, then crash while requests are in flight
    om1, venue1, store1 = new_instance(link, path)

    async def first_life() -> int:
        await om1.start()
        tasks = [asyncio.ensure_future(c) for c in (om1.run_user_stream(), om1.run_reconciler(),
                                                        quote_loop(om1, venue1))]
        await asyncio.sleep(300.0)
        while om1.in_flight == 0:  # crash at a moment when requests are on the wire
            await asyncio.sleep(0.001)
        in_flight = om1.in_flight
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return in_flight

    in_flight_at_crash = world.run(first_life())
    world.run(venue1.close())  # the dead process's connections close (its sockets die with it)
    store1.close()
    assert in_flight_at_crash > 0
    resting_after_crash = len(world.engine.open_orders(BOT, SYMBOL))
    world.run(asyncio.sleep(120.0))  # the venue runs on without the bot

    # instance 2: same state file, reconcile, quote, shut down cleanly
    om2, venue2, store2 = new_instance(link, path)

    async def second_life() -> None:
        report = await om2.start()
        assert report.venue_open == len(world.engine.open_orders(BOT, SYMBOL))
        tasks = [asyncio.ensure_future(c) for c in (om2.run_user_stream(), om2.run_reconciler(),
                                                        quote_loop(om2, venue2))]
        await asyncio.sleep(300.0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        shutdown = await om2.shutdown()
        assert shutdown.verified
        await om2.reconcile()
        await venue2.close()

    world.run(second_life())

    # no orphan: nothing of ours rests on the venue, and nothing is open in our records
    assert world.engine.open_orders(BOT, SYMBOL) == []
    assert store2.open_orders() == []  # every intent reached a terminal state
    all_orders = _all_orders(path)
    never_arrived = [o for o in all_orders if o[1] == "EXPIRED"]  # only LIMIT_MAKER orders: no IOC expiries
    assert len(never_arrived) <= in_flight_at_crash  # only requests the crash cut off may never have arrived
    for cid, _ in never_arrived:
        with pytest.raises(EngineError):
            world.engine.get_order(BOT, SYMBOL, client_order_id=cid)
    assert len(all_orders) > 100
    # every venue trade of ours is booked exactly once, and inventory equals the venue's ledger
    venue_trades = []
    from_id = TradeId(0)
    while page := world.engine.trades(BOT, SYMBOL, from_id=from_id, limit=1000):
        venue_trades += page
        from_id = TradeId(page[-1].trade_id + 1)
    booked = store2.fills(SYMBOL)
    assert sorted(f.trade_id for f in booked) == [t.trade_id for t in venue_trades]
    signed = sum((1 if (t.maker_account == BOT) == (t.taker_side is SimSide.SELL) else -1) * t.qty_lots
                 for t in venue_trades)
    assert om2.inventory_lots(SYMBOL) == signed == store2.position_lots(SYMBOL)
    spec = world.engine.spec(SYMBOL)
    base_fees = sum(t.maker_fee_atoms if t.maker_account == BOT else t.taker_fee_atoms
                    for t in venue_trades if ((t.maker_account == BOT) == (t.taker_side is SimSide.SELL)))
    base_delta = world.engine.balance(BOT, "BTC").total_atoms - START["BTC"]
    assert base_delta == signed * spec.base_atoms_per_lot - base_fees
    assert resting_after_crash > 0 and len(venue_trades) > 10
