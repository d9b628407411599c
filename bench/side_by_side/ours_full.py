"""Our side with the full bot path (``--ours full``): the same stream through the bot as it quotes in a session.

What runs, beyond the execution path of ``ours`` (same simulated venue, same ``LiquidityProvider`` moving the
book, zero latency):

* ``AppContext`` built and started as ``harness.session`` does it: the risk engine and its monitor task (guards on
  inventory, drawdown, PnL rate, venue health, latency, data age), the pre-trade check on every order (circuit
  breaker, guard level, price band, notional, balance, token-bucket rate), the taker cap, the order manager
  with the user stream and the periodic reconciler;
* ``MarketData``: the local order book fed from the venue's depth stream (diffs every 100 ms, Binance U/u
  sequencing, snapshot resync) and its public trades;
* ``SymbolQuoter.cycle``, the bot's quote cycle: book checks, marks, PnL, queue tracking, the strategy's
  decision and ``OrderManager.replace_quotes``.

The one departure from the bot: the strategy. The bot's own strategies price from fair value, skew and spread
models and would not follow the maker rule, so the strategy here is a ``QuotePipeline`` of the bot's ``GuardStage``
(the risk level: HARD halts, SOFT reduce-only) and ``TouchStage`` (this module: the maker rule, quotes at the local
book's touch under the inventory cap, every resting quote in ``refresh`` so it is cancelled and placed anew, as the
rule says). The quote cycle is called once per requote, on update ``n``'s diff, instead of the bot's ``run()``
timer (which calls the same method every ``cycle_interval_s``); ``idle_requote_s`` is 0.5 s so no requote is
skipped as "nothing changed". The loss-rate and drawdown limits are set out of reach (1e9 quote): at the default 50
quote/hour the maker's own fees (about 5,000 maker fills per simulated hour) turn the guard HARD within minutes and
the bot stops quoting; every guard is still evaluated every 0.5 s. Updates are applied half a depth interval before
the venue's depth flush (phase ``PHASE_S``), so each update reaches the local book before the next one.

Errors: a count of fills that disagrees with the venue's trades raises ``RuntimeError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import math
import time
from collections.abc import Iterator
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version

from bench.side_by_side.ours import (
    LP,
    LP_BALANCES,
    MAKER,
    MAKER_BALANCES,
    SPEC,
    ZERO_LATENCY,
    LiquidityProvider,
)
from bench.side_by_side.result import SideResult
from bench.side_by_side.workload import (
    MAKER_QTY_LOTS,
    SYMBOL,
    TopOfBook,
    WorkloadConfig,
    quote_sides,
    requote_due,
    top_of_book_updates,
)
from bot.app import AppContext
from bot.config import BotConfig
from bot.core.clock import LoopClock
from bot.core.types import Quote, Side
from bot.execution.memory_store import MemoryStateStore
from bot.execution.state import OrderStore, StateStore
from bot.market.data import MarketData
from bot.quoting.quoter import SymbolQuoter
from bot.strategy.context import QuoteContext
from bot.strategy.gates import GuardStage
from bot.strategy.pipeline import QuotePipeline
from exchange_sim.eventlog import EventLog
from exchange_sim.runtime import SimRuntime
from exchange_sim.venue import SimVenue
from harness.memory import peak_rss_mb, rss_mb
from harness.sim_account import priced_for_sim
from stress.venue import LIFTED_LIMITS, VenueParts
from stress.venue import connector as venue_connector

DEPTH_INTERVAL_S = 0.1  # the venue's depth flush period (its default)
PHASE_S = 0.05  # updates land half a flush period before a flush
DECIDE_AFTER_S = 0.06  # the quote cycle runs after the flush that carried update n
NO_LOSS_LIMIT = Decimal(10**9)  # quote: the maker's fees alone exceed the default loss-rate limit (docstring)


def _mmbot_version() -> str:
    try:
        return f"mmbot {version('mmbot')}"
    except PackageNotFoundError:
        return "mmbot (source tree)"


class TouchStage:
    """The maker rule as a pipeline stage: join the touch on both sides under the cap, re-place every resting quote."""

    name = "touch_maker"

    def __init__(self, qty_lots: int, cap_quotes: int) -> None:
        self._qty = qty_lots
        self._cap = cap_quotes

    def process(self, ctx: QuoteContext) -> QuoteContext:
        want_bid, want_ask = quote_sides(ctx.inventory_lots // self._qty, self._cap)
        quotes = []
        if want_bid:
            quotes.append(Quote(side=Side.BUY, price_ticks=ctx.best_bid_ticks, qty_lots=self._qty))
        if want_ask:
            quotes.append(Quote(side=Side.SELL, price_ticks=ctx.best_ask_ticks, qty_lots=self._qty))
        ctx.desired = tuple(quotes)
        ctx.refresh = tuple(r.client_order_id for r in ctx.resting)
        return ctx


def bot_config(config: WorkloadConfig) -> BotConfig:
    """The bot's defaults, but for the symbol, the quote loop's idle requote and the two loss limits (docstring)."""
    base = priced_for_sim(BotConfig())  # the notional inventory default at the simulator's start prices
    risk = base.risk.model_copy(update={
        "pnl_rate": base.risk.pnl_rate.model_copy(update={"soft_loss_per_hour_quote": NO_LOSS_LIMIT,
                                                          "hard_loss_per_hour_quote": NO_LOSS_LIMIT}),
        "drawdown": base.risk.drawdown.model_copy(update={"soft_quote": NO_LOSS_LIMIT, "hard_quote": NO_LOSS_LIMIT}),
    })
    return base.model_copy(update={"symbols": (SYMBOL,), "risk": risk,
                                   "quoting": base.quoting.model_copy(update={"idle_requote_s": 0.5})})


async def _start(venue: SimVenue, config: WorkloadConfig,
                 store: OrderStore) -> tuple[AppContext, SymbolQuoter, float]:
    """Build and start the bot; returns it, its quoter and the loop time at which its depth feed subscribed."""
    bot = bot_config(config)
    connector = venue_connector(VenueParts(venue, venue.log, venue.runtime, config.seed), venue.connect(MAKER),
                                request_timeout_s=bot.execution.request_timeout_s, store=store, limits=LIFTED_LIMITS)
    await connector.sync_time()
    app = await AppContext.build(bot, connector, LoopClock(), store=store, seed=0)
    await app.start()
    data = MarketData(connector, SYMBOL)
    strategy = QuotePipeline([GuardStage(bot.strategy.guard, target_inventory_lots=0, base_size_lots=MAKER_QTY_LOTS),
                              TouchStage(MAKER_QTY_LOTS, config.inventory_cap_quotes)], name="touch-maker")
    quoter = SymbolQuoter(app=app, symbol=SYMBOL, market=data, strategy=strategy, config=bot.quoting)
    app.marks[SYMBOL] = quoter.marks
    app.spawn_supervised(data.run, f"market-{SYMBOL}")
    subscribed_at = asyncio.get_running_loop().time()  # the feed subscribes at this virtual time: flushes follow
    return app, quoter, subscribed_at


async def _session(venue: SimVenue, config: WorkloadConfig, stream: Iterator[TopOfBook]) -> SideResult:
    setup_started = time.perf_counter()
    store: OrderStore = StateStore(":memory:") if config.store == "sqlite" else MemoryStateStore()
    loop = asyncio.get_running_loop()
    lp = LiquidityProvider(venue.engine)
    first = next(stream)
    lp.apply(first)  # the book exists before the bot subscribes (as update 1, which the loop applies again)
    app, quoter, subscribed_at = await _start(venue, config, store)
    while not quoter.market.book.is_synced:
        await asyncio.sleep(DEPTH_INTERVAL_S)
    flushes = math.ceil((loop.time() - subscribed_at) / DEPTH_INTERVAL_S)
    origin = subscribed_at + flushes * DEPTH_INTERVAL_S + PHASE_S  # update 1 lands half a flush period early
    interval_s, every = config.interval_ms / 1000.0, config.requote_every
    setup_s = time.perf_counter() - setup_started
    rss_before = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    n = 0
    for n, update in enumerate(itertools.chain([first], stream), 1):
        update_at = origin + (n - 1) * interval_s
        await asyncio.sleep(update_at - loop.time())
        lp.apply(update)
        if requote_due(n, every):
            await asyncio.sleep(update_at + DECIDE_AFTER_S - loop.time())
            await quoter.cycle()
    await asyncio.sleep(DECIDE_AFTER_S)  # the last fills and acknowledgements reach the bot
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    orders = app.orders
    stats, open_at_end, position = orders.stats, len(orders.open_orders(SYMBOL)), orders.inventory_lots(SYMBOL)
    for task in app.tasks:
        task.cancel()
    for task in app.tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    if stats.fills != venue.trades:
        raise RuntimeError(f"the bot booked {stats.fills} fills but the venue made {venue.trades} trades")
    result = SideResult(
        side="ours-full", engine=f"{_mmbot_version()}, full bot path", updates=n, wall_s=wall_s, cpu_s=cpu_s,
        setup_s=setup_s, orders=stats.placed, cancels=stats.cancelled, fills=stats.fills, open_at_end=open_at_end,
        rss_before_run_mb=rss_before, peak_rss_mb=0.0,
        checks={"venue_trades": venue.trades, "rejected": stats.rejected, "position_lots": position,
                "position_quotes": position // MAKER_QTY_LOTS, "decisions": quoter.stats.decisions,
                "replaces": quoter.stats.replaces, "skipped": quoter.stats.skipped, "halts": dict(quoter.stats.halts),
                "pulls": dict(quoter.stats.pulls), "quoter_errors": dict(quoter.stats.errors),
                "guard_level": app.risk.level(), "event_log_digest": venue.log.digest()},
    )
    store.close()
    return result


def run_ours_full(config: WorkloadConfig) -> SideResult:
    """Run the workload through the full bot path in this process; ``peak_rss_mb`` is this process's peak."""
    if config.interval_ms % round(DEPTH_INTERVAL_S * 1000):
        raise ValueError("the full bot path needs interval_ms to be a multiple of the depth interval (100 ms)")
    runtime = SimRuntime()
    log = EventLog()
    try:
        venue = SimVenue(runtime, [SPEC], log, seed=config.seed, latency=ZERO_LATENCY,
                         depth_interval_ms=round(DEPTH_INTERVAL_S * 1000))
        venue.engine.open_account(LP, LP_BALANCES, tracked=False)
        venue.open_account(MAKER, MAKER_BALANCES)
        result = runtime.run(_session(venue, config, iter(top_of_book_updates(config))))
    finally:
        log.close()
        runtime.close()
    return dataclasses.replace(result, peak_rss_mb=peak_rss_mb())
