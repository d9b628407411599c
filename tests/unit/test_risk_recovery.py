"""Recoverable HARD guards in the running bot (ADR 0011, addendum): the ``bot.guard`` claim follows the reasons
that hold the bot HARD, so the checker judges a halt by what actually holds it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import AppContext
from bot.config import parse_config
from bot.core.clock import LoopClock
from bot.execution.state import StateStore
from bot.quoting.quoter import SymbolMarks
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from harness.session_venue import sim_connector

BOT = AccountId("bot")
SYMBOL = "BTCUSDT"
RECOVERY_S = 20.0


class ListRecorder:
    enabled = True

    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def record(self, kind: str, fields: dict[str, Any]) -> None:
        self.records.append((kind, dict(fields)))

    def guards(self) -> list[tuple[str, str]]:
        return [(f["level"], f["reason"]) for k, f in self.records if k == "bot.guard"]


@pytest.fixture
def world() -> Iterator[SimWorld]:
    w = SimWorld(seed=4, duration_s=3600, market=MarketConfig(symbols=(SYMBOL,)))
    w.venue.open_account(BOT, {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
    yield w
    w.close()


async def started(world: SimWorld, recorder: ListRecorder) -> AppContext:
    config = parse_config({"version": 2, "symbols": [SYMBOL], "risk": {"hard_recovery_s": RECOVERY_S}})
    ctx = await AppContext.build(config, sim_connector(world, BOT), LoopClock(), store=StateStore(":memory:"),
                                 recorder=recorder, seed=0)
    await ctx.start()
    return ctx


def test_the_guard_record_follows_the_reasons_that_hold_a_hard(world: SimWorld) -> None:
    """A latency HARD joined by a loss-rate HARD, then the latency heals: the bot is still HARD, now on the loss
    rate alone, and ``bot.guard`` says so (before, it kept claiming LATENCY until the level changed)."""
    recorder = ListRecorder()

    async def main() -> tuple[str, list[str]]:
        ctx = await started(world, recorder)
        ctx.marks[SYMBOL] = marks = SymbolMarks(latency_p95_ms=5000.0)
        await asyncio.sleep(1.0)
        marks.pnl_per_hour_quote = -500.0  # a loss rate past HARD joins the latency HARD
        await asyncio.sleep(1.0)
        marks.latency_p95_ms = 0.0  # the latency heals; the loss rate does not
        await asyncio.sleep(RECOVERY_S + 2)
        level = ctx.risk.level()
        await ctx.stop("test end")
        return level, ctx.risk.reasons()

    level, reasons = world.run(main())
    assert (level, reasons) == ("HARD", ["PNL_RATE"])
    guards = recorder.guards()
    assert guards[1:] == [("HARD", "LATENCY"), ("HARD", "PNL_RATE,LATENCY"), ("HARD", "PNL_RATE")]


def test_soft_reason_changes_are_not_recorded_only_level_changes(world: SimWorld) -> None:
    """Under SOFT the claim is the level (reduce-only); a SOFT input that comes and goes adds no record."""
    recorder = ListRecorder()

    async def main() -> None:
        ctx = await started(world, recorder)
        ctx.marks[SYMBOL] = marks = SymbolMarks(latency_p95_ms=800.0)  # SOFT latency
        await asyncio.sleep(1.0)
        marks.drawdown_quote = 60.0  # a SOFT drawdown joins it
        await asyncio.sleep(1.0)
        await ctx.stop("test end")

    world.run(main())
    assert recorder.guards()[1:2] == [("SOFT", "LATENCY")]
    assert all(level != "SOFT" for level, _ in recorder.guards()[2:])
