"""Adverse selection is real: quoting at the touch loses to informed flow in a volatile market; wider does better.

Fixed-spread makers run the same seed (hence the same latent price path) against the in-process venue, with
zero fees so that only the spread earned and the adverse selection suffered count. Each fill is marked out
against the fundamental value V ``HORIZON_S`` later (the standard measure of adverse selection; V is the latent
price without the takers' transient impact, which is not information): a buy at p is worth ``V(t + h) - p``
per unit, a sell ``p - V(t + h)``. Marking out per fill keeps the inventory this
naive maker accumulates from drowning the signal.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    EngineError,
    OrderType,
    PlaceRequest,
    Side,
    TradeId,
)
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.flow import INFORMED_ACCOUNT
from exchange_sim.venue import VenueClient
from exchange_sim.world import SimWorld

pytestmark = pytest.mark.e2e

MAKER = AccountId("maker")
SYMBOL = "BTCUSDT"
QUOTE_LOTS = 2_000  # 0.02 BTC, about 1,200 USDT a side
HORIZON_S = 10
MINUTES = 60


@dataclass
class Markouts:
    pnl_quote: float  # sum of markouts, in USDT
    lots: int
    informed_per_lot: float  # markout per lot (ticks) of fills against informed takers
    others_per_lot: float  # ... against everyone else


async def _fixed_spread_maker(client: VenueClient, offset_ticks: int, cycles: int) -> None:
    """Every second: cancel, then quote one bid and one ask ``offset_ticks`` outside the touch."""
    for _ in range(cycles):
        book = await client.depth(SYMBOL, limit=5)
        if book.bids and book.asks:
            await client.cancel_all(SYMBOL)
            orders = [
                PlaceRequest(account=MAKER, symbol=SYMBOL, side=side, type=OrderType.LIMIT_MAKER,
                             qty_lots=QUOTE_LOTS, price_ticks=price)
                for side, price in ((Side.BUY, book.bids[0][0] - offset_ticks),
                                    (Side.SELL, book.asks[0][0] + offset_ticks))
            ]
            results = await asyncio.gather(*(client.place(o) for o in orders), return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException) and not isinstance(r, EngineError):
                    raise r
        await asyncio.sleep(1.0)


def _run(offset_ticks: int, regime: str = "volatile", seed: int = 11) -> Markouts:
    world = SimWorld(seed=seed, duration_s=MINUTES * 60, market=MarketConfig(symbols=(SYMBOL,), regime=regime))
    world.venue.open_account(
        MAKER, {"BTC": 100 * ATOMS_PER_UNIT, "USDT": 10_000_000 * ATOMS_PER_UNIT}, maker_fee_ppm=0, taker_fee_ppm=0
    )
    client = world.venue.connect(MAKER)
    fair: list[float] = []

    async def record_fair() -> None:
        for _ in range(MINUTES * 60 + HORIZON_S + 2):
            fair.append(world.market.value_ticks(SYMBOL))
            await asyncio.sleep(1.0)

    async def session() -> None:
        await asyncio.gather(record_fair(), _fixed_spread_maker(client, offset_ticks, MINUTES * 60))

    try:
        world.run(session())
        spec = world.engine.spec(SYMBOL)
        total = 0.0
        lots = 0
        by_taker = {True: [0.0, 0], False: [0.0, 0]}
        from_id = TradeId(0)
        while page := world.engine.trades(MAKER, SYMBOL, from_id=from_id, limit=1000):
            for trade in page:
                later = fair[min(len(fair) - 1, trade.time_us // 1_000_000 + HORIZON_S)]
                bought = trade.taker_side is Side.SELL
                markout = (later - trade.price_ticks if bought else trade.price_ticks - later) * trade.qty_lots
                total += markout
                lots += trade.qty_lots
                bucket = by_taker[trade.taker_account == INFORMED_ACCOUNT]
                bucket[0] += markout
                bucket[1] += trade.qty_lots
            from_id = TradeId(page[-1].trade_id + 1)
        return Markouts(
            pnl_quote=total * float(spec.tick_size * spec.step_size),
            lots=lots,
            informed_per_lot=by_taker[True][0] / max(1, int(by_taker[True][1])),
            others_per_lot=by_taker[False][0] / max(1, int(by_taker[False][1])),
        )
    finally:
        world.close()


@pytest.fixture(scope="module")
def touch() -> Markouts:
    return _run(offset_ticks=0)


def test_touch_maker_loses_money_in_the_volatile_regime(touch: Markouts) -> None:
    assert touch.lots > 100 * QUOTE_LOTS
    assert touch.pnl_quote < 0


def test_quoting_wider_does_better_than_the_touch(touch: Markouts) -> None:
    wide = _run(offset_ticks=4)
    assert wide.lots > 0
    assert wide.pnl_quote > touch.pnl_quote


def test_the_losses_come_from_informed_takers(touch: Markouts) -> None:
    assert touch.informed_per_lot < touch.others_per_lot
    assert touch.informed_per_lot < -1.0  # more than a tick per lot lost to each informed fill
