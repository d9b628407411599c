"""The latch in the state store follows the operator's actions even when the guard level does not change.

Found by the harness's operator (issue 16): a reset while the cause still held left the engine HARD but the store
unlatched, and a kill switch pulled while already HARD was never persisted; the next instance then started
without the latch (chaos seeds 31, 39, 49, 64, 72 at 5 minutes).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bot.app import HARD_LATCH_KEY, AppContext
from bot.config import parse_config
from bot.core.clock import LoopClock
from bot.execution.state import StateStore
from bot.risk.guards import GuardLevel, RiskSnapshot
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from harness.session_venue import sim_connector

BOT = AccountId("bot")
SYMBOL = "BTCUSDT"


@pytest.fixture
def world() -> Iterator[SimWorld]:
    w = SimWorld(seed=4, duration_s=3600, market=MarketConfig(symbols=(SYMBOL,)))
    w.venue.open_account(BOT, {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
    yield w
    w.close()


def hard_app(world: SimWorld) -> AppContext:
    """A started instance held HARD by a cause that persists (a manual HARD floor)."""

    async def main() -> AppContext:
        config = parse_config({"version": 2, "symbols": [SYMBOL]})
        ctx = await AppContext.build(config, sim_connector(world, BOT), LoopClock(),
                                     store=StateStore(":memory:"), seed=0)
        await ctx.start()
        ctx.risk.manual(GuardLevel.HARD, "cause that persists")
        return ctx

    return world.run(main())


def test_a_kill_switch_pulled_while_already_hard_is_persisted(world: SimWorld) -> None:
    ctx = hard_app(world)
    assert ctx.risk.guard_level is GuardLevel.HARD
    world.run(ctx.kill("operator"))
    assert "KILL_SWITCH" in str(ctx.store.get_meta(HARD_LATCH_KEY))


def test_a_reset_while_the_cause_holds_keeps_the_latch_in_the_store(world: SimWorld) -> None:
    ctx = hard_app(world)

    async def main() -> None:
        ctx.risk.manual(GuardLevel.OK)
        ctx.risk.update(RiskSnapshot(inventory_base={SYMBOL: Decimal(1000)}))  # a HARD cause that still holds
        assert ctx.risk.latched
        ctx.operator_reset()

    world.run(main())
    assert ctx.risk.latched and ctx.risk.guard_level is GuardLevel.HARD
    assert ctx.store.get_meta(HARD_LATCH_KEY)
