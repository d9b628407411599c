"""Real-time runner: the unchanged bot on a venue in real time (the simulator's server or Binance), observable.

``run_realtime(config, venue)`` wires what a simulated session wires (``AppContext``, one ``MarketData`` and one
``SymbolQuoter`` per symbol) on the wall clock, plus what a real-time run needs:

* ``MeteredVenue`` around the venue (request latency, errors, order counters) and a ``MetricsSampler`` that
  reads the app every ``metrics_interval_s`` into ``BotMetrics``; ``/metrics`` served on 127.0.0.1 by a
  ``MetricsServer`` when ``metrics_port`` is given (0 picks a free port);
* structured logs (``bot`` and ``aiohttp`` loggers; JSON lines, or plain lines with ``log_json=False``) through
  a ``RedactingFilter`` that knows the given ``secrets`` (the API key and secret);
* operator events when ``events`` is given (``bot.metrics.logs_events``): guard changes (a ``GuardTap`` on the
  recorder sees every ``bot.guard``), quote pulls and venue partitions (polled every ``WATCH_S``), and a status
  line every ``status_every_s`` (and once at the stop), ISO-8601 UTC timestamps from the run's clock;
* paper mode (``paper=True``): a ``PaperVenue`` answers place/cancel/cancel_replace locally, so the bot quotes
  on real market data and sends nothing; its order state lives in memory only;
* SIGINT / SIGTERM are an operator's stop: the kill switch's cancel-and-verify (``AppContext.kill`` with
  ``latch=False``: HARD, cancel all, verify none open on the venue) without a latch, so the next start quotes;
  the end of ``duration_s`` is an orderly stop (``AppContext.stop``: cancel all, verify); a task that crashes
  pulls the kill switch proper, whose latch is persisted. Either way a ``LiveSummary`` is handed to
  ``on_summary`` and returned;
* inventory limits given as a notional (``risk.inventory.default_hard_max_quote``) are converted with each
  symbol's mid on the venue at start (``start_prices``, read before anything is sent) and logged in both units;
* a latch persisted by an earlier run (kill switch, hard inventory breach, stop-loss) is not silently obeyed:
  the run refuses to start (``BotError(HALTED)``, one line naming the latch and ``mmbot guards --reset``)
  before it connects to the venue.

The clock is the loop's, offset to epoch milliseconds at start (market data ages and stream latencies compare
the venue's event timestamps with it). Invariants: every wait is bounded (``duration_s``, the kill switch's
verification timeout); signal handlers, the log handler and the metrics server are removed on the way out,
whatever happened; no secret is formatted into the summary or the logs.

Errors: ``BotError(HALTED)`` for a persisted latch; whatever ``AppContext.build`` / ``start`` raise
(``BotError``: e.g. the venue cannot be read at start) propagates after cleanup; nothing is sent before the
start-up reconciliation succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import secrets as secrets_module
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.app import HARD_LATCH_KEY, AppContext, StopReport
from bot.config import BotConfig
from bot.connectors.metered import MeteredVenue
from bot.connectors.paper import PaperVenue
from bot.core.clock import LoopClock
from bot.core.errors import BotError, ErrorCode
from bot.core.recorder import NULL_RECORDER
from bot.execution.state import OrderStore, StateStore
from bot.interfaces import Recorder, Venue
from bot.live_events import observe, status_rows
from bot.metrics.bridge import DecisionTap, MetricsSampler, SamplerConfig
from bot.metrics.http import MetricsServer, MetricsServerConfig
from bot.metrics.logs import configure_json_logging
from bot.metrics.logs_events import EventWriter, GuardTap, RunEvents
from bot.metrics.registry import BotMetrics
from bot.metrics.tracing import BotTracer
from bot.quoting.quoter import SymbolQuoter
from bot.quoting.tracing import TracedVenue, trace_strategy
from bot.risk.engine import latch_kind
from bot.strategy import QuoteStrategy

__all__ = ["LiveSummary", "latch_refusal", "print_summary", "run_realtime", "start_prices"]

log = logging.getLogger("bot.live")
WATCH_S = 0.5  # how often the runner checks for a stop request or a crashed task


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveSummary:
    """What a real-time run did; ``as_dict`` is JSON-ready (no secret, no credentials)."""

    mode: str  # "live" or "paper"
    venue: str
    symbols: tuple[str, ...]
    elapsed_s: float
    reason: str  # "duration", "SIGINT", "SIGTERM", "stop", "task <name> failed: ..."
    killed: bool  # the kill switch ran (signal or crash) rather than an orderly stop
    stop_verified: bool  # the venue listed none of the bot's orders after cancelling
    orders: dict[str, int]
    positions_lots: dict[str, int]
    per_symbol: dict[str, dict[str, Any]]
    guard_triggers: dict[str, int]
    metrics_url: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.reason.startswith("task ")

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "venue": self.venue, "symbols": list(self.symbols), "elapsed_s": self.elapsed_s,
            "reason": self.reason, "killed": self.killed, "stop_verified": self.stop_verified,
            "orders": self.orders, "positions_lots": self.positions_lots, "per_symbol": self.per_symbol,
            "guard_triggers": self.guard_triggers, "metrics_url": self.metrics_url, **self.extra,
        }


def print_summary(summary: LiveSummary) -> None:
    """The default ``on_summary``: one JSON document on stdout."""
    print(json.dumps(summary.as_dict(), indent=2, sort_keys=True), flush=True)


def _epoch_clock() -> LoopClock:
    """The loop's clock, offset so that ``now_ms`` is epoch milliseconds (comparable with venue timestamps)."""
    loop_ms = asyncio.get_running_loop().time() * 1000
    return LoopClock(epoch_offset_ms=round(time.time() * 1000 - loop_ms))


