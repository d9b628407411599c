"""SymbolQuoter: one symbol's quote loop, from market data and account state through the strategy to the orders.

Every ``cycle_interval_s`` (virtual seconds in simulation) a cycle:

1. reads the local book (``MarketData``); unsynced, one-sided or stale data (older than ``stale_data_ms``) pulls
   every resting quote of the symbol and ends the cycle;
2. marks PnL at the mid, publishes the mid and volatility to the app (pre-trade band, taker cap) and the
   mark-based guard inputs (drawdown, PnL rate, latency p95, data age);
3. skips the decision when nothing it depends on changed (touch, inventory, risk level, open orders, trades)
   and the last decision is younger than ``idle_requote_s`` - re-quote when something changed, not on every tick;
4. builds a ``QuoteContext`` (with the decayed signed public-trade flow of ``bot.market.flow.TradeFlow``, fed
   by the trade stream) and lets the strategy decide (pure, timed per stage when a timer is injected);
5. sends ``replace_quotes`` only when the desired (side, price) set differs from what rests, or when the strategy
   asks to re-place resting orders that reached their maximum age (``QuoteContext.refresh``).

Latency components recorded (``QuoterStats.latency``): each pipeline stage's CPU time in microseconds (named
as the seed audit does: guards, spread, skew, queue, plus the other stage names), ``decision_us`` for the whole
strategy, ``rest_ms`` for how long a cycle's order changes took (waits included) and ``ws_ms`` for how late depth
updates reach the bot (both on the loop clock: virtual in simulation).

Records (to the injected ``Recorder``, when enabled): ``bot.book`` after each applied depth diff (``snap`` marks
the first diff of a new synced segment: after a snapshot or resync) and ``bot.quoting_resumed`` when quotes are
placed again after a pause (pull, halt, start). The touch a decision used is kept in ``marks`` (``bid_ticks``,
``ask_ticks``) so the order manager can record the book each order was priced on.

Invariants: the loop never raises on a venue error (counted by code in ``QuoterStats.errors``; the order
manager and circuit breaker already handle them); nothing reads the wall clock except the injected ``timer``,
which only measures; every buffer is bounded. The latency p95 (the LATENCY guard's input) is over the venue round
trips of the symbol's order actions (``OrderManager.round_trips_ms``: one per attempt sent, not the waits the bot
imposes on itself such as a Retry-After: seed 880 held a recoverable HARD 60 s past a ban because a cycle that
waited out a 60 s Retry-After counted as a 60 s round trip). Round trips older than ``LATENCY_MAX_AGE_S`` leave it:
a guard that stopped the quoting (so no new round trips are measured) must not be held up by its own old samples.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.errors import BotError
from bot.core.recorder import NULL_RECORDER
from bot.core.types import ClientOrderId, DepthUpdate, Fill, OrderStatus, PublicTrade, Quote, Side, SymbolInfo
from bot.execution.pnl import PnlTracker
from bot.execution.state import OrderRecord
from bot.interfaces import Recorder
from bot.market.data import MarketData
from bot.market.flow import TradeFlow
from bot.market.queue import QueueTracker
from bot.metrics.tracing import BotTracer
from bot.quoting.config import QuotingConfig
from bot.quoting.host import QuoterHost
from bot.quoting.latency import LatencyHistogram
from bot.strategy import QuoteContext, QuoteStrategy, Resting

__all__ = ["STAGE_COMPONENTS", "QuoterStats", "SymbolMarks", "SymbolQuoter"]

log = logging.getLogger("bot.quoting")

STAGE_COMPONENTS: dict[str, str] = {
    "guard": "guards",
    "adaptive_spread": "spread",
    "inventory_skew": "skew",
    "queue_aware": "queue",
}
"""Pipeline stage name -> latency component name (the seed audit's ``latency_breakdown_ms{component}``)."""

_QUOTING_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})  # StrEnum: no ``.value`` needed
LATENCY_MAX_AGE_S = 30.0  # round trips older than this no longer count towards the latency p95 (the guard's input)


