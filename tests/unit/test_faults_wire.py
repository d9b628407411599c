"""Venue/wire-level faults of issue 16: stable random streams, activity triggers, request targeting, new kinds."""

from __future__ import annotations

from pathlib import Path

from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId
from exchange_sim.faults import Fault, FaultInjector, FaultKind, Scenario
from exchange_sim.faults.model import stable_id, stream_ids
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld

BOT = AccountId("bot")
SYMBOL = "BTCUSDT"


def world_for(tmp_path: Path) -> SimWorld:
    world = SimWorld(seed=3, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), log_path=tmp_path / "log.jsonl")
    world.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT})
    return world


SCHEDULE = (
    Fault(FaultKind.LATENCY, "rest", 5.0, 30.0, {"jitter_ms": 50.0}, toxicity=0.5),
    Fault(FaultKind.PARTIAL_FILL, "both", 10.0, 60.0),
    Fault(FaultKind.USER_STREAM, "user", 20.0, 30.0, {"mode": "mixed"}, toxicity=0.2),
    Fault(FaultKind.LATENCY, "rest", 5.0, 30.0, {"jitter_ms": 50.0}, toxicity=0.5),  # identical to the first
    Fault(FaultKind.OUTAGE, "rest", 40.0, 10.0, {"executes_probability": 0.5}),
)


def draws(injector: FaultInjector, index: int) -> list[float]:
    rng = injector.rng(index)
    return [rng.random() for _ in range(5)]


def test_dropping_one_fault_leaves_every_other_faults_draws_identical(tmp_path: Path) -> None:
    world = world_for(tmp_path)
    full = FaultInjector(Scenario(SCHEDULE), venue=world.venue, seed=7)
    reference = {i: draws(full, i) for i in range(len(SCHEDULE))}
    assert len({tuple(d) for d in reference.values()}) == len(SCHEDULE)  # identical faults still draw apart
    for k in (0, 1, 2, 4):  # dropping the first of two identical faults renames the second: not stable, by design
        kept = [i for i in range(len(SCHEDULE)) if i != k]
        smaller = FaultInjector(Scenario(tuple(SCHEDULE[i] for i in kept)), venue=world.venue, seed=7)
        for position, original in enumerate(kept):
            if k == 0 and original == 3:
                continue
            assert draws(smaller, position) == reference[original], (k, original)
    world.close()


def test_a_stable_id_depends_on_the_fault_not_on_its_position() -> None:
    a, b = SCHEDULE[1], SCHEDULE[4]
    assert stream_ids(Scenario((a, b))) == tuple(reversed(stream_ids(Scenario((b, a)))))
    moved = Fault(FaultKind.PARTIAL_FILL, "both", 10.5, 60.0)
    assert stable_id(moved) != stable_id(a)
    assert stream_ids(Scenario((SCHEDULE[0], SCHEDULE[3])))[1] == stable_id(SCHEDULE[0]) + "#1"
