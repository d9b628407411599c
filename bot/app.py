"""AppContext: builds and wires the bot's parts by dependency injection, and owns their lifecycle.

The context is the only place here that knows concrete classes; each part receives the Protocols it needs
(``Venue``, ``Clock``, ``Recorder`` from ``bot.interfaces``; a quote loop sees the context itself as a
``bot.quoting.host.QuoterHost``). Lifecycle::

    build() -> start()  [restore + reconcile, then ready]  -> tasks run  -> stop(reason) | kill(reason)

``kill`` is the kill switch: the risk engine goes HARD (no new order passes pre-trade checks), the order
manager stops sending, every open order is cancelled and the venue is polled until none remain (bounded),
and the report says whether that was verified.

Guards (ADR 0011): the risk monitor assesses every 0.5 s and, while HARD, sweeps every open order. A LATCHING
stop (kill switch, operator, a latching reason such as a hard inventory breach) holds until ``operator_reset``;
only the risk events among them (not an operator's stop) are persisted in the state store, so the next instance
starts halted (``mmbot run`` refuses to start on them: ``bot.live``). A RECOVERABLE HARD (latency, venue
health, stale data) clears by itself after ``risk.hard_recovery_s`` of health, and then the engine stays HARD
(RECONCILE) until the monitor has reconciled orders and balances with the venue: no quote before that.

What the bot does is also written to the injected ``Recorder`` (``bot.core.recorder``; the session's event log
in simulation): ``bot.restart`` when an instance starts, ``bot.hard_limit`` and ``bot.taker_cap`` (at start, and
the taker cap whenever a taker order meets a different cap), ``bot.guard`` on every change of guard level or
latch (fields ``level``, ``reason``, ``latch``, ``recoverable``; ``exchange_sim.checker.records``).
Long-lived tasks started with ``spawn_supervised`` are restarted with a bounded backoff when they fail with a
``BotError`` (a market-data feed that gave up during a long outage comes back once the venue does).
A symbol's quote loop (``spawn_quoter``) is restarted the same way after *any* exception, once its failure is
logged, counted and recorded (``bot.task_failed``) and its quotes are pulled.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.config import BotConfig
from bot.core.errors import BotError, ErrorCode
from bot.core.recorder import NULL_RECORDER
from bot.core.types import Fill, NewOrder, OrderStatus, OrderType, SymbolInfo, TimeInForce
from bot.execution.order_manager import OrderManager, ShutdownReport, lost_on_reducing_side
from bot.execution.state import OrderRecord, OrderStore, StateStore
from bot.interfaces import Clock, Recorder, Venue
from bot.market.data import MarketData
from bot.metrics.tracing import BotTracer
from bot.quoting.quoter import SymbolMarks, SymbolQuoter
from bot.risk.circuit import CircuitBreaker, CircuitState
from bot.risk.engine import RiskEngine
from bot.risk.guards import GuardLevel, GuardReason, RiskSnapshot
from bot.risk.kill_switch import KillReport, KillSwitch
from bot.risk.pretrade import PreTradeCheck, check_level
from bot.risk.taker_cap import TakerCap
from bot.strategy import QuoteStrategy, build_strategy

log = logging.getLogger("bot.app")
SUPERVISE_BACKOFF_S = (1.0, 30.0)  # a failed supervised task restarts after 1 s, doubling up to 30 s
HARD_RESWEEP_S = 1.0  # while HARD and orders remain, a new cancel sweep starts this often (not after timeouts)
MAX_SWEEPS = 4  # cancel sweeps in flight at once under a HARD guard
HARD_LATCH_KEY = "risk.hard_latched"  # store meta: "<latch kind>: <reasons>", kept until operator_reset()
UNPERSISTED_LATCHES = frozenset({"operator"})  # an operator's stop is not a risk event: never outlives the process
HEAL_RETRY_S = 1.0  # a failed reconcile after a heal is retried this often (the engine stays HARD meanwhile)


def headroom_resting_lots(order: NewOrder, open_orders: Iterable[OrderRecord], exposure_lots: int) -> int:
    """The lots on ``order``'s side that may still fill, for the pre-trade headroom check
    (``bot.risk.pretrade.check_headroom``): every open order of that side but ``order`` itself and those with a
    cancel pending; on the side that reduces |exposure|, a LOST order does not count either. LOST means the venue
    answered "no such order" to every query (``unknown_queries_before_lost``); counting such orders let placements
    that failed in a 503 outage block every reducing order of a SOFT (reduce-only) bot until they expired
    (``lost_expire_after_s``, 120 s; chaos seed 61 at 5 minutes: six LOST bids of a short bot, 30 s with no
    reducing bid). The order manager's side cap uses the same rule (``lost_on_reducing_side``)."""
    return sum(r.qty_lots - r.filled_lots for r in open_orders
               if r.side is order.side and r.client_order_id != order.client_order_id
               and r.status is not OrderStatus.PENDING_CANCEL and not lost_on_reducing_side(r, exposure_lots))