@dataclass(slots=True)
class SymbolMarks:
    """Mark-based guard inputs of one symbol, refreshed every cycle (read by ``AppContext.risk_snapshot``)."""

    drawdown_quote: float = 0.0
    pnl_per_hour_quote: float = 0.0
    latency_p95_ms: float = 0.0
    data_age_ms: float = 0.0
    bid_ticks: int | None = None  # touch of the book the last decision was made on
    ask_ticks: int | None = None


@dataclass(slots=True)
class QuoterStats:
    """What one symbol's quote loop did (counts and latency histograms)."""

    cycles: int = 0
    decisions: int = 0
    skipped: int = 0
    replaces: int = 0
    pulls: dict[str, int] = field(default_factory=dict)  # pull-everything cycles by reason
    halts: dict[str, int] = field(default_factory=dict)  # strategy halts by reason
    errors: dict[str, int] = field(default_factory=dict)  # venue errors by code
    latency: dict[str, LatencyHistogram] = field(default_factory=dict)

    def histogram(self, component: str) -> LatencyHistogram:
        hist = self.latency.get(component)
        if hist is None:
            hist = self.latency[component] = LatencyHistogram()
        return hist


class SymbolQuoter:
    """Quote loop of ``symbol``: ``await run()`` as a task; read ``stats``, ``pnl`` and ``marks`` any time."""

    def __init__(
        self,
        *,
        app: QuoterHost,
        symbol: str,
        market: MarketData,
        strategy: QuoteStrategy,
        config: QuotingConfig,
        timer: Callable[[], int] | None = None,
        recorder: Recorder | None = None,
        tracer: BotTracer | None = None,
    ) -> None:
        self._app = app
        self._tracer = tracer if tracer is not None and tracer.enabled else None
        self._recorder = recorder if recorder is not None else NULL_RECORDER
        self._record = self._recorder.enabled
        self._resyncs_seen = -1  # market.resyncs at the last recorded diff (-1: none yet)
        self._quoting = False
        self.symbol = symbol
        self.info: SymbolInfo = app.symbols[symbol]
        self.market = market
        self.strategy = strategy
        self.config = config
        self._timer = timer
        self.pnl = PnlTracker(self.info)
        self.marks = SymbolMarks()
        self.stats = QuoterStats()
        self.queue = QueueTracker()
        self.flow = TradeFlow(self.info, tau_s=config.trade_flow_tau_s, unit_quote=config.trade_flow_unit_quote)
        self._mid: float | None = None
        self._last_key: tuple[object, ...] | None = None
        self._last_decision_s = -math.inf
        self._mid_at_last_quote: float | None = None
        self._last_fill_s: dict[Side, float] = {}
        self._trades_seen = 0
        self._book_version = 0  # diffs applied so far
        self._last_version: tuple[object, ...] | None = None
        self._idle_s = config.idle_requote_s
        self._last_trade_through = False
        self._synced_ms: int | None = None  # when the book last showed fresh, synced data (None: never yet)
        self._latency_window = config.latency_window  # newest round trips in the latency p95
        self._rest_window = 0  # round trips in the last p95
        self._latency_p95_ms = 0.0
        self._equity: deque[tuple[float, float, int]] = deque(maxlen=int(config.pnl_window_s) + 2)
        self._next_sample_s = 0.0
        self._decision_hist = self.stats.histogram("decision_us")
        self._rest_hist = self.stats.histogram("rest_ms")
        self._ws_hist = self.stats.histogram("ws_ms")
        self._stage_hists: dict[str, LatencyHistogram] = {}
        market.on_diff(self._on_diff)
        market.on_trade(self._on_trade)
        app.add_fill_listener(self._on_fill)

    # -- feeds --
    def _on_diff(self, diff: DepthUpdate) -> None:
        self._book_version += 1
        self._ws_hist.record(max(0, self._app.clock.now_ms() - diff.time_ms))
        if self._record:
            self._record_book(diff)
        queue = self.queue
        if len(queue):
            for level in diff.bids:
                queue.on_level(Side.BUY, level.price_ticks, level.qty_lots)
            for level in diff.asks:
                queue.on_level(Side.SELL, level.price_ticks, level.qty_lots)

    def _on_trade(self, trade: PublicTrade) -> None:
        self._trades_seen += 1
        self.flow.on_trade(trade)
        if len(self.queue):
            self.queue.on_trade(trade)
        orders = self._app.orders
        through = False
        for record in orders.open_orders(self.symbol):  # a print through our price: that order has filled
            price = record.price_ticks
            if price is not None and ((record.side is Side.BUY and trade.price_ticks < price) or (
                    record.side is Side.SELL and trade.price_ticks > price)):
                orders.traded_through(record.client_order_id)
                through = True
        if through and self._mid_at_last_quote is not None:
            self._last_trade_through = True

    def _on_fill(self, fill: Fill) -> None:
        if fill.symbol != self.symbol:
            return
        self.pnl.on_fill(fill, mid_ticks=self._mid)
        self._last_fill_s[fill.side] = self._app.clock.monotonic_s()
        self.queue.on_fill(fill.client_order_id, fill.qty_lots)

    def _record_book(self, diff: DepthUpdate) -> None:
        book = self.market.book
        resyncs = self.market.resyncs
        bid, ask = book.best_bid(), book.best_ask()
        fields: dict[str, object] = {"s": self.symbol, "U": diff.first_update_id, "u": diff.last_update_id,
                                     "bb": None if bid is None else bid.price_ticks,
                                     "ba": None if ask is None else ask.price_ticks}
        if resyncs != self._resyncs_seen:
            self._resyncs_seen = resyncs
            fields["snap"] = True
        self._recorder.record("bot.book", fields)

    def sizes(self) -> dict[str, int]:
        """Memory probe: own orders in the queue tracker, the latency window (``latency_window`` round trips, also
        trimmed by age) and the equity window (one sample a second over ``pnl_window_s``)."""
        return {"queue_tracker_orders": len(self.queue), "rest_window": self._rest_window,
                "equity_window": len(self._equity)}

    # -- the loop --
    async def run(self) -> None:
        """Run cycles until cancelled."""
        interval = self.config.cycle_interval_s
        while True:
            await asyncio.sleep(interval)
            await self.cycle()

    async def cycle(self) -> None:
        """One quote cycle (module docstring)."""
        stats = self.stats
        stats.cycles += 1
        app = self._app
        now_s = app.clock.monotonic_s()
        level = app.risk.level()
        version = (self._book_version, self._trades_seen, app.orders.changes, level)
        if version == self._last_version and now_s - self._last_decision_s < self._idle_s:
            stats.skipped += 1  # nothing the decision depends on changed: not even the book was read
            return
        self._last_version = version
        book = self.market.book
        if not book.is_synced:
            if self._synced_ms is not None:  # the guards see how long the bot has been without a usable book
                self.marks.data_age_ms = float(app.clock.now_ms() - self._synced_ms)
            await self._pull("unsynced")
            return
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            await self._pull("one_sided")
            return
        now_ms = app.clock.now_ms()
        age_ms = self.market.data_age_ms(now_ms)
        self.marks.data_age_ms = float(age_ms or 0)
        self._synced_ms = now_ms - round(age_ms or 0)
        if age_ms is not None and age_ms > self.config.stale_data_ms:
            await self._pull("stale_data")
            return
        if self.config.use_microprice and bid.qty_lots + ask.qty_lots > 0:
            mid = (bid.price_ticks * ask.qty_lots + ask.price_ticks * bid.qty_lots) / (bid.qty_lots + ask.qty_lots)
        else:
            mid = (bid.price_ticks + ask.price_ticks) / 2
        self._mid = mid
        volatility = self.market.volatility_bps() or 0.0
        app.mids_ticks[self.symbol] = round(mid)
        app.volatility_bps[self.symbol] = volatility
        self.pnl.mark(mid)
        if now_s >= self._next_sample_s:
            self._sample_marks(now_s)
        orders = app.orders
        inventory = orders.exposure_lots(self.symbol)  # reported executions count before their fills
        open_orders = orders.open_orders(self.symbol)
        key = (bid.price_ticks, bid.qty_lots, ask.price_ticks, ask.qty_lots, inventory, level,
               tuple([r.client_order_id for r in open_orders]), self._trades_seen)
        if key == self._last_key and now_s - self._last_decision_s < self._idle_s:
            stats.skipped += 1
            return
        self._last_key = key
        self._last_decision_s = now_s
        marks = self.marks
        marks.bid_ticks = bid.price_ticks
        marks.ask_ticks = ask.price_ticks
        now_ms = app.clock.now_ms()
        resting = self._sync_resting(open_orders, now_ms)
        ctx = self._context(now_s, now_ms, bid.price_ticks, bid.qty_lots, ask.price_ticks, ask.qty_lots, mid,
                            volatility, inventory, level, resting)
        if self._tracer is not None:  # one span per decided cycle; stage and venue spans are its children
            with self._tracer.cycle(self.symbol, stats.decisions):
                await self._decide_and_send(ctx, mid, len(open_orders), resting)
        else:
            await self._decide_and_send(ctx, mid, len(open_orders), resting)

    async def _decide_and_send(
        self, ctx: QuoteContext, mid: float, open_count: int, resting: tuple[Resting, ...]
    ) -> None:
        """Decide (timed per stage when a timer is injected) and send the quotes if they differ from ``resting``."""
        stats = self.stats
        timer = self._timer
        if timer is not None:
            started = timer()
            self.strategy.decide(ctx)
            self._decision_hist.record((timer() - started) / 1000)
            hists = self._stage_hists
            for stage, ns in ctx.timings_ns.items():
                hist = hists.get(stage)
                if hist is None:
                    hist = hists[stage] = self.stats.histogram(STAGE_COMPONENTS.get(stage, stage) + "_us")
                hist.record(ns / 1000)
        else:
            self.strategy.decide(ctx)
        stats.decisions += 1
        self._last_trade_through = False
        if ctx.halted:
            for reason in ctx.halt_reasons:
                stats.halts[reason] = stats.halts.get(reason, 0) + 1
        desired = ctx.desired
        if not desired:
            self._quoting = False
        rests = {(r.side, r.price_ticks) for r in resting}
        wanted = {(q.side, q.price_ticks) for q in desired}
        if wanted != rests or open_count != len(rests) or ctx.refresh:
            await self._replace(desired, ctx.refresh)
        self._mid_at_last_quote = mid if desired else None

    def _context(
        self, now_s: float, now_ms: int, bid_ticks: int, bid_lots: int, ask_ticks: int, ask_lots: int, mid: float,
        volatility: float, inventory: int, level: str, resting: tuple[Resting, ...],
    ) -> QuoteContext:
        app = self._app
        return QuoteContext(
            symbol=self.symbol, info=self.info, now_s=now_s,
            best_bid_ticks=bid_ticks, best_ask_ticks=ask_ticks, best_bid_lots=bid_lots, best_ask_lots=ask_lots,
            mid_ticks=mid, volatility_bps=volatility, touch_depth_lots=bid_lots + ask_lots,
            latency_ms=self._latency_p95_ms, pnl_bps=self._recent_pnl_bps(),
            trade_through=self._last_trade_through, trade_flow=self.flow.value(now_ms), inventory_lots=inventory,
            max_inventory_lots=app.max_inventory_lots(self.symbol), risk_level=level,
            risk_reasons=tuple(app.risk.reasons()),
            taker_fills_remaining=app.taker_cap.remaining(now_s, volatility), resting=resting,
            last_fill_s=self._last_fill_s, mid_at_last_quote_ticks=self._mid_at_last_quote,
        )

    def _sync_resting(self, open_orders: list[OrderRecord], now_ms: int) -> tuple[Resting, ...]:
        """Our resting limit orders as the strategy sees them, in one pass: newly resting ones start being tracked
        in the queue tracker, and the ones that left are forgotten."""
        queue = self.queue
        book = self.market.book
        resting: list[Resting] = []
        for record in open_orders:
            price = record.price_ticks
            if price is None or record.status not in _QUOTING_STATUSES:
                continue
            cid = record.client_order_id
            remaining = record.qty_lots - record.filled_lots
            ahead = queue.ahead(cid)
            if ahead is None:
                shown = book.qty_at(record.side, price)
                # the book may already show our order: the queue ahead is what is shown besides it
                ahead = max(0, shown - remaining) if shown >= remaining else shown
                queue.add(cid, record.side, price, remaining, ahead)
            resting.append(Resting(client_order_id=cid, side=record.side, price_ticks=price, qty_lots=remaining,
                                   age_s=max(0.0, (now_ms - record.created_ms) / 1000), queue_ahead_lots=ahead))
        if len(queue) > len(resting):
            live = {r.client_order_id for r in resting}
            for cid in [c for c in queue.tracked() if c not in live]:
                queue.remove(cid)
        return tuple(resting)

    async def _replace(self, desired: tuple[Quote, ...], refresh: tuple[ClientOrderId, ...] = ()) -> None:
        app = self._app
        started = app.clock.monotonic_s()
        try:
            await app.orders.replace_quotes(self.symbol, desired, refresh=refresh)
        except BotError as error:
            self.stats.errors[error.code.value] = self.stats.errors.get(error.code.value, 0) + 1
            return
        if desired and not self._quoting:
            self._quoting = True
            if self._record:
                self._recorder.record("bot.quoting_resumed", {"s": self.symbol})
        elapsed_ms = (app.clock.monotonic_s() - started) * 1000
        self.stats.replaces += 1
        self._rest_hist.record(elapsed_ms)

    async def _pull(self, reason: str) -> None:
        """Pull every quote of the symbol (bad market data), once per episode."""
        self.stats.pulls[reason] = self.stats.pulls.get(reason, 0) + 1
        self._quoting = False
        self._last_key = None
        self._mid_at_last_quote = None
        if self._app.orders.open_orders(self.symbol):
            try:
                await self._app.orders.cancel_all(self.symbol)
            except BotError as error:
                self.stats.errors[error.code.value] = self.stats.errors.get(error.code.value, 0) + 1

    # -- marks --
    def _sample_marks(self, now_s: float) -> None:
        """Once a second: equity history (PnL score and rate), drawdown and latency p95 for the guards."""
        self._next_sample_s = now_s + 1.0
        pnl = self.pnl
        self._equity.append((now_s, pnl.equity_atoms, pnl.traded_notional_atoms))
        scale = 10.0**-8  # quote atoms -> quote units
        self.marks.drawdown_quote = pnl.drawdown_atoms * scale
        t0, e0, _ = self._equity[0]
        span_s = now_s - t0
        self.marks.pnl_per_hour_quote = (pnl.equity_atoms - e0) * scale * 3600 / span_s if span_s >= 60 else 0.0
        rest = self._app.orders.round_trips_ms(self.symbol, now_s - LATENCY_MAX_AGE_S)[-self._latency_window:]
        self._rest_window = len(rest)
        if rest:
            ordered = sorted(rest)
            self._latency_p95_ms = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
        else:
            self._latency_p95_ms = 0.0
        self.marks.latency_p95_ms = self._latency_p95_ms

    def _recent_pnl_bps(self) -> float:
        """PnL over the trailing window in bps of the notional traded in it (0 without trading)."""
        if not self._equity:
            return 0.0
        _, e0, n0 = self._equity[0]
        traded = self.pnl.traded_notional_atoms - n0
        if traded <= 0:
            return 0.0
        return 1e4 * (self.pnl.equity_atoms - e0) / traded
