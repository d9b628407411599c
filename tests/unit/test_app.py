"""AppContext: wiring by dependency injection, pre-trade checks on every order, and the kill switch end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import HARD_LATCH_KEY, AppContext, restart_backoff_cap_s
from bot.config import parse_config
from bot.connectors.binance.connector import BinanceConnector
from bot.core.clock import LoopClock
from bot.core.errors import BotError, ErrorCode
from bot.core.types import OrderType, Quote, Side
from bot.execution.state import StateStore
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId, PlaceRequest
from exchange_sim.engine.types import OrderType as SimOrderType
from exchange_sim.engine.types import Side as SimSide
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from harness.session_venue import sim_connector

BOT = AccountId("bot")
TAKER = AccountId("taker")
SYMBOL = "BTCUSDT"


@pytest.fixture
def world() -> Iterator[SimWorld]:
    w = SimWorld(seed=4, duration_s=3600, market=MarketConfig(symbols=(SYMBOL,)))
    w.venue.open_account(BOT, {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
    w.venue.open_account(TAKER, {"BTC": 100 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
    yield w
    w.close()


async def started(world: SimWorld, **overrides: Any) -> tuple[AppContext, int]:
    config = parse_config({"version": 2, "symbols": [SYMBOL], **overrides})
    ctx = await AppContext.build(config, sim_connector(world, BOT), LoopClock(),
                                 store=StateStore(":memory:"), seed=0)
    bid, ask = world.engine.best_bid(SYMBOL), world.engine.best_ask(SYMBOL)
    assert bid is not None and ask is not None
    mid = (bid[0] + ask[0]) // 2
    ctx.mids_ticks[SYMBOL] = mid
    await ctx.start()
    return ctx, mid


def test_kill_switch_cancels_everything_verifies_and_halts(world: SimWorld) -> None:
    async def main() -> Any:
        ctx, mid = await started(world)
        results = await ctx.orders.place_many(
            SYMBOL, [Quote(side=Side.BUY, price_ticks=mid - 5 - i, qty_lots=200) for i in range(4)])
        assert all(not isinstance(r, BotError) for r in results), results
        report = await ctx.kill("operator pressed the button")
        with pytest.raises(BotError) as error:
            await ctx.orders.place(SYMBOL, Side.BUY, 200, mid - 5)
        assert error.value.code in (ErrorCode.SHUTTING_DOWN, ErrorCode.HALTED)
        return ctx, report

    ctx, report = world.run(main())
    assert report.shutdown.verified and report.kill is not None and report.kill.verified
    assert report.shutdown.cancelled == 4
    assert world.engine.open_orders(BOT, SYMBOL) == []
    assert ctx.risk.level() == "HARD"


def test_an_order_outside_the_price_band_is_refused_before_the_venue(world: SimWorld) -> None:
    async def main() -> Any:
        ctx, mid = await started(world)
        with pytest.raises(BotError) as error:
            await ctx.orders.place(SYMBOL, Side.BUY, 200, mid // 2)
        return ctx, error.value

    ctx, error = world.run(main())
    assert error.code is ErrorCode.RISK_REJECTED
    assert "band" in error.message
    assert world.engine.open_orders(BOT, SYMBOL) == []
    assert ctx.orders.stats.risk_rejected == 1


def test_a_hard_guard_halts_new_orders(world: SimWorld) -> None:
    async def main() -> BotError:
        ctx, mid = await started(world)
        ctx.risk.kill("test")
        with pytest.raises(BotError) as error:
            await ctx.orders.place(SYMBOL, Side.BUY, 200, mid - 5)
        return error.value

    assert world.run(main()).code is ErrorCode.HALTED


def test_a_hard_inventory_breach_cancels_every_resting_order(world: SimWorld) -> None:
    """The risk monitor sees inventory past the hard limit, goes HARD and pulls every quote within the bound."""

    async def main() -> Any:
        ctx, mid = await started(world, risk={"inventory": {"default_hard_max_base": "0.01"}})
        await ctx.orders.place_many(SYMBOL, [Quote(side=Side.SELL, price_ticks=mid + 20 + i, qty_lots=200)
                                             for i in range(3)])
        limit_lots = ctx.symbols[SYMBOL].to_lots(ctx.config.risk.inventory.hard_max_for(SYMBOL))
        taker = world.venue.connect(TAKER)
        # the bot buys past its hard limit (a taker fill it cannot refuse: the venue filled a resting bid that the
        # pre-trade headroom would refuse today, e.g. a manual order or an older instance's)
        checks, ctx.orders._pretrade = ctx.orders._pretrade, None
        await ctx.orders.place(SYMBOL, Side.BUY, limit_lots + 500, mid - 1)
        ctx.orders._pretrade = checks
        await taker.place(PlaceRequest(account=TAKER, symbol=SYMBOL, side=SimSide.SELL, type=SimOrderType.MARKET,
                                       qty_lots=2_000_000))
        await asyncio.sleep(ctx.config.risk.cancel_bound_s)
        return ctx

    ctx = world.run(main())
    assert ctx.risk.level() == "HARD"
    assert "INVENTORY" in ctx.risk.reasons()
    assert world.engine.open_orders(BOT, SYMBOL) == []


def test_taker_orders_stop_at_the_taker_cap_of_the_volatility_regime(world: SimWorld) -> None:
    async def main() -> tuple[int, BotError]:
        ctx, _ = await started(world, risk={"taker_cap": {"calm_per_hour": 2, "moderate_per_hour": 3,
                                                          "volatile_per_hour": 1}})
        ctx.volatility_bps[SYMBOL] = 50.0  # volatile: 1 taker fill per hour
        await ctx.orders.place(SYMBOL, Side.BUY, 200, order_type=OrderType.MARKET)
        await asyncio.sleep(0.5)  # the fill is booked from the user stream
        with pytest.raises(BotError) as error:
            await ctx.orders.place(SYMBOL, Side.BUY, 200, order_type=OrderType.MARKET)
        return ctx.taker_cap.count(ctx.clock.monotonic_s()), error.value

    count, error = world.run(main())
    assert count >= 1
    assert error.code is ErrorCode.RISK_REJECTED and "taker_cap" in error.message


def test_symbols_run_as_concurrent_tasks(world: SimWorld) -> None:
    """Two symbols whose per-symbol work each takes 1 s finish together in 1 s, not 2."""

    async def main() -> float:
        ctx, _ = await started(world)
        ctx.symbols = {SYMBOL: ctx.symbols[SYMBOL], "ALT": ctx.symbols[SYMBOL]}
        start = world.runtime.now()
        await asyncio.gather(*ctx.run_per_symbol(lambda symbol: asyncio.sleep(1.0)))
        return world.runtime.now() - start

    assert world.run(main()) == pytest.approx(1.0)


def test_the_restart_backoff_is_capped_within_the_cancel_bound_whatever_the_store_says() -> None:
    """An instance that cannot read the venue at start is retried by its supervisor; it cannot know what an
    earlier instance left resting (a latched guard: chaos seed 170; a cold restart after a recoverable HARD, no
    state file: seed 638, an order resting 25 s after a 503 outage healed), so the next attempt comes within half
    the HARD cancel bound, the other half being for the start and the cancel."""
    config = parse_config({"version": 2, "symbols": [SYMBOL]})
    bound_s = config.risk.cancel_bound_s
    assert restart_backoff_cap_s(config, 30.0) == bound_s / 2 < 5.0
    assert restart_backoff_cap_s(config, 1.0) == 1.0
    unlatched = config.model_copy(update={"risk": config.risk.model_copy(update={"hard_latches": False})})
    assert restart_backoff_cap_s(unlatched, 30.0) == bound_s / 2


class _SlowFills(BinanceConnector):
    """A connector whose trade list takes 30 s to read (a reconcile stuck behind latency)."""

    async def fills(self, symbol: str, from_trade_id: Any = None) -> Any:
        await asyncio.sleep(30.0)
        return await super().fills(symbol, from_trade_id)


def test_an_instance_restarted_with_a_latched_hard_guard_cancels_before_it_reconciles(world: SimWorld) -> None:
    """Chaos seed 873: the restarted instance spent longer than the cancel bound reconciling before it cancelled
    what its predecessor left resting; it must cancel first."""

    async def main() -> Any:
        first, mid = await started(world)
        await first.orders.place_many(SYMBOL, [Quote(side=Side.BUY, price_ticks=mid - 5, qty_lots=200)])
        assert world.engine.open_orders(BOT, SYMBOL) != []
        first.store.set_meta(HARD_LATCH_KEY, "KILL_SWITCH")
        await first.crash()
        second = await AppContext.build(first.config, sim_connector(world, BOT, cls=_SlowFills), LoopClock(),
                                        store=first.store, seed=0)
        starting = asyncio.ensure_future(second.start())
        await asyncio.sleep(second.config.risk.cancel_bound_s)
        resting = world.engine.open_orders(BOT, SYMBOL)
        await starting
        await second.stop("test end")
        return resting

    assert world.run(main()) == []
