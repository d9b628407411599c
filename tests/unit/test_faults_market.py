"""Order-level faults and the injector's schedule: partial fills, STP expiries, market shocks, harness hooks,
fault records in the event log, and determinism of a faulted session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    ClientOrderId,
    OrderStatus,
    OrderType,
    PlaceRequest,
    Side,
)
from exchange_sim.eventlog import read_events
from exchange_sim.faults import Fault, FaultInjector, FaultKind, Scenario, draw_scenario
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.venue import VenueClient
from exchange_sim.world import SimWorld

BOT = AccountId("bot")
SYMBOL = "BTCUSDT"
FIXED = LatencyConfig(request_floor_ms=5, request_median_ms=0, feed_floor_ms=2, feed_median_ms=0)


def make(*faults: Fault, seed: int = 5, log: Path | None = None) -> tuple[SimWorld, VenueClient, FaultInjector]:
    world = SimWorld(seed=seed, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), latency=FIXED, log_path=log)
    world.venue.open_account(BOT, {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
    injector = FaultInjector.for_world(world, Scenario(faults))
    world.start()
    return world, world.venue.connect(BOT), injector


def join_bid(world: SimWorld, client: VenueClient, cid: str, lots: int = 10_000) -> None:
    """Rest a post-only bid one tick above the best bid (alone at the front of the touch)."""
    best_bid, best_ask = world.engine.best_bid(SYMBOL), world.engine.best_ask(SYMBOL)
    assert best_bid is not None and best_ask is not None
    price = best_bid[0] + 1 if best_ask[0] - best_bid[0] > 1 else best_bid[0]
    world.run(client.place(PlaceRequest(account=BOT, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT_MAKER,
                                        qty_lots=lots, price_ticks=price, client_order_id=ClientOrderId(cid))))


def test_partial_fill_fills_part_of_an_order_at_the_touch() -> None:
    world, client, injector = make(Fault(FaultKind.PARTIAL_FILL, "BTCUSDT", 0.0, 5.0, {"rate_per_s": 5}))
    join_bid(world, client, "c1")
    world.run_until(5.0)
    order = world.engine.get_order(BOT, SYMBOL, client_order_id=ClientOrderId("c1"))
    assert order.executed_qty_lots > 0 and injector.hits[0] > 0
    world.engine.audit()


def test_stp_expires_the_resting_order_without_a_fill() -> None:
    world, client, _ = make(Fault(FaultKind.STP, "both", 0.0, 5.0, {"rate_per_s": 5}))
    join_bid(world, client, "c1")
    world.run_until(5.0)
    order = world.engine.get_order(BOT, SYMBOL, client_order_id=ClientOrderId("c1"))
    assert order.status is OrderStatus.EXPIRED_IN_MATCH and order.executed_qty_lots == 0
    world.engine.audit()


def test_a_market_shock_moves_the_book_and_the_latent_price() -> None:
    world, _, _ = make(Fault(FaultKind.MARKET_SHOCK, "BTCUSDT", 1.0, 0.0, {"size_bps": -500}))
    world.run_until(0.99)
    bid_before, fair_before = world.engine.best_bid(SYMBOL), world.market.fair_ticks(SYMBOL)
    world.run_until(1.0)
    bid_after = world.engine.best_bid(SYMBOL)
    assert bid_before is not None
    assert bid_after is None or bid_after[0] <= bid_before[0] * 0.951  # swept to (or past) the new level
    assert world.market.fair_ticks(SYMBOL) < fair_before * 0.96
    world.engine.audit()


def test_harness_faults_call_the_hook_at_start_and_heal() -> None:
    world, _, injector = make(Fault(FaultKind.MEMORY_PRESSURE, "bot", 1.0, 2.0))
    calls: list[tuple[str, bool, float]] = []
    injector.on_harness(lambda fault, started: calls.append((fault.kind.value, started, world.runtime.now())))
    world.run_until(4.0)
    assert calls == [("memory_pressure", True, 1.0), ("memory_pressure", False, 3.0)]


def test_every_fault_start_and_end_is_logged_with_its_hits(tmp_path: Path) -> None:
    world, client, _ = make(Fault(FaultKind.OUTAGE, "rest", 1.0, 2.0), Fault(FaultKind.LATENCY, "ws", 1.5, 0.5),
                            log=tmp_path / "log.jsonl")

    async def main() -> None:
        await asyncio.sleep(1.5)
        with pytest.raises(Exception, match="-1001"):
            await client.balances()

    world.run(main())
    world.run_until(4.0)
    world.close()
    faults = [e for e in read_events(tmp_path / "log.jsonl") if e["k"] == "fault"]
    assert [(e["t"], e["id"], e["ph"]) for e in faults] == [
        (1_000_000, 0, "start"), (1_500_000, 1, "start"), (2_000_000, 1, "end"), (3_000_000, 0, "end")]
    assert faults[0]["prm"] == {"status": "503", "executes_probability": 0.0, "trigger": "time"}
    assert faults[3]["hits"] == 1


def _session_digest(seed: int, tmp_path: Path) -> str:
    """A short session with a drawn scenario and a client doing requests and reading its stream."""
    scenario = draw_scenario(seed, 60.0)
    world = SimWorld(seed=seed, duration_s=60, market=MarketConfig(symbols=(SYMBOL,)))
    world.venue.open_account(BOT, {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
    FaultInjector.for_world(world, scenario)
    client = world.venue.connect(BOT)

    async def trader() -> None:
        sub = client.subscribe_user()
        for i in range(100):
            best = world.engine.best_bid(SYMBOL)
            try:
                async with asyncio.timeout(1.0):
                    if best is not None:
                        await client.place(PlaceRequest(
                            account=BOT, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT_MAKER, qty_lots=1000,
                            price_ticks=best[0], client_order_id=ClientOrderId(f"c{i}")))
                    await client.open_orders(SYMBOL)
            except Exception:
                pass
            while sub.get_nowait() is not None:
                pass
            await asyncio.sleep(0.5)

    world.run(trader())
    digest = world.log.digest()
    world.close()
    return digest


def test_the_same_seed_and_scenario_give_the_same_digest(tmp_path: Path) -> None:
    assert _session_digest(9, tmp_path) == _session_digest(9, tmp_path)
    assert _session_digest(9, tmp_path) != _session_digest(10, tmp_path)


def test_a_market_shock_with_a_regime_switches_the_flow_for_its_window_and_back(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    world, _client, _ = make(Fault(FaultKind.MARKET_SHOCK, "both", 10.0, 20.0,
                                   {"size_bps": -500.0, "regime": "flash_crash"}), log=log)
    flow = world.market.flows[SYMBOL]
    world.run_until(9.0)
    assert flow.params.name == "calm"
    world.run_until(20.0)
    assert flow.params.name == "flash_crash"
    world.run_until(40.0)
    assert flow.params.name == "calm"
    world.close()
    switches = [(e["t"], e["regime"]) for e in read_events(log) if e["k"] == "regime" and "fault" in e]
    assert switches == [(10_000_000, "flash_crash"), (30_000_000, "calm")]


def test_a_market_shock_without_a_regime_keeps_the_regime() -> None:
    world, _client, _ = make(Fault(FaultKind.MARKET_SHOCK, "both", 10.0, 20.0, {"size_bps": -500.0}))
    world.run_until(20.0)
    assert world.market.flows[SYMBOL].params.name == "calm"
    world.close()


def test_the_swarm_draws_market_shocks_with_a_flash_crash_regime() -> None:
    drawn = [f for seed in range(200) for f in draw_scenario(seed, 600.0, [FaultKind.MARKET_SHOCK]).faults]
    assert any(f.text("regime") == "flash_crash" and f.duration_s > 0 for f in drawn)
