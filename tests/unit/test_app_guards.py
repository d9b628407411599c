"""AppContext and the guards (ADR 0011): a recoverable HARD heals and the bot reconciles before it quotes again;
latching stops hold and persist (an operator's stop does not); the operator's reset; the start-up refusal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import HARD_LATCH_KEY, AppContext
from bot.config import parse_config
from bot.connectors.binance.connector import BinanceConnector
from bot.core.clock import LoopClock
from bot.core.errors import BotError, ErrorCode
from bot.core.types import Quote, Side
from bot.execution.state import StateStore
from bot.live import latch_refusal
from bot.quoting.quoter import SymbolMarks
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId, PlaceRequest
from exchange_sim.engine.types import OrderType as SimOrderType
from exchange_sim.engine.types import Side as SimSide
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from harness.session_venue import sim_connector

BOT = AccountId("bot")
TAKER = AccountId("taker")
SYMBOL = "BTCUSDT"
RECOVERY_S = 20.0


class ListRecorder:
    enabled = True

    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def record(self, kind: str, fields: dict[str, Any]) -> None:
        self.records.append((kind, dict(fields)))

    def guards(self) -> list[dict[str, Any]]:
        return [f for k, f in self.records if k == "bot.guard"]


class FlakyListing(BinanceConnector):
    """A connector whose open-order listing fails while ``down`` (a reconcile that cannot succeed)."""

    down = False

    async def open_orders(self, symbol: str | None = None) -> Any:
        if self.down:
            raise BotError(ErrorCode.VENUE_UNAVAILABLE, "listing unavailable")
        return await super().open_orders(symbol)


@pytest.fixture
def world() -> Iterator[SimWorld]:
    w = SimWorld(seed=4, duration_s=3600, market=MarketConfig(symbols=(SYMBOL,)))
    w.venue.open_account(BOT, {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
    w.venue.open_account(TAKER, {"BTC": 100 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
    yield w
    w.close()


async def started(world: SimWorld, store: StateStore, recorder: ListRecorder | None = None,
                  **risk: Any) -> tuple[AppContext, int, FlakyListing]:
    config = parse_config({"version": 2, "symbols": [SYMBOL], "risk": {"hard_recovery_s": RECOVERY_S, **risk}})
    venue = sim_connector(world, BOT, cls=FlakyListing)
    ctx = await AppContext.build(config, venue, LoopClock(), store=store, recorder=recorder, seed=0)
    bid, ask = world.engine.best_bid(SYMBOL), world.engine.best_ask(SYMBOL)
    assert bid is not None and ask is not None
    mid = (bid[0] + ask[0]) // 2
    ctx.mids_ticks[SYMBOL] = mid
    await ctx.start()
    return ctx, mid, venue


async def can_place(ctx: AppContext, mid: int) -> bool:
    """Whether an order passes the pre-trade hook and rests (False: refused, halted or the circuit open)."""
    try:
        await ctx.orders.place(SYMBOL, Side.BUY, 200, mid - 50)
    except BotError as error:
        assert error.code in (ErrorCode.HALTED, ErrorCode.CIRCUIT_OPEN)
        return False
    return True


def test_a_latency_hard_heals_by_itself_and_the_bot_reconciles_before_it_quotes(world: SimWorld) -> None:
    recorder = ListRecorder()

    async def main() -> tuple[list[bool], int, int]:
        ctx, mid, _ = await started(world, StateStore(":memory:"), recorder)
        ctx.marks[SYMBOL] = marks = SymbolMarks(latency_p95_ms=5000.0)  # one lost reply: p95 past 2 s
        await asyncio.sleep(1.0)
        halted = [await can_place(ctx, mid)]
        marks.latency_p95_ms = 100.0
        await asyncio.sleep(RECOVERY_S - 2)
        halted.append(await can_place(ctx, mid))  # not healthy for long enough yet
        reconciles = ctx.orders.stats.reconciles
        await asyncio.sleep(3.0)
        halted.append(await can_place(ctx, mid))
        await ctx.stop("test end")
        return halted, reconciles, ctx.orders.stats.reconciles

    placed, reconciles_before, reconciles_after = world.run(main())
    assert placed == [False, False, True]
    assert reconciles_after > reconciles_before
    guards = recorder.guards()
    assert guards[0] == {"level": "OK", "reason": "reconciled at start", "hard": "", "latch": "", "recoverable": True}
    assert guards[1] == {"level": "HARD", "reason": "LATENCY", "hard": "LATENCY", "latch": "", "recoverable": True}
    assert guards[-1] == {"level": "OK", "reason": "reconciled after LATENCY", "hard": "", "latch": "",
                          "recoverable": True}


def test_no_order_is_placed_until_the_reconcile_after_the_heal_succeeds(world: SimWorld) -> None:
    async def main() -> tuple[bool, str, bool, bool, str]:
        ctx, mid, venue = await started(world, StateStore(":memory:"))
        ctx.marks[SYMBOL] = marks = SymbolMarks(latency_p95_ms=5000.0)
        await asyncio.sleep(1.0)
        marks.latency_p95_ms = 0.0
        venue.down = True  # the venue cannot be listed: the reconcile after the heal fails and is retried
        await asyncio.sleep(RECOVERY_S + 5)
        during = await can_place(ctx, mid), ctx.risk.level(), "RECONCILE" in ctx.risk.reasons()
        venue.down = False
        await asyncio.sleep(ctx.config.risk.circuit_breaker.cooldown_s + 2)  # the failed listings opened it
        after = await can_place(ctx, mid), ctx.risk.level()
        await ctx.stop("test end")
        return *during, *after

    assert world.run(main()) == (False, "HARD", True, True, "OK")


def test_a_hard_inventory_breach_latches_and_is_persisted_for_the_next_start(world: SimWorld) -> None:
    store = StateStore(":memory:")
    recorder = ListRecorder()

    async def main() -> bool:
        ctx, mid, _ = await started(world, store, recorder, inventory={"default_hard_max_base": "0.01"})
        limit_lots = ctx.symbols[SYMBOL].to_lots(ctx.config.risk.inventory.hard_max_for(SYMBOL))
        checks, ctx.orders._pretrade = ctx.orders._pretrade, None  # an order the pre-trade headroom would refuse
        await ctx.orders.place(SYMBOL, Side.BUY, limit_lots + 500, mid - 1)  # (a manual or an older instance's)
        ctx.orders._pretrade = checks
        taker = world.venue.connect(TAKER)  # fills the bot's bid past its hard limit
        await taker.place(PlaceRequest(account=TAKER, symbol=SYMBOL, side=SimSide.SELL, type=SimOrderType.MARKET,
                                       qty_lots=2_000_000))
        await asyncio.sleep(RECOVERY_S * 3)
        placed = await can_place(ctx, mid)
        await ctx.crash()
        return placed

    assert world.run(main()) is False
    assert recorder.guards()[1] == {"level": "HARD", "reason": "INVENTORY", "hard": "INVENTORY",
                                    "latch": "inventory",
                                    "recoverable": False}
    assert (store.get_meta(HARD_LATCH_KEY) or "").startswith("inventory: INVENTORY")
    config = parse_config({"version": 2, "symbols": [SYMBOL]})
    refusal = latch_refusal(config, store, "state.sqlite3")
    assert refusal is not None and "inventory latch" in refusal
    assert "mmbot guards --state state.sqlite3 --reset" in refusal and "\n" not in refusal


def test_an_operators_stop_leaves_no_latch_and_the_next_instance_quotes(world: SimWorld) -> None:
    store = StateStore(":memory:")

    async def main() -> tuple[str, bool]:
        first, mid, _ = await started(world, store)
        await first.orders.place_many(SYMBOL, [Quote(side=Side.BUY, price_ticks=mid - 30, qty_lots=200)])
        report = await first.kill("SIGINT", latch=False)
        assert report.kill is not None and report.kill.verified
        latch = first.risk.latch  # held while this instance stops...
        second, _, _ = await started(world, store)
        placed = await can_place(second, mid)  # ...but not by the next one
        await second.stop("test end")
        return latch, placed

    assert world.run(main()) == ("operator", True)
    assert not store.get_meta(HARD_LATCH_KEY)
    assert latch_refusal(parse_config({"version": 2, "symbols": [SYMBOL]}), store, "s") is None


def test_the_kill_switch_proper_is_persisted(world: SimWorld) -> None:
    store = StateStore(":memory:")

    async def main() -> None:
        ctx, _, _ = await started(world, store)
        await ctx.kill("task quoter-BTCUSDT failed: OverflowError")

    world.run(main())
    assert store.get_meta(HARD_LATCH_KEY) == "kill_switch: KILL_SWITCH"


def test_operator_reset_clears_a_restored_latch_and_quoting_resumes_after_a_reconcile(world: SimWorld) -> None:
    store = StateStore(":memory:")
    store.set_meta(HARD_LATCH_KEY, "inventory: INVENTORY")
    recorder = ListRecorder()

    async def main() -> tuple[bool, str, bool]:
        ctx, mid, _ = await started(world, store, recorder)
        latched = await can_place(ctx, mid)
        ctx.operator_reset("chaos harness")
        right_after = ctx.risk.reasons()
        await asyncio.sleep(1.0)
        resumed = await can_place(ctx, mid)
        await ctx.stop("test end")
        return latched, ",".join(right_after), resumed

    assert world.run(main()) == (False, "RECONCILE", True)
    assert not store.get_meta(HARD_LATCH_KEY)
    guards = recorder.guards()
    assert guards[0]["latch"] == "inventory" and guards[0]["level"] == "HARD"
    assert guards[1] == {"level": "HARD", "reason": "operator reset: chaos harness", "hard": "RECONCILE", "latch": "",
                         "recoverable": True}
    assert guards[2] == {"level": "OK", "reason": "reconciled after operator reset: chaos harness", "hard": "",
                         "latch": "",
                         "recoverable": True}
