"""A simulated session: the unchanged bot on the in-process simulated exchange, in virtual time, with a summary.

``run_sim_session`` builds a ``SimWorld`` (market model + matching engine, seeded), opens the bot's account with
the configured balances and fee tier, connects a ``BinanceConnector`` over the in-process transport
(``harness.session_venue``, ADR 0014), builds the ``AppContext``, then starts the order manager (reconcile first),
one ``MarketData`` and one ``SymbolQuoter`` per symbol, runs for the session's
simulated duration and stops the bot the orderly way (cancel all, verify). Everything follows from the seed: the
same seed and config give the same event log, byte for byte.

The bot writes its own facts into the same event log through ``LogRecorder`` (the checker's bot records). With a
``Scenario`` a ``FaultInjector`` is installed first and ``harness.session_harness.Harness`` plays the process supervisor
and the operator: a ``crash`` tears the running instance down with no shutdown path and, after its pause, a new
instance starts on the same state store (restore, reconcile, then quote); ``cold_restart``, ``pause`` and
``operator_stop`` are applied there too, and latched guards are reset after a drawn delay. At the end the bot stops,
reconciles once more and records its final position and open orders; with checking on,
``exchange_sim.checker.check_session`` judges the log and the venue's end state.

The summary (``SessionSummary``) is computed from the bot's own books (PnL trackers) and cross-checked against
the venue: the bot's position per symbol must equal the venue's signed trades of the bot's account.

Symbols: the simulator's defaults plus ``config.sim.symbols`` (any symbol with its filters from config).

Errors: ``BotError(CONFIG_INVALID)`` for symbols neither the defaults nor ``config.sim.symbols`` list; anything the
bot raises ends the session and propagates.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import tempfile
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import simpy

from bot.app import AppContext, StopReport, restart_backoff_cap_s
from bot.config import BotConfig
from bot.connectors.binance.connector import BinanceConnector
from bot.core.clock import LoopClock
from bot.core.errors import BotError, ErrorCode
from bot.execution.config import ExecutionConfig
from bot.execution.memory_store import MemoryStateStore
from bot.execution.state import OrderStore, StateStore
from bot.metrics.bridge import MetricsSampler, SamplerConfig
from bot.metrics.registry import BotMetrics
from bot.quoting.latency import LatencyHistogram
from bot.quoting.quoter import SymbolQuoter
from exchange_sim.checker import CheckConfig, VenueState, Violation, check_session
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId, TradeId
from exchange_sim.eventlog import read_events
from exchange_sim.faults import Fault, FaultInjector, FaultKind, Scenario
from exchange_sim.market.config import MarketConfig
from exchange_sim.replay.source import ReplaySource
from exchange_sim.rng import derive_seed
from exchange_sim.world import SimWorld
from harness.check_config import check_config_for
from harness.memory import MemoryWatch
from harness.session_harness import OPERATOR_RESET_S, Harness, Life, LogRecorder
from harness.session_venue import SimLink
from harness.sim_account import priced_for_sim, sim_catalogue

__all__ = ["SessionSummary", "SymbolSummary", "open_session_store", "open_sim_account", "run_sim_session"]

PROGRESS_STEP_S = 60.0  # simulated seconds between progress callbacks
MEMORY_SAMPLE_S = 1.0  # simulated seconds between RSS samples during a memory_pressure fault
START_BACKOFF_S = (1.0, 30.0)  # an instance that cannot read the venue at start retries after 1 s, doubling to 30
# (at most the HARD cancel bound: ``bot.app.restart_backoff_cap_s``)


@dataclass(frozen=True, slots=True)
class SymbolSummary:
    symbol: str
    net_pnl_quote: float
    net_bps: float
    traded_notional_quote: float
    maker_fills: int
    taker_fills: int
    slippage_bps: float
    max_abs_inventory_base: float
    max_abs_inventory_lots: int
    hard_limit_lots: int
    final_inventory_lots: int
    venue_position_lots: int
    drawdown_quote: float
    cycles: int
    decisions: int
    replaces: int


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What a simulated session did: per-symbol results, totals, guards, latency, and how fast it ran."""

    seed: int
    hours: float
    regime: str
    strategy: str
    symbols: tuple[SymbolSummary, ...]
    guard_triggers: dict[str, int]  # "LEVEL:reason" -> rising edges
    halts: dict[str, int]  # strategy halts by reason
    pulls: dict[str, int]  # quote pulls on bad market data by reason
    errors: dict[str, int]  # venue errors by code
    latency: dict[str, dict[str, float]]  # component -> count/mean/p50/p95/p99/max
    orders_placed: int
    orders_cancelled: int
    digest: str
    wall_s: float
    book_events: int
    stop_verified: bool
    extra: dict[str, Any] = field(default_factory=dict)
    violations: tuple[Violation, ...] = ()  # broken invariants (when the session was checked)
    reactions: dict[str, int] = field(default_factory=dict)  # how the bot met trouble (reconciles, resyncs, ...)

    @property
    def net_pnl_quote(self) -> float:
        return sum(s.net_pnl_quote for s in self.symbols)

    @property
    def traded_notional_quote(self) -> float:
        return sum(s.traded_notional_quote for s in self.symbols)

    @property
    def net_bps(self) -> float:
        """Net PnL per traded notional over all symbols, in bps (0 without trading)."""
        notional = self.traded_notional_quote
        return 1e4 * self.net_pnl_quote / notional if notional else 0.0

    @property
    def maker_fills(self) -> int:
        return sum(s.maker_fills for s in self.symbols)

    @property
    def taker_fills(self) -> int:
        return sum(s.taker_fills for s in self.symbols)

    @property
    def speedup(self) -> float:
        return self.hours * 3600 / self.wall_s if self.wall_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every field plus the totals."""
        return {
            "seed": self.seed, "hours": self.hours, "regime": self.regime, "strategy": self.strategy,
            "net_pnl_quote": self.net_pnl_quote, "net_bps": self.net_bps,
            "traded_notional_quote": self.traded_notional_quote, "maker_fills": self.maker_fills,
            "taker_fills": self.taker_fills,
            "symbols": [
                {k: getattr(s, k) for k in SymbolSummary.__slots__}
                for s in self.symbols
            ],
            "guard_triggers": self.guard_triggers, "halts": self.halts, "pulls": self.pulls, "errors": self.errors,
            "latency": self.latency, "orders_placed": self.orders_placed, "orders_cancelled": self.orders_cancelled,
            "digest": self.digest, "wall_s": self.wall_s, "speedup": self.speedup, "book_events": self.book_events,
            "stop_verified": self.stop_verified,
            "violations": [{"invariant": v.invariant, "t_s": v.t_s, "orders": list(v.orders), "detail": v.detail}
                           for v in self.violations],
            "reactions": self.reactions, **self.extra,
        }


def _fee_ppm(bps: Any) -> int:
    return round(float(bps) * 100)


def open_sim_account(world: SimWorld, config: BotConfig, account: AccountId | None = None) -> dict[str, int]:
    """Open the bot's account on ``world``'s venue as every simulated run must: ``config.sim``'s balances and
    its fee tier (ADR 0005: 0 bps maker by default; the venue's own default is the retail 10 bps). Returns the
    opening balances in atoms (the checker's conservation baseline). ``account``: ``config.venue.account``."""
    opening = {asset: int(amount * ATOMS_PER_UNIT) for asset, amount in sorted(config.sim.balances.items())}
    world.venue.open_account(account if account is not None else AccountId(config.venue.account), opening,
                             maker_fee_ppm=_fee_ppm(config.sim.maker_fee_bps),
                             taker_fee_ppm=_fee_ppm(config.sim.taker_fee_bps))
    return opening


def open_session_store(config: BotConfig, cold_start: int = 0) -> OrderStore:
    """The order state of a simulated session, from ``config.execution.state_path``; every instance of the
    session (each restart after a crash fault) runs on this one store, as a restarted process reopens its file.

    * a file path: the production ``StateStore`` (SQLite) on that file. A simulated venue starts empty, so its
      state must too: a file that already exists is refused (``BotError(STATE_INVALID)``), never adopted (the
      digest would depend on it). The chaos gate runs this way, on a temporary file.
    * ``cold_start`` n > 0: the empty store of the n-th cold restart (a ``cold_restart`` fault: a new instance
      without the state file), on ``<state_path>.cold-<n>`` for a file path.
    * ``":memory:"``, or the live default path (``mmbot-state.sqlite3`` - a simulation never opens the live
      bot's state file): ``MemoryStateStore``, the same contract in dicts (same digests, no SQLite cost).
    """
    path = config.execution.state_path
    if path in (":memory:", ExecutionConfig.model_fields["state_path"].default):
        return MemoryStateStore()
    if cold_start:
        path = f"{path}.cold-{cold_start}"
    if Path(path).exists():
        raise BotError(ErrorCode.STATE_INVALID, f"state file {path} already exists: a simulated session starts on "
                       "an empty venue and needs a new state file")
    return StateStore(path)


def _reactions(lives: list[Life], link: SimLink) -> dict[str, int]:
    """How the bot reacted to trouble, summed over every instance (the chaos table's columns)."""
    out: dict[str, int] = {"restarts": max(0, len(lives) - 1)}

    def add(name: str, n: int) -> None:
        out[name] = out.get(name, 0) + n

    for life in lives:
        stats = life.app.orders.stats
        for name in ("reconciles", "retries", "unknown_outcomes", "lost", "duplicate_fills", "adopted"):
            add(name, getattr(stats, name))
        conn = life.connector.stats
        for name in ("time_syncs", "timestamp_rejects", "rate_limited", "banned", "held_back"):
            add(name, getattr(conn, name))
        add("feed_shed", life.connector.feed_shed())
        add("book_resyncs", sum(m.resyncs for m in life.markets))
        add("book_gaps", sum(m.gaps for m in life.markets))
        add("task_restarts", sum(life.app.restarts.values()))
        add("quote_pulls", sum(sum(q.stats.pulls.values()) for q in life.quoters))
        for (level, _reason, _threshold), n in life.app.risk.counters.items():
            add(f"guard_{level.lower()}", n)
    add("feed_shed", link.feed_shed())  # dropped by the venue's per-connection buffers (a reader too slow)
    return dict(sorted(out.items()))


def run_sim_session(
    config: BotConfig,
    *,
    seed: int,
    hours: float,
    market: MarketConfig | None = None,
    log_path: Path | str | None = None,
    progress: Callable[[float], None] | None = None,
    timer: Callable[[], int] | None = time.perf_counter_ns,
    scenario: Scenario | None = None,
    check: bool | None = None,
    check_config: CheckConfig | None = None,
    sample_metrics: bool = True,
    operator_reset_s: tuple[float, float] | None = OPERATOR_RESET_S,
    stop_requested: Callable[[], bool] | None = None,
    replay: ReplaySource | None = None,
) -> SessionSummary:
    """Run the bot for ``hours`` simulated hours on ``market`` (default: calm, the config's symbols).

    ``scenario`` installs a ``FaultInjector`` (harness faults: ``crash``, ``cold_restart``, ``pause`` and
    ``operator_stop`` as ``harness.session_harness`` documents; ``memory_pressure`` floods the
    depth streams and holds the process to ``limit_mb`` of growth over the window, sampled every
    ``MEMORY_SAMPLE_S`` - a breach is a ``memory_limit`` violation. The resident size is a wall-world figure,
    so it never enters the event log: the digest stays deterministic). ``check`` (default: whether a
    scenario is given) runs the invariant checker on the event log and the venue's end state; its violations
    are in ``SessionSummary.violations``. ``sample_metrics`` samples the bot's Prometheus metrics
    (``bot.metrics``) every ``PROGRESS_STEP_S`` of virtual time into the event log as ``metrics`` records, so
    reports can plot them; the sample is deterministic (no wall-clock family). ``operator_reset_s``: with a
    scenario, the operator resets a latched HARD guard after a delay drawn from this range (None: never).
    ``stop_requested`` (polled after each progress step) ends the session early the orderly way (Ctrl-C in the CLI).
    ``replay``: the market is a recording (``exchange_sim.replay``) instead of ``market``; the session lasts at
    most the recording's length, and the config's symbols must be recorded in it.
    """
    catalogue = sim_catalogue(config)
    config = priced_for_sim(config, catalogue)  # before the recording's markets: as the config was always priced
    if replay is not None:
        catalogue.update(replay.markets())
        missing = [s for s in config.symbols if s not in replay.symbols]
        if missing:
            raise BotError(ErrorCode.CONFIG_INVALID, f"symbols {missing} are not in the recording "
                           f"(it holds {', '.join(replay.symbols)})")
        hours = min(hours, replay.duration_s / 3600.0)
    unknown = [s for s in config.symbols if s not in catalogue]
    if unknown:
        raise BotError(ErrorCode.CONFIG_INVALID, f"symbols {unknown} are not simulated; known: "
                       f"{', '.join(sorted(catalogue))} (others: sim.symbols with their filters)")
    market_config = market if market is not None else MarketConfig(symbols=config.symbols)
    if tuple(market_config.symbols) != tuple(config.symbols):
        market_config = market_config.model_copy(update={"symbols": tuple(config.symbols)})
    run_checks = scenario is not None if check is None else check
    duration_s = hours * 3600.0
    wall_start = time.perf_counter()
    with contextlib.ExitStack() as cleanup:
        if run_checks and log_path is None:
            tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="mmbot-session-")))
            log_path = tmp / "events.jsonl"
        world = SimWorld(seed=seed, duration_s=duration_s + 120.0, market=market_config, log_path=log_path,
                         symbols=catalogue, replay=replay)
        cleanup.callback(world.close)
        account = AccountId(config.venue.account)
        opening = open_sim_account(world, config, account)
        injector = FaultInjector.for_world(world, scenario) if scenario is not None else None

        opened = itertools.count()

        def new_store() -> OrderStore:
            """The session's store (shared by every instance: the state that survives a crash), then a fresh empty
            one for each cold restart."""
            store = open_session_store(config, cold_start=next(opened))
            cleanup.callback(store.close)
            return store

        harness = Harness(world, new_store(), new_store,
                          operator_reset_s=operator_reset_s if scenario is not None else None)
        recorder = LogRecorder(world, account, harness if scenario is not None else None)
        lives: list[Life] = []
        metrics = BotMetrics() if sample_metrics else None
        samplers: list[MetricsSampler] = []

        memory: dict[int, MemoryWatch] = {}  # memory_pressure faults in progress (by identity)
        memory_violations: list[Violation] = []

        def watch_memory(watch: MemoryWatch) -> Generator[simpy.Event, Any, None]:
            while watch.active:
                watch.sample()
                yield world.runtime.env.timeout(MEMORY_SAMPLE_S)

        def on_harness(fault: Fault, started: bool) -> None:
            if fault.kind is FaultKind.MEMORY_PRESSURE:
                if started:
                    watch = MemoryWatch(fault.num("limit_mb"))
                    memory[id(fault)] = watch
                    world.runtime.env.process(watch_memory(watch))
                    return
                watch = memory.pop(id(fault))
                if watch.close():
                    memory_violations.append(Violation(
                        "memory_limit", world.runtime.now(), (),
                        f"the process grew {watch.growth_mb():.1f} MB during a memory_pressure window "
                        f"(limit {watch.limit_mb:g} MB): a buffer is not bounded"))
            else:
                harness.on_fault(fault, started)

        if injector is not None:
            injector.on_harness(on_harness)

        link = SimLink(world, account, request_timeout_s=config.execution.request_timeout_s, injector=injector)

        async def start_app(connector: BinanceConnector, store: OrderStore) -> AppContext:
            """Build and start (restore, reconcile) an instance; while the venue cannot be read, the instance
            refuses to start and is started again after a backoff (as a process supervisor would)."""
            delay_s = START_BACKOFF_S[0]
            while True:
                try:
                    await connector.sync_time()
                    clock = LoopClock(loop=world.runtime.loop)  # the world's loop, read without a getpid per call
                    app = await AppContext.build(config, connector, clock, store=store, recorder=recorder,
                                                 seed=derive_seed(world.seed, "order_manager", len(lives)))
                    await app.start()
                    return app
                except BotError as error:
                    if not (error.recoverable or error.outcome_unknown):
                        raise
                delay_s = min(delay_s, restart_backoff_cap_s(config, START_BACKOFF_S[1]))
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, START_BACKOFF_S[1])

        async def start_life(store: OrderStore) -> Life:
            connector = link.connector(store)
            app = await start_app(connector, store)
            life = Life(connector, app, *app.start_quoting(timer=timer, recorder=recorder))
            lives.append(life)
            samplers.clear()
            if metrics is not None:
                samplers.append(MetricsSampler(app, life.quoters, metrics,
                                               config=SamplerConfig(wall_clock=False, venue=connector.name)))
            return life

        def sample() -> None:
            for sampler in samplers:
                sampler.sample()
                world.log.record(world.runtime.now_us(), "metrics", sampler.snapshot_record())

        async def main() -> Any:
            loop = asyncio.get_running_loop()
            begin = loop.time()

            def remaining_s() -> float:
                return duration_s - (loop.time() - begin)

            life = await harness.start(start_life)
            while (elapsed := loop.time() - begin) < duration_s:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(PROGRESS_STEP_S, duration_s - elapsed)):
                        await harness.wake.wait()
                for task in life.app.tasks:  # a crashed task ends the session loudly, not silently
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                life = await harness.apply(start_life, remaining_s)
                sample()
                if progress is not None:
                    progress(min(duration_s, loop.time() - begin))
                if stop_requested is not None and stop_requested():
                    break
                if life.stopped is not None:  # the operator stopped the last instance: the session idles out
                    await asyncio.sleep(max(0.0, remaining_s()))
            return await _finish(life, recorder, sample)

        stop = world.run(main())
        life = lives[-1]
        violations: tuple[Violation, ...] = ()
        if run_checks:
            world.log.close()
            assert log_path is not None
            venue_state = VenueState.capture(world.engine, [account], {account: opening})
            cfg = check_config if check_config is not None else check_config_for(
                config, account, {s: world.engine.spec(s).step_size for s in config.symbols})
            violations = (*check_session(read_events(log_path), venue_state, cfg), *memory_violations)
        summary = _summarise(config, world, life.app, life.quoters, stop.shutdown.verified, seed, hours,
                             market_config, time.perf_counter() - wall_start)
        extra = {"replay": replay.describe()} if replay is not None else {}
        return dataclasses.replace(summary, violations=violations, reactions=_reactions(lives, link),
                                   regime="replay" if replay is not None else summary.regime, extra=extra)


