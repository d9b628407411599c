"""A clean hand-made session and a real simulated session pass every invariant."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from exchange_sim.checker import INVARIANTS, CheckConfig, VenueState, check_report, check_session
from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    ClientOrderId,
    EngineError,
    OrderType,
    PlaceRequest,
    Side,
)
from exchange_sim.eventlog import read_events
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from tests.checker_support import clean_session, violations


def test_the_clean_session_has_no_violation() -> None:
    assert violations(clean_session()) == []


def test_every_invariant_of_design_section_4_has_a_check() -> None:
    assert sorted(int(name.split(".")[0]) for name in INVARIANTS) == [*range(1, 12), *range(13, 23)]


def test_a_real_session_of_a_simple_quoter_passes(tmp_path: Path) -> None:
    bot, symbol = AccountId("bot"), "BTCUSDT"
    initial = {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT}
    world = SimWorld(seed=2, duration_s=120, market=MarketConfig(symbols=(symbol,), regime="volatile"),
                     log_path=tmp_path / "log.jsonl")
    world.venue.open_account(bot, initial)
    client = world.venue.connect(bot)

    async def quoter() -> None:
        for n in range(100):
            bid, ask = world.engine.best_bid(symbol), world.engine.best_ask(symbol)
            if bid is not None and ask is not None:
                for side, price in ((Side.BUY, bid[0]), (Side.SELL, ask[0])):
                    with contextlib.suppress(EngineError):
                        await client.place(PlaceRequest(
                            account=bot, symbol=symbol, side=side, type=OrderType.LIMIT_MAKER, qty_lots=500,
                            price_ticks=price, client_order_id=ClientOrderId(f"{side.value}{n}")))
            await asyncio.sleep(1.0)
            await client.cancel_all(symbol)

    world.run(quoter())
    state = VenueState.capture(world.engine, ["bot"], {"bot": initial})
    world.close()
    events = read_events(tmp_path / "log.jsonl")
    assert any(e["k"] == "trade" and "bot" in (e["ma"], e["ta"]) for e in events)
    report = check_report(events, state, CheckConfig())
    # it keeps no books and reads no user stream: what needs the bot's records or a user-data subscription is
    # skipped, with the reason
    assert report.violations == ()
    assert set(report.skipped) == {"1.ledger", "2.fill_once", "4.no_orphans", "6.inventory_limit", "14.one_per_intent",
                                   "15.final_status", "16.reconciled_books", "17.restart_ledger",
                                   "18.resync_after_gap", "19.soft_reduce_only", "21.terminal_stays",
                                   "22.soft_reduces"}
    assert {v.detail for v in check_session(events, state)} == {f"skipped: {r}" for r in report.skipped.values()}
    assert check_session(events, state, CheckConfig(allowed_skips=frozenset(report.skipped))) == []
