"""Shared scaffolding of the stress suite: sizes (short in CI, full behind ``-m slow`` or ``MMBOT_STRESS_FULL=1``),
a quiet simulated venue with one funded account, an OrderManager on it, and the venue's own order ledger.

The OrderManager reaches the venue through the connector that trades real money: ``BinanceConnector`` over the
in-process transport, under Binance's rate limits unless a test lifts them (``LIFTED_LIMITS``: for a test about
the order manager's bookkeeping under 1,000 concurrent orders, not about the limiter, which would otherwise
refuse all but 80 of them each 10 s).

The ledger is read from the venue's event log (``order`` records the engine writes for tracked accounts), never
from the bot's books: it is what the checks compare the bot against.
"""

from __future__ import annotations

import os
import random
import sqlite3
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.connectors.binance.connector import BinanceConnector
from bot.core.clock import LoopClock
from bot.execution.config import ExecutionConfig
from bot.execution.order_manager import OrderManager
from bot.execution.state import StateStore
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId
from exchange_sim.eventlog import read_events
from exchange_sim.faults import FaultInjector, Scenario
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.server.config import LimitsConfig
from exchange_sim.venue import VenueClient
from exchange_sim.world import SimWorld
from stress.venue import connector

FULL = os.environ.get("MMBOT_STRESS_FULL", "") == "1"
ACCOUNT = AccountId("stress")
SYMBOL = "BTCUSDT"
BALANCES = {"BTC": 10**3 * ATOMS_PER_UNIT, "USDT": 10**9 * ATOMS_PER_UNIT}
# a market with (almost) no background flow: the bot's far-from-touch orders rest and never fill
QUIET = {"calm": {"lp_rate_per_s": 1e-9, "market_rate_per_s": 1e-9, "informed_rate_per_s": 0.0,
                  "lp_requote_rate_per_s": 0.0}}


def full_size(*values: object) -> Any:
    """A parameter set of the full-size run: marked ``slow`` unless ``MMBOT_STRESS_FULL=1``."""
    return pytest.param(*values, id="full-" + "-".join(map(str, values)), marks=() if FULL else (pytest.mark.slow,))


@dataclass
class Rig:
    """A simulated venue with one account and an OrderManager on it, through ``BinanceConnector`` over the
    in-process transport (``state`` is a SQLite file; it is also the connector's store of a Retry-After)."""

    world: SimWorld
    client: VenueClient
    venue: BinanceConnector
    orders: OrderManager
    store: StateStore
    log_path: Path
    injector: FaultInjector | None = None

    def close(self) -> None:
        self.store.close()
        self.world.close()


def quiet_rig(tmp_path: Path, *, seed: int = 1, rtt_ms: float = 10.0, scenario: Scenario | None = None,
              config: ExecutionConfig | None = None, duration_s: float = 3600.0, state: str | None = None,
              limits: LimitsConfig | None = None) -> Rig:
    """A ``Rig`` on a quiet BTCUSDT market with a fixed request round trip and an optional fault scenario; the
    state file is ``tmp_path / "state.sqlite3"`` unless ``state`` names another (``":memory:"``); the venue's
    rate limits are Binance's unless ``limits`` lifts them."""
    log_path = tmp_path / "events.jsonl"
    world = SimWorld(seed=seed, duration_s=duration_s, log_path=log_path,
                     latency=LatencyConfig(request_floor_ms=rtt_ms / 2, request_median_ms=0),
                     market=MarketConfig(symbols=(SYMBOL,), regime_overrides=QUIET))
    world.venue.open_account(ACCOUNT, dict(BALANCES))
    injector = FaultInjector.for_world(world, scenario) if scenario is not None else None
    cfg = config if config is not None else ExecutionConfig()
    client = world.venue.connect(ACCOUNT)
    store = StateStore(state if state is not None else tmp_path / "state.sqlite3")
    venue = connector(world, client, request_timeout_s=cfg.request_timeout_s, store=store, limits=limits)
    info = {s.symbol: s for s in world.run(venue.symbols())}
    orders = OrderManager(venue, store, LoopClock(), cfg, info, rng=random.Random(0))
    return Rig(world, client, venue, orders, store, log_path, injector)


@dataclass
class VenueLedger:
    """What the venue itself says about the account's orders (from its event log)."""

    accepted: Counter[str] = field(default_factory=Counter)  # client id -> NEW executions (must be <= 1)
    final: dict[str, str] = field(default_factory=dict)  # client id -> last status the venue reported


def venue_ledger(log_path: Path, account: str = ACCOUNT) -> VenueLedger:
    ledger = VenueLedger()
    for event in read_events(log_path):
        if event["k"] != "order" or event["a"] != account:
            continue
        if event["x"] == "NEW":
            ledger.accepted[event["c"]] += 1
        ledger.final[event["c"]] = event["X"]
    return ledger


@dataclass
class MemoryReport:
    """Traced Python memory over a block (tracemalloc): growth from start to end and the peak."""

    growth_mb: float = 0.0
    peak_mb: float = 0.0


@contextmanager
def traced_memory() -> Iterator[MemoryReport]:
    report = MemoryReport()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    try:
        yield report
    finally:
        after, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        report.growth_mb = (after - before) / 1e6
        report.peak_mb = (peak - before) / 1e6


def store_statuses(path: Path) -> dict[str, str]:
    """Client id -> status of every order in a state file, read with plain SQL (independent of the bot)."""
    with sqlite3.connect(path) as db:
        return {str(c): str(s) for c, s in db.execute("SELECT client_order_id, status FROM orders")}