async def _finish(life: Life, recorder: LogRecorder, sample: Callable[[], None]) -> StopReport:
    """End of session: stop the bot the orderly way (unless the operator already stopped it), reconcile once
    more and record its final position and open orders."""
    stop = life.stopped if life.stopped is not None else await life.app.stop("session end")
    sample()
    with contextlib.suppress(BotError):
        await life.app.orders.reconcile()  # the final books, after shutdown
    for symbol in sorted(life.app.symbols):
        recorder.record("bot.position", {"s": symbol, "lots": life.app.orders.inventory_lots(symbol),
                                         "final": True})
    life.app.orders.record_open_orders("final")
    return stop


def _summarise(
    config: BotConfig, world: SimWorld, app: AppContext, quoters: list[SymbolQuoter], verified: bool, seed: int,
    hours: float, market: MarketConfig, wall_s: float,
) -> SessionSummary:
    account = AccountId(config.venue.account)
    symbols: list[SymbolSummary] = []
    latency: dict[str, LatencyHistogram] = {}
    halts: dict[str, int] = {}
    pulls: dict[str, int] = {}
    errors: dict[str, int] = {}
    scale = 1.0 / ATOMS_PER_UNIT
    for quoter in quoters:
        pnl = quoter.pnl
        info = quoter.info
        venue_position = _venue_position_lots(world, account, quoter.symbol)
        symbols.append(SymbolSummary(
            symbol=quoter.symbol, net_pnl_quote=pnl.equity_atoms * scale, net_bps=pnl.net_bps,
            traded_notional_quote=pnl.traded_notional_atoms * scale, maker_fills=pnl.maker_fills,
            taker_fills=pnl.taker_fills, slippage_bps=pnl.slippage_bps,
            max_abs_inventory_base=float(info.qty(pnl.max_abs_position_lots)),
            max_abs_inventory_lots=pnl.max_abs_position_lots, hard_limit_lots=app.max_inventory_lots(quoter.symbol),
            final_inventory_lots=app.orders.inventory_lots(quoter.symbol), venue_position_lots=venue_position,
            drawdown_quote=pnl.drawdown_atoms * scale, cycles=quoter.stats.cycles,
            decisions=quoter.stats.decisions, replaces=quoter.stats.replaces,
        ))
        for name, hist in quoter.stats.latency.items():
            if name not in latency:
                latency[name] = LatencyHistogram()
            latency[name].merge(hist)
        for target, source in ((halts, quoter.stats.halts), (pulls, quoter.stats.pulls),
                               (errors, quoter.stats.errors)):
            for key, n in source.items():
                target[key] = target.get(key, 0) + n
    guards: dict[str, int] = {}
    for (level, reason, _threshold), n in app.risk.counters.items():
        name = f"{level}:{reason}".lower()
        guards[name] = guards.get(name, 0) + n
    guards = dict(sorted(guards.items()))
    stats = app.orders.stats
    return SessionSummary(
        seed=seed, hours=hours, regime=market.regime, strategy=config.strategy.kind, symbols=tuple(symbols),
        guard_triggers=guards, halts=dict(sorted(halts.items())), pulls=dict(sorted(pulls.items())),
        errors=dict(sorted(errors.items())),
        latency={name: latency[name].summary() for name in sorted(latency) if latency[name].count},
        orders_placed=stats.placed, orders_cancelled=stats.cancelled, digest=world.log.digest(), wall_s=wall_s,
        book_events=world.book_events, stop_verified=verified,
    )


def _venue_position_lots(world: SimWorld, account: AccountId, symbol: str) -> int:
    """The bot's position from the venue's own trade history (independent of the bot's books)."""
    position = 0
    from_id = TradeId(0)
    while page := world.engine.trades(account, symbol, from_id=from_id, limit=1000):
        for t in page:
            bought = (t.maker_account == account) == t.buyer_is_maker
            position += t.qty_lots if bought else -t.qty_lots
        from_id = TradeId(page[-1].trade_id + 1)
    return position