def restart_backoff_cap_s(config: BotConfig, cap_s: float) -> float:
    """The longest a supervisor may wait between attempts to start an instance that could not read the venue:
    ``min(cap_s, risk.cancel_bound_s / 2)``.

    An instance that cannot read the venue cannot know what an earlier one left resting there, and that one may
    have died under a HARD guard; so the next attempt comes within half the HARD cancel bound of the venue being
    readable again, the other half being for the start's reconcile and the cancel itself. Chaos seed 170: a latched
    guard and a 30 s backoff left an order resting ~12 s after a 403 outage healed; seed 638: a cold restart (no
    state file) after a recoverable HARD, an order resting 25 s after a 503 outage healed. Neither a latch in the
    store nor its open orders can tell: a lost state file shows neither."""
    return min(cap_s, config.risk.cancel_bound_s / 2)


@dataclass(frozen=True, slots=True)
class StopReport:
    """How a stop ended; ``verified`` and ``remaining`` come from the last successful listing of the venue."""

    reason: str
    shutdown: ShutdownReport
    kill: KillReport | None
    fills: int
    positions_lots: dict[str, int]

    @property
    def remaining(self) -> int | None:
        """Our orders open in the last successful listing (the kill switch's, else shutdown's); None: unknown."""
        if self.kill is not None and self.kill.remaining is not None:
            return len(self.kill.remaining)
        return None if self.shutdown.remaining is None else len(self.shutdown.remaining)

    @property
    def verified(self) -> bool:
        """True exactly when the last successful listing showed nothing of ours open."""
        return self.remaining == 0


