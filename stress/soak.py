"""Soak driver: the whole bot on the simulated exchange for many simulated hours, sampling its structures' sizes.

The bot is wired as a simulated session wires it (``AppContext`` and its ``start_quoting``: one ``MarketData``
and one ``SymbolQuoter`` per symbol; the order manager's user stream and reconciler) on a ``SimWorld`` whose
event log is written (to
``log_path``). Every ``sample_every_s`` simulated seconds a ``Sample`` records RSS and the size of every
structure that could grow with time: the order manager's maps, the connector's id map and open subscriptions,
the feed queues, the quoters' queue trackers and latency windows, the local books, the recent trades, the
event-log writer's counters, the app's task list and the simulated venue's kept history of the account, each
read through its component's public ``sizes()`` probe. ``run_soak`` returns the samples; the caller judges them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import AppContext
from bot.config import BotConfig
from bot.connectors.binance.connector import BinanceConnector
from bot.core.clock import LoopClock
from bot.execution.state import StateStore
from bot.market.data import MarketData
from bot.quoting.quoter import SymbolQuoter
from exchange_sim.engine.types import AccountId
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from harness.memory import rss_mb
from harness.session import open_sim_account
from harness.session_venue import sim_connector
from harness.sim_account import priced_for_sim

ACCOUNT = AccountId("soak")
VENUE_HISTORY = 20_000
"""Terminal orders the simulated venue keeps for the soak's account (default 200,000, a day of a busy bot).
The process's RSS holds the simulator too; with the default cap the venue's own history would still be filling
at the end of a 24 h soak (~1 KB an order) and hide the bot's steady state. Reached within the warm-up."""


@dataclass(frozen=True, slots=True)
class Sample:
    sim_hours: float
    rss_mb: float
    sizes: dict[str, int] = field(default_factory=dict)
    guard: str = "OK"  # the risk engine's level at the sample, with its reasons: "SOFT DRAWDOWN"


def _sizes(app: AppContext, connector: BinanceConnector, markets: list[MarketData], quoters: list[SymbolQuoter],
           world: SimWorld) -> dict[str, int]:
    """Every component's public ``sizes()`` probe, summed over symbols, plus the app's and the event log's."""
    books = [m.book.sizes() for m in markets]
    quoting = [q.sizes() for q in quoters]
    conn = connector.sizes()
    return {
        **{f"om.{name}": size for name, size in app.orders.sizes().items()},
        "connector.client_ids": conn["client_ids"],
        "connector.subscriptions": conn["subscriptions"],
        "feed.queued": conn["feed_queued"],
        "queue_tracker.orders": sum(q["queue_tracker_orders"] for q in quoting),
        "quoter.rest_window": sum(q["rest_window"] for q in quoting),
        "quoter.equity_window": sum(q["equity_window"] for q in quoting),
        "book.levels": sum(b["levels"] for b in books),
        "book.buffered_diffs": sum(b["buffered_diffs"] for b in books),
        "market.trades": sum(len(m.trades) for m in markets),
        "app.tasks": len(app.tasks),
        "app.fill_listeners": len(app.fill_listeners),
        "eventlog.kinds": len(world.log.counts()),
        **{f"venue.{name}": size for name, size in world.engine.account_sizes(ACCOUNT).items()},
    }


def run_soak(*, hours: float, symbols: tuple[str, ...], seed: int, sample_every_s: float, log_path: Path,
             state_path: Path, on_sample: Callable[[Sample], None] | None = None) -> list[Sample]:
    """Run the bot for ``hours`` simulated hours on ``symbols`` and return a sample every ``sample_every_s``."""
    config = priced_for_sim(BotConfig(symbols=symbols))  # the simulator's start prices, as a session's
    duration_s = hours * 3600.0
    world = SimWorld(seed=seed, duration_s=duration_s + 120.0, market=MarketConfig(symbols=symbols),
                     log_path=log_path, history_limit=VENUE_HISTORY)
    open_sim_account(world, config, ACCOUNT)  # the session's balances and fee tier (ADR 0005), not the venue's
    store = StateStore(state_path)
    samples: list[Sample] = []

    async def main() -> None:
        connector: BinanceConnector = sim_connector(
            world, ACCOUNT, request_timeout_s=config.execution.request_timeout_s, store=store)
        await connector.sync_time()
        app = await AppContext.build(config, connector, LoopClock(), store=store, seed=seed)
        await app.start()
        markets, quoters = app.start_quoting()  # the session's wiring of the quote loops
        loop = asyncio.get_running_loop()
        begin = loop.time()
        for index in range(1, max(1, round(duration_s / sample_every_s)) + 1):
            await asyncio.sleep(max(0.0, begin + index * sample_every_s - loop.time()))
            for task in app.tasks:  # a crashed task ends the soak loudly
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            guard = " ".join([app.risk.level(), *app.risk.reasons()])
            sample = Sample((loop.time() - begin) / 3600.0, rss_mb(), _sizes(app, connector, markets, quoters, world),
                            guard)
            samples.append(sample)
            if on_sample is not None:
                on_sample(sample)
        await app.stop("soak end")
        await connector.close()

    try:
        world.run(main())
    finally:
        store.close()
        world.close()
    return samples