class _Logs:
    """JSON logs with redaction on the ``bot`` and ``aiohttp`` loggers while a run lasts."""

    def __init__(self, handler: logging.Handler, secrets: Iterable[str], *, json_lines: bool = True) -> None:
        self.handler = handler
        self._bot = logging.getLogger("bot")
        self._aiohttp = logging.getLogger("aiohttp")
        self._levels = (self._bot.level, self._aiohttp.level)
        configure_json_logging(self._bot, handler, secrets=list(secrets), json_lines=json_lines)
        self._aiohttp.addHandler(handler)
        self._aiohttp.setLevel(logging.WARNING)

    def close(self) -> None:
        self._bot.removeHandler(self.handler)
        self._aiohttp.removeHandler(self.handler)
        self._bot.setLevel(self._levels[0])
        self._aiohttp.setLevel(self._levels[1])
        self.handler.flush()


@dataclass(slots=True)
class _Stop:
    """Why the run ends: set once by a signal, the duration or a crashed task."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = ""
    kill: bool = False
    latch: bool = False  # the kill switch proper (persisted), not an operator's stop

    def request(self, reason: str, *, kill: bool, latch: bool = False) -> None:
        if not self.event.is_set():
            self.reason, self.kill, self.latch = reason, kill, latch
            self.event.set()


def _install_signals(stop: _Stop) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, functools.partial(stop.request, sig.name, kill=True))
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signal support
            continue
        installed.append(sig)
    return installed


async def run_realtime(
    config: BotConfig,
    venue: Venue,
    *,
    duration_s: float | None = None,
    paper: bool = False,
    metrics_port: int | None = None,
    on_summary: Callable[[LiveSummary], None] | None = print_summary,
    secrets: Iterable[str] = (),
    log_handler: logging.Handler | None = None,
    store: StateStore | None = None,
    recorder: Recorder | None = None,
    metrics: BotMetrics | None = None,
    metrics_interval_s: float = 1.0,
    stop_event: asyncio.Event | None = None,
    handle_signals: bool = True,
    tracer: BotTracer | None = None,
    seed: int | None = None,
    log_json: bool = True,
    events: EventWriter | None = None,
    status_every_s: float | None = None,
) -> LiveSummary:
    """Run the bot on ``venue`` in real time until a signal, ``stop_event`` or ``duration_s``; return the summary.

    ``venue`` is closed at the end. ``store`` defaults to ``config.execution.state_path`` (in memory in paper
    mode); ``recorder`` receives the bot's records (an e2e test writes them into the server's event log).
    ``tracer`` (enabled: console or OTLP exporter) puts each decided quote cycle, its stages and its venue calls
    in one span tree (``bot.quoting.tracing``). ``seed`` seeds the order manager's retry jitter (default: drawn
    from the OS, so two bots do not retry in step; logged either way). ``events`` receives the operator events
    (guards, pulls, partitions) and, every ``status_every_s`` when given, the status line.
    """
    secrets = [s for s in secrets if s]
    logs = _Logs(log_handler if log_handler is not None else logging.StreamHandler(sys.stderr), secrets,
                 json_lines=log_json)
    metrics = metrics if metrics is not None else BotMetrics()
    clock = _epoch_clock()
    run_events = RunEvents(clock.now_ms, events) if events is not None else None
    bot_recorder = recorder if run_events is None else GuardTap(recorder or NULL_RECORDER, run_events.guard)
    loop = asyncio.get_running_loop()
    started_s = loop.time()
    paper_venue = PaperVenue(venue, clock) if paper else None
    metered = MeteredVenue(paper_venue if paper_venue is not None else venue, metrics, clock)
    bot_venue: Venue = TracedVenue(metered, tracer) if tracer is not None and tracer.enabled else metered
    state = store if store is not None else StateStore(":memory:" if paper else config.execution.state_path)
    server: MetricsServer | None = None
    stop = _Stop()
    signals: list[signal.Signals] = []
    app: AppContext | None = None
    stopped = False
    try:
        refusal = latch_refusal(config, state, getattr(state, "path", config.execution.state_path))
        if refusal is not None:
            raise BotError(ErrorCode.HALTED, refusal)
        seed = secrets_module.randbits(63) if seed is None else seed
        log.info("starting %s run on %s: symbols %s, seed %d", "paper" if paper else "live", venue.name,
                 ",".join(config.symbols), seed)
        config = config.priced(await start_prices(config, bot_venue))
        for symbol in config.symbols:
            log.info("inventory limit %s: hard %s base (%s)", symbol,
                     f"{config.risk.inventory.hard_max_for(symbol).normalize():f}",
                     config.risk.inventory.limit_source(symbol))
        app = await AppContext.build(config, bot_venue, clock, store=state, recorder=bot_recorder, seed=seed)
        await app.start()
        markets, quoters = app.start_quoting(timer=time.perf_counter_ns, recorder=recorder, tracer=tracer,
                                             wrap=functools.partial(_tapped, tracer=tracer))
        def venue_up() -> bool:
            return metered.up and all(m.book.is_synced for m in markets)

        sampler = MetricsSampler(app, quoters, metrics, venue_up=venue_up, weight=_weight_of(venue),
            config=SamplerConfig(venue=venue.name))
        sampler.sample()
        app.spawn(sampler.run(metrics_interval_s), "metrics-sampler")
        if run_events is not None:
            app.spawn(observe(app, quoters, run_events, venue_up, status_every_s), "run-events")
        if metrics_port is not None:
            server = MetricsServer(metrics, MetricsServerConfig(port=metrics_port))
            await server.start()
            log.info("metrics on %s", server.url)
        if handle_signals:
            signals = _install_signals(stop)
        await _wait(app, stop, stop_event, duration_s, loop.time)
        log.info("stopping: %s", stop.reason)
        stopped = True
        report = await (app.kill(stop.reason, latch=stop.latch) if stop.kill else app.stop(stop.reason))
        sampler.sample()
        if run_events is not None and status_every_s is not None:
            run_events.status(status_rows(app, quoters))
        summary = _summary(app, quoters, report, stop, paper_venue, venue.name, loop.time() - started_s,
                           server.url if server is not None else None)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        if server is not None:
            await server.stop()
        if app is not None and not stopped:  # failed after start: still cancel everything (orderly stop)
            with contextlib.suppress(Exception):
                await app.stop("runner error")
        await metered.close()
        if store is None:
            state.close()
        logs.close()
    if on_summary is not None:
        on_summary(summary)
    return summary


async def start_prices(config: BotConfig, venue: Venue) -> dict[str, Decimal]:
    """Each symbol's mid on ``venue`` now, ``(best bid + best ask) / 2`` in quote per base unit, for the symbols
    whose inventory limit is the notional default (reads only); ``BotError(CONFIG_INVALID)`` naming the symbol
    when its book has no two sides (give it a ``risk.inventory.hard_max_base`` entry instead)."""
    inventory = config.risk.inventory
    wanted = [s for s in config.symbols if inventory.limit_source(s) == "default_hard_max_quote"]
    if not wanted:
        return {}
    infos = {info.symbol: info for info in await venue.symbols()}
    prices: dict[str, Decimal] = {}
    for symbol in wanted:
        info = infos.get(symbol)
        book = await venue.book(symbol, limit=5) if info is not None else None
        if info is None or book is None or not book.bids or not book.asks:
            raise BotError(ErrorCode.CONFIG_INVALID, f"{symbol}: no two-sided book on {venue.name} to convert the "
                           f"notional inventory limit ({inventory.default_hard_max_quote} quote); set "
                           f"risk.inventory.hard_max_base.{symbol} in base units")
        prices[symbol] = info.price(book.bids[0].price_ticks + book.asks[0].price_ticks) / 2
    return prices


def latch_refusal(config: BotConfig, store: OrderStore, path: str) -> str | None:
    """Why a run on ``store`` must not start (one line naming the latch and the reset command), or None."""
    latched = store.get_meta(HARD_LATCH_KEY) if config.risk.hard_latches else None
    if not latched:
        return None
    return (f"refusing to start: a {latch_kind(latched)} latch from an earlier run is set in {path} ({latched}); "
            f"find out why, then clear it with: mmbot guards --state {path} --reset")


def _tapped(strategy: QuoteStrategy, *, tracer: BotTracer | None) -> QuoteStrategy:
    """``strategy`` with a span per stage (when tracing) inside the metrics tap the sampler reads."""
    if tracer is not None:
        strategy = trace_strategy(strategy, tracer, time.perf_counter_ns)
    return DecisionTap(strategy)


def _weight_of(venue: Venue) -> Callable[[], tuple[int, int | None] | None] | None:
    """The request-weight gauge source of a connector with a ``limiter`` (``BinanceConnector``), else None."""
    limiter = getattr(venue, "limiter", None)
    if limiter is None or not hasattr(limiter, "used_weight"):
        return None
    limit = int(limiter.config.weight_limit_1m)
    return lambda: (int(limiter.used_weight), limit)


async def _wait(
    app: AppContext, stop: _Stop, stop_event: asyncio.Event | None, duration_s: float | None,
    now: Callable[[], float],
) -> None:
    """Until a stop request, ``stop_event``, the deadline, or a crashed task (which requests the kill switch)."""
    deadline = None if duration_s is None else now() + duration_s
    while not stop.event.is_set():
        if stop_event is not None and stop_event.is_set():
            stop.request("stop", kill=False)
            break
        for task in app.tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("task %s failed", task.get_name(), exc_info=task.exception())
                stop.request(f"task {task.get_name()} failed: {type(task.exception()).__name__}", kill=True,
                             latch=True)
        if stop.event.is_set():
            break
        wait_s = WATCH_S if deadline is None else min(WATCH_S, deadline - now())
        if wait_s <= 0:
            stop.request("duration", kill=False)
            break
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await stop.event.wait()


def _summary(
    app: AppContext, quoters: list[SymbolQuoter], report: StopReport, stop: _Stop, paper: PaperVenue | None,
    venue_name: str, elapsed_s: float, metrics_url: str | None,
) -> LiveSummary:
    stats = app.orders.stats
    per_symbol: dict[str, dict[str, Any]] = {}
    for quoter in quoters:
        pnl, qs = quoter.pnl, quoter.stats
        per_symbol[quoter.symbol] = {
            "net_pnl_quote": pnl.equity_atoms * 1e-8, "net_bps": pnl.net_bps, "maker_fills": pnl.maker_fills,
            "taker_fills": pnl.taker_fills, "cycles": qs.cycles, "decisions": qs.decisions, "replaces": qs.replaces,
            "pulls": dict(sorted(qs.pulls.items())), "halts": dict(sorted(qs.halts.items())),
            "errors": dict(sorted(qs.errors.items())),
        }
    guards: dict[str, int] = {}
    for (level, reason, _threshold), n in sorted(app.risk.counters.items()):
        key = f"{level}:{reason}".lower()
        guards[key] = guards.get(key, 0) + n
    extra: dict[str, Any] = {}
    if report.kill is not None:
        extra["kill"] = {"cancelled": report.kill.cancelled, "verified": report.kill.verified,
                         "remaining": "unknown" if report.kill.remaining is None else len(report.kill.remaining)}
    if paper is not None:
        extra["paper"] = {"placed": paper.placed, "cancelled": paper.cancelled, "sent_to_venue": paper.sent_orders}
    verified = report.verified
    extra["remaining"] = "unknown" if report.remaining is None else report.remaining
    return LiveSummary(
        mode="paper" if paper is not None else "live", venue=venue_name, symbols=tuple(sorted(app.symbols)),
        elapsed_s=round(elapsed_s, 3), reason=stop.reason, killed=stop.kill, stop_verified=verified,
        orders={"placed": stats.placed, "cancelled": stats.cancelled, "rejected": stats.rejected,
                "risk_rejected": stats.risk_rejected, "unknown_outcomes": stats.unknown_outcomes,
                "fills": stats.fills, "reconciles": stats.reconciles},
        positions_lots=dict(sorted(report.positions_lots.items())), per_symbol=per_symbol,
        guard_triggers=guards, metrics_url=metrics_url, extra=extra,
    )