@dataclass(slots=True)
class AppContext:
    """Every long-lived part of one bot instance."""

    config: BotConfig
    clock: Clock
    venue: Venue
    store: OrderStore
    symbols: dict[str, SymbolInfo]
    risk: RiskEngine
    pretrade: PreTradeCheck
    circuit: CircuitBreaker
    taker_cap: TakerCap
    kill_switch: KillSwitch
    orders: OrderManager
    mids_ticks: dict[str, int] = field(default_factory=dict)
    volatility_bps: dict[str, float] = field(default_factory=dict)  # fed by market data; selects the taker cap
    marks: dict[str, SymbolMarks] = field(default_factory=dict)  # mark-based guard inputs, fed by the quoters
    fill_listeners: list[Callable[[Fill], None]] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    recorder: Recorder = NULL_RECORDER
    restarts: dict[str, int] = field(default_factory=dict)  # supervised task name -> restarts
    _taker_cap_recorded: int | None = None
    _max_inventory_lots: dict[str, int] = field(default_factory=dict)  # per symbol; the config is frozen
    _latch_persisted: str = ""  # what this instance found or wrote under HARD_LATCH_KEY

    @classmethod
    async def build(
        cls, config: BotConfig, venue: Venue, clock: Clock, *, seed: int, store: OrderStore | None = None,
        recorder: Recorder | None = None,
    ) -> AppContext:
        """Read the venue's symbols and wire everything; nothing is sent to the venue yet.

        ``seed`` is this instance's: the order manager's retry jitter draws from ``random.Random(seed)`` (a
        simulated session derives it from the world's seed and the instance number; a live run draws and logs it).
        """
        infos = {s.symbol: s for s in await venue.symbols()}
        missing = [s for s in config.symbols if s not in infos]
        if missing:
            raise BotError(ErrorCode.CONFIG_INVALID, f"symbols {missing} are not listed by venue {venue.name}")
        symbols = {s: infos[s] for s in config.symbols}
        state = store if store is not None else StateStore(config.execution.state_path)
        risk = RiskEngine(config.risk, clock)
        pretrade = PreTradeCheck(config.risk.pretrade, clock)
        circuit = CircuitBreaker(config.risk.circuit_breaker, clock)
        ctx = cls(
            config=config, clock=clock, venue=venue, store=state, symbols=symbols, risk=risk, pretrade=pretrade,
            circuit=circuit, taker_cap=TakerCap(config.risk.taker_cap),
            kill_switch=KillSwitch(venue, clock, verify_timeout_s=config.execution.cancel_verify_timeout_s,
                                   poll_interval_s=0.25),
            orders=None,  # type: ignore[arg-type]  # set below: the hook needs the context
            recorder=recorder if recorder is not None else NULL_RECORDER,
        )
        ctx.orders = OrderManager(
            venue, state, clock, config.execution, symbols, pretrade=ctx.check_order, recheck=ctx.recheck_order,
            on_outcome=circuit.record, on_fill=ctx.on_fill, recorder=ctx.recorder, touch=ctx.touch,
            rng=random.Random(seed),
        )
        return ctx

    def touch(self, symbol: str) -> tuple[int | None, int | None]:
        """Best bid and ask (ticks) of the local book the symbol's quoter last decided on."""
        marks = self.marks.get(symbol)
        return (None, None) if marks is None else (marks.bid_ticks, marks.ask_ticks)

    def check_order(self, order: NewOrder) -> None:
        """The pre-trade hook of every order: circuit breaker, guard level, band, notional, balance, rate."""
        if not self.circuit.allow():
            raise BotError(ErrorCode.CIRCUIT_OPEN, "circuit breaker open: venue error rate too high",
                           retry_after_ms=int(self.circuit.retry_after_s * 1000))
        if order.type is OrderType.MARKET or order.time_in_force is not TimeInForce.GTC:
            volatility = self.volatility_bps.get(order.symbol, 0.0)
            cap = self.taker_cap.cap_per_hour(volatility)
            if cap != self._taker_cap_recorded:
                self._taker_cap_recorded = cap
                self.recorder.record("bot.taker_cap", {"per_hour": cap})
            if not self.taker_cap.allowed(self.clock.monotonic_s(), volatility):
                raise BotError(ErrorCode.RISK_REJECTED, f"taker_cap: {self.taker_cap.cap_per_hour(volatility)} taker "
                               f"fills per hour reached ({self.taker_cap.regime(volatility)} regime)")
        info = self.symbols[order.symbol]
        balances = self.orders.balances
        quote = balances.get(info.quote_asset)
        base = balances.get(info.base_asset)
        exposure = self.orders.exposure_lots(order.symbol)
        self.pretrade.check(
            order, info,
            reference_mid_ticks=self.mids_ticks.get(order.symbol),
            free_quote_atoms=quote.free_atoms if quote is not None else 0,
            free_base_atoms=base.free_atoms if base is not None else 0,
            level=self.risk.guard_level,
            inventory_lots=exposure,
            resting_same_side_lots=headroom_resting_lots(order, self.orders.open_orders(order.symbol), exposure),
            hard_limit_lots=self.max_inventory_lots(order.symbol),
        )

    def recheck_order(self, order: NewOrder) -> None:
        """Before an order held back by a retry is sent again: the guard level as it is now (HARD: none; SOFT:
        reduce-only). The order was already counted against the rate and band checks when it was decided."""
        check_level(order, self.risk.guard_level, self.orders.exposure_lots(order.symbol))

    def on_fill(self, fill: Fill) -> None:
        """Every newly booked fill: taker fills count against the taker cap; then the fill listeners."""
        if not fill.is_maker:
            self.taker_cap.record(self.clock.monotonic_s())
        for listener in self.fill_listeners:
            listener(fill)

    def add_fill_listener(self, listener: Callable[[Fill], None]) -> None:
        """Call ``listener(fill)`` once for every newly booked fill (the order manager deduplicates)."""
        self.fill_listeners.append(listener)

    def max_inventory_lots(self, symbol: str) -> int:
        """The HARD inventory limit of ``symbol`` in lots."""
        lots = self._max_inventory_lots.get(symbol)
        if lots is None:
            info = self.symbols[symbol]
            hard_max = self.config.risk.inventory.hard_max_for(symbol)
            lots = self._max_inventory_lots[symbol] = max(1, info.to_lots(hard_max))
        return lots

    def start_quoting(
        self, *, timer: Callable[[], int] | None = None, recorder: Recorder | None = None,
        tracer: BotTracer | None = None, wrap: Callable[[QuoteStrategy], QuoteStrategy] | None = None,
    ) -> tuple[list[MarketData], list[SymbolQuoter]]:
        """Start one ``MarketData`` (supervised) and one ``SymbolQuoter`` per symbol, on this app's venue: the one
        wiring of the quote loops that simulated sessions, live runs and the soak share. ``wrap`` decorates each
        symbol's strategy (tracing, a metrics tap); ``timer`` times its stages."""
        markets, quoters = [], []
        for symbol in sorted(self.symbols):
            data = MarketData(self.venue, symbol)
            strategy = build_strategy(self.config.strategy, self.symbols[symbol], timer=timer,
                                      price=self.config.price_at_start(symbol))
            quoter = SymbolQuoter(app=self, symbol=symbol, market=data,
                                  strategy=wrap(strategy) if wrap is not None else strategy,
                                  config=self.config.quoting, timer=timer, recorder=recorder, tracer=tracer)
            self.marks[symbol] = quoter.marks
            markets.append(data)
            quoters.append(quoter)
            self.spawn_supervised(data.run, f"market-{symbol}")
            self.spawn_quoter(quoter)
        return markets, quoters

    def run_per_symbol(self, task: Callable[[str], Coroutine[Any, Any, Any]]) -> list[asyncio.Task[Any]]:
        """One concurrent task per symbol (never a sequential loop over symbols): a slow symbol delays no other."""
        return [self.spawn(task(symbol), f"symbol-{symbol}") for symbol in sorted(self.symbols)]

    async def start(self) -> None:
        """Restore, reconcile, then start the user stream, reconciler and risk monitor; quoting may begin after."""
        latched = self.store.get_meta(HARD_LATCH_KEY) if self.config.risk.hard_latches else None
        if self.recorder.enabled:
            self.recorder.record("bot.restart", {})
            for symbol in sorted(self.symbols):
                self.recorder.record("bot.hard_limit", {"s": symbol, "lots": self.max_inventory_lots(symbol)})
            self._taker_cap_recorded = self.taker_cap.cap_per_hour(0.0)
            self.recorder.record("bot.taker_cap", {"per_hour": self._taker_cap_recorded})
        if latched:  # a HARD guard of an earlier instance still holds: start halted (cancels only)
            self._latch_persisted = latched
            self.risk.restore(latched)
            self._record_guard()
            # Cancel what the store says may rest FIRST: the HARD sweeps start now, not behind the reconcile
            # (which can take longer than the cancel bound under latency: chaos seed 873).
            self.spawn(self.monitor_risk(), "risk-monitor")
        try:
            await self.orders.start()
            if latched:
                await self.orders.cancel_all()
        except BaseException:
            await self._cancel_tasks()  # this instance did not start: leave no task of it behind
            raise
        self.spawn(self.orders.run_user_stream(), "user-stream")
        self.spawn(self.orders.run_reconciler(), "reconciler")
        if not latched:  # a recoverable HARD of an earlier instance is not inherited: this one reconciled first
            self._record_guard("reconciled at start")
            self.spawn(self.monitor_risk(), "risk-monitor")

    def risk_snapshot(self) -> RiskSnapshot:
        """What the guards can measure from the execution layer: inventory and venue health.

        Mark-based inputs (drawdown, PnL rate, latency p95, data age) come from the quoters' ``marks``: drawdown
        and PnL rate are summed over symbols, latency is the worst symbol's p95.
        """
        by_symbol = sorted(self.marks.items())
        marks = [m for _, m in by_symbol]
        inventory_lots = self.orders.exposure_lots  # reported executions count before their fills are booked
        return RiskSnapshot(
            inventory_base={s: info.qty(inventory_lots(s)) for s, info in sorted(self.symbols.items())},
            drawdown_quote=Decimal(str(round(sum([m.drawdown_quote for m in marks]), 8))),
            pnl_per_hour_quote=Decimal(str(round(sum([m.pnl_per_hour_quote for m in marks]), 8))),
            venue_error_rate=self.circuit.error_rate,
            venue_requests=self.circuit.requests,
            latency_p95_ms=max([m.latency_p95_ms for m in marks], default=0.0),
            data_age_ms={s: m.data_age_ms for s, m in by_symbol},
            circuit_open=self.circuit.state is CircuitState.OPEN,
        )

    async def monitor_risk(self, interval_s: float = 0.5) -> None:
        """Assess the guards every ``interval_s``; while HARD, sweep (cancel) every open order. ``bot.guard`` is
        recorded on a change of level or latch and, while HARD, of the reasons in force (ADR 0011, addendum).

        A sweep runs in the background and a new one starts every ``HARD_RESWEEP_S`` while orders remain (at most
        ``MAX_SWEEPS`` at once), so a cancel lost in a partition is sent again long before its own timeout fires.
        """
        sweeps: list[asyncio.Task[None]] = []
        heal: asyncio.Task[None] | None = None
        last_sweep_s = last_heal_s = -math.inf
        try:
            while True:
                before = self.risk.guard_level
                latch, hard = self.risk.latch, self._hard_reasons()
                assessment = self.risk.update(self.risk_snapshot())
                if assessment.level is not before or self.risk.latch != latch or self._hard_reasons() != hard:
                    self._record_guard()
                    self._persist_latch()
                epoch = self.risk.reconcile_due
                if epoch is not None and (heal is None or heal.done()) and (
                        self.clock.monotonic_s() - last_heal_s >= HEAL_RETRY_S):
                    last_heal_s = self.clock.monotonic_s()
                    heal = asyncio.ensure_future(self._reconcile_then_resume(epoch))
                if assessment.level is GuardLevel.HARD:
                    sweeps = [t for t in sweeps if not t.done()]
                    now_s = self.clock.monotonic_s()
                    due = before is not GuardLevel.HARD or (
                        self.orders.open_orders() and now_s - last_sweep_s >= HARD_RESWEEP_S)
                    if due and len(sweeps) < MAX_SWEEPS:
                        if before is not GuardLevel.HARD:
                            log.warning("HARD guard: %s; cancelling all orders",
                                        ", ".join(r.value for r in assessment.reasons),
                                        extra={"code": ErrorCode.HALTED.value})
                        last_sweep_s = now_s
                        sweeps.append(asyncio.ensure_future(self.orders.cancel_all(resolve=False)))
                await asyncio.sleep(interval_s)
        finally:
            tasks = [*sweeps, *([heal] if heal is not None else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _reconcile_then_resume(self, epoch: int) -> None:
        """After a heal or a reset (the engine's RECONCILE gate ``epoch``): reconcile orders and balances with
        the venue, and only once that succeeded let the engine leave HARD (the quote loops follow its level)."""
        cause = next((s.subject for s in self.risk.assessment.signals if s.reason is GuardReason.RECONCILE), "")
        try:
            await self.orders.reconcile()
        except BotError as error:
            log.warning("reconcile before resuming failed (still HARD): %s", error, extra={"code": error.code.value})
            return
        before = self.risk.guard_level
        self.risk.reconciled(epoch)
        if self.risk.guard_level is not before:
            self._record_guard(f"reconciled {cause}".strip())

    def operator_reset(self, note: str = "") -> None:
        """The operator resets the guards: drop every latch, the kill switch and held HARD signals, here and in
        the state store. The bot stays HARD (RECONCILE) until the risk monitor has reconciled with the venue;
        then ``bot.guard`` records the new level with reason ``reconciled after operator reset[: note]``."""
        self.store.set_meta(HARD_LATCH_KEY, "")
        self._latch_persisted = ""
        self.risk.reset(cause=f"operator reset: {note}" if note else "operator reset")
        self._record_guard("operator reset" + (f": {note}" if note else ""))
        self._persist_latch()  # a cause that still holds latched again at once: persisted again

    def _persist_latch(self) -> None:
        """Write the latch in force to the state store once (the next instance starts halted on it), unless it is
        an operator's stop; only ``operator_reset`` (or ``mmbot guards --reset``) clears it."""
        latch = self.risk.latch
        if latch and latch not in UNPERSISTED_LATCHES and self.config.risk.hard_latches and not self._latch_persisted:
            self._latch_persisted = f"{latch}: {','.join(self.risk.reasons())}"
            self.store.set_meta(HARD_LATCH_KEY, self._latch_persisted)

    def _hard_reasons(self) -> str:
        """The reasons of the signals at HARD level, comma-separated in signal order ("" when none is HARD)."""
        reasons = dict.fromkeys(s.reason.value for s in self.risk.assessment.signals if s.level is GuardLevel.HARD)
        return ",".join(reasons)

    def _record_guard(self, reason: str | None = None) -> None:
        """``bot.guard``: the level, why (the reasons in force unless told, at any level), the reasons at HARD
        level (``hard``: what holds the bot halted, so a checker can tell a loss halt beside a SOFT inventory
        from a stuck latency HARD), the latch kind ("" for none) and whether the level clears without an operator.
        Recorded on every change of level, latch or HARD reasons."""
        risk = self.risk
        self.recorder.record("bot.guard", {
            "level": risk.guard_level.name, "reason": ",".join(risk.reasons()) if reason is None else reason,
            "hard": self._hard_reasons(), "latch": risk.latch, "recoverable": risk.recoverable})

    def spawn_supervised(self, factory: Callable[[], Coroutine[Any, Any, Any]], name: str) -> asyncio.Task[Any]:
        """Run ``factory()`` as a task; when it fails with a ``BotError`` run it again after a bounded backoff."""

        async def supervise() -> None:
            delay, cap = SUPERVISE_BACKOFF_S
            while True:
                try:
                    await factory()
                    return
                except BotError as error:
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    log.warning("%s failed, restarting in %.1fs: %s", name, delay, error,
                                extra={"code": error.code.value})
                await asyncio.sleep(delay)
                delay = min(delay * 2, cap)

        return self.spawn(supervise(), name)

    def spawn_quoter(self, quoter: SymbolQuoter) -> asyncio.Task[Any]:
        """Run ``quoter``'s loop; when it fails (any exception: a bug in a stage, a non-finite number), report it
        (error log, ``restarts``, a ``bot.task_failed`` {s, error} record), pull the symbol's quotes and restart
        the loop after a bounded backoff. A symbol never stops quoting in silence."""
        symbol, name = quoter.symbol, f"quoter-{quoter.symbol}"

        async def supervise() -> None:
            delay, cap = SUPERVISE_BACKOFF_S
            while True:
                try:
                    await quoter.run()
                    return
                except Exception as error:  # reported, its quotes pulled, restarted: never silent
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    log.error("%s failed, pulling its quotes, restarting in %.1fs", name, delay, exc_info=error,
                              extra={"code": ErrorCode.INTERNAL.value})
                    self.recorder.record("bot.task_failed", {"s": symbol, "error": f"{type(error).__name__}: {error}"})
                    try:
                        await self.orders.cancel_all(symbol)
                    except BotError as cancel_error:
                        log.warning("pulling %s quotes failed: %s", symbol, cancel_error,
                                    extra={"code": cancel_error.code.value})
                await asyncio.sleep(delay)
                delay = min(delay * 2, cap)

        return self.spawn(supervise(), name)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self.tasks.append(task)
        return task

    async def _cancel_tasks(self) -> None:
        for task in self.tasks:
            task.cancel()
        results = await asyncio.gather(*self.tasks, return_exceptions=True)
        for task, result in zip(self.tasks, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("task %s failed", task.get_name(), exc_info=result, extra={"code": ErrorCode.INTERNAL.value})
        self.tasks.clear()

    async def crash(self) -> None:
        """Die like a killed process (test harness): every task stops where it is, nothing is cancelled on the
        venue and nothing is written; the state store stays as it was for the next instance."""
        self.orders.abandon()
        await self._cancel_tasks()

    async def stop(self, reason: str) -> StopReport:
        """Orderly stop: no order after this begins; cancel all, verify none open, close state."""
        await self._cancel_tasks()
        shutdown = await self.orders.shutdown()
        return self._report(reason, shutdown, None)

    async def kill(self, reason: str, *, latch: bool = True) -> StopReport:
        """The kill switch: HARD, stop sending, cancel everything, verify on the venue, stop. ``latch=False`` is an
        operator's orderly stop (SIGINT, SIGTERM): the same cancel-and-verify under an operator HARD floor, which
        is not a risk event and is not persisted (the next start is not halted by it)."""
        before = (self.risk.guard_level, self.risk.latch)
        if latch:
            self.risk.kill(reason)
        else:
            self.risk.manual(GuardLevel.HARD, reason)
        if (self.risk.guard_level, self.risk.latch) != before:
            self._record_guard()
            self._persist_latch()
        await self._cancel_tasks()
        shutdown = await self.orders.shutdown()
        report = await self.kill_switch.trigger(sorted(self.symbols), reason)
        return self._report(reason, shutdown, report)

    def _report(self, reason: str, shutdown: ShutdownReport, kill: KillReport | None) -> StopReport:
        log.info("stopped (%s): cancelled %d, verified %s", reason, shutdown.cancelled, shutdown.verified)
        return StopReport(reason=reason, shutdown=shutdown, kill=kill, fills=self.orders.stats.fills,
                          positions_lots=dict(shutdown.positions_lots))

    def close(self) -> None:
        self.store.close()


