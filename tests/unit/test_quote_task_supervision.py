"""A failing quote task is never left dead in silence: it is reported (log, ``restarts``, ``bot.task_failed``),
the symbol's quotes are pulled, and the loop restarts after a bounded backoff. Virtual time, simulated venue."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import AppContext
from bot.config import parse_config
from bot.core.clock import LoopClock
from bot.execution.state import StateStore
from bot.strategy import QuoteContext, QuoteStrategy
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from harness.session_venue import sim_connector
from harness.sim_account import priced_for_sim

BOT = AccountId("bot")
SYMBOL = "BTCUSDT"


class ListRecorder:
    enabled = True

    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def record(self, kind: str, fields: dict[str, Any]) -> None:
        self.records.append((kind, dict(fields)))


class Breakable:
    """The real strategy, raising what the Avellaneda-Stoikov baseline raised while ``broken``."""

    def __init__(self, inner: QuoteStrategy) -> None:
        self.inner = inner
        self.broken = False

    @property
    def name(self) -> str:
        return self.inner.name

    def decide(self, ctx: QuoteContext) -> QuoteContext:
        if self.broken:
            raise OverflowError("cannot convert float infinity to integer")
        return self.inner.decide(ctx)


@pytest.fixture
def world() -> Iterator[SimWorld]:
    w = SimWorld(seed=4, duration_s=3600, market=MarketConfig(symbols=(SYMBOL,)))
    w.venue.open_account(BOT, {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
    yield w
    w.close()


def test_a_failing_quote_task_is_reported_its_quotes_pulled_and_it_restarts(world: SimWorld) -> None:
    recorder = ListRecorder()
    strategies: list[Breakable] = []

    def wrap(strategy: QuoteStrategy) -> QuoteStrategy:
        strategies.append(Breakable(strategy))
        return strategies[-1]

    async def main() -> tuple[int, int, int, dict[str, int]]:
        config = priced_for_sim(parse_config({"version": 2, "symbols": [SYMBOL]}))  # as a session prices it
        app = await AppContext.build(config, sim_connector(world, BOT), LoopClock(),
                                     store=StateStore(":memory:"), recorder=recorder, seed=0)
        await app.start()
        app.start_quoting(wrap=wrap)
        await asyncio.sleep(10.0)
        quoting = len(world.engine.open_orders(BOT, SYMBOL))
        strategies[0].broken = True
        await asyncio.sleep(0.9)  # the next cycle raises; the backoff before the restart is 1 s
        pulled = len(world.engine.open_orders(BOT, SYMBOL))
        strategies[0].broken = False
        await asyncio.sleep(20.0)
        again = len(world.engine.open_orders(BOT, SYMBOL))
        restarts = dict(app.restarts)
        await app.stop("test")
        return quoting, pulled, again, restarts

    quoting, pulled, again, restarts = world.run(main())
    failed = [fields for kind, fields in recorder.records if kind == "bot.task_failed"]
    assert quoting > 0
    assert failed == [{"s": SYMBOL, "error": "OverflowError: cannot convert float infinity to integer"}]
    assert pulled == 0  # the symbol's quotes were pulled, not left resting unmanaged
    assert restarts == {f"quoter-{SYMBOL}": 1}
    assert again > 0  # and it quotes again
