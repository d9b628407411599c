"""Our side: the workload through this project's simulated venue and the bot's order path, in virtual time.

What runs, per update ``n`` at simulated ``t = n * interval``:

1. the *market*: a liquidity-provider account (untracked, like the background market's accounts) whose two
   resting orders are the top of book. The update cancels the side(s) whose price or size changed and places
   them anew, directly in the ``MatchingEngine`` owned by ``SimVenue``; a new LP order that reaches a maker
   quote trades with it (the book "moves through" the quote), exactly as in ``exchange_sim.market``;
2. the *maker*, when ``requote_due(n)``: ``REACTION_S`` later it cancels every open quote and places up to two
   ``LIMIT_MAKER`` quotes at the update's touch (``quote_sides``: none on a side at the inventory cap, the
   position being the order manager's, from the fills booked so far), concurrently, through ``OrderManager``
   -> ``BinanceConnector`` -> in-process transport -> the wire server's handlers -> ``VenueClient`` ->
   ``SimVenue`` (rate limits lifted, ``stress.venue.LIFTED_LIMITS``: a requote per update is beyond Binance's
   order limit): fresh client ids from the order-state store (``config.store``: the ``MemoryStateStore`` a
   simulated session uses, or the live bot's SQLite ``StateStore`` in memory), every state change persisted,
   fills booked exactly once from the user stream (``run_user_stream``). Since issue 17 the connector's cost
   (signing, request encoding, field parsing) is in the figures.

Both request and feed latency are zero (NautilusTrader's backtest runs without a latency model by default),
so a requote is settled long before the next update and fills depend only on the stream. Everything runs on
``SimRuntime`` (asyncio in simpy's virtual time); the ``EventLog`` digests every venue event (no file).

Not run here (``ours_full`` runs them): the quoting strategy, risk guards and pre-trade checks, the depth feed
and the local book, the periodic reconciler. NautilusTrader's side does run its risk engine and whole kernel.
Errors: a rejected quote or a maker fill count that disagrees with the
venue's trade count raises ``RuntimeError`` (the comparison would be meaningless).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

from bench.side_by_side.result import SideResult
from bench.side_by_side.workload import (
    BASE_ASSET,
    MAKER_QTY_LOTS,
    QUOTE_ASSET,
    STEP_SIZE,
    SYMBOL,
    TICK_SIZE,
    TopOfBook,
    WorkloadConfig,
    maker_quotes,
    quote_sides,
    requote_due,
    top_of_book_updates,
)
from bot.core.clock import LoopClock
from bot.core.errors import BotError
from bot.core.types import Quote, Side
from bot.execution.config import ExecutionConfig
from bot.execution.memory_store import MemoryStateStore
from bot.execution.order_manager import OrderManager
from bot.execution.state import OrderStore, StateStore
from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId, OrderId, OrderType, PlaceRequest, SymbolSpec
from exchange_sim.engine.types import Side as EngineSide
from exchange_sim.eventlog import EventLog
from exchange_sim.latency import LatencyConfig
from exchange_sim.runtime import SimRuntime
from exchange_sim.venue import SimVenue
from harness.memory import peak_rss_mb, rss_mb
from stress.venue import LIFTED_LIMITS, VenueParts, connector

SPEC = SymbolSpec(symbol=SYMBOL, base_asset=BASE_ASSET, quote_asset=QUOTE_ASSET, tick_size=TICK_SIZE,
                  step_size=STEP_SIZE)
ZERO_LATENCY = LatencyConfig(request_floor_ms=0, request_median_ms=0, feed_floor_ms=0, feed_median_ms=0)
REACTION_S = 0.001  # the maker acts on an update 1 ms after it (its fills have been booked by then)
LP, MAKER = AccountId("lp"), AccountId("maker")
LP_BALANCES = {BASE_ASSET: 10**6 * ATOMS_PER_UNIT, QUOTE_ASSET: 10**12 * ATOMS_PER_UNIT}
MAKER_BALANCES = {BASE_ASSET: 1_000 * ATOMS_PER_UNIT, QUOTE_ASSET: 10_000_000 * ATOMS_PER_UNIT}  # as on Nautilus's side


class LiquidityProvider:
    """The market: one resting LP order per side, replaced whenever that side of the top of book changes."""

    def __init__(self, engine: MatchingEngine) -> None:
        self._engine = engine
        self._book = engine.book(SYMBOL)
        self._resting: dict[EngineSide, tuple[OrderId, int, int]] = {}  # side -> (order id, ticks, lots)

    def apply(self, update: TopOfBook) -> None:
        """Move the book to ``update``: cancel changed sides first (never crossing itself), then place them."""
        wanted = {EngineSide.BUY: (update.bid_ticks, update.bid_lots),
                  EngineSide.SELL: (update.ask_ticks, update.ask_lots)}
        changed = [side for side, level in wanted.items()
                   if side not in self._resting or self._resting[side][1:] != level]
        for side in changed:
            if side in self._resting:
                order_id = self._resting.pop(side)[0]
                if order_id in self._book:
                    self._engine.cancel(LP, SYMBOL, order_id=order_id)
        for side in changed:
            ticks, lots = wanted[side]
            result = self._engine.place(PlaceRequest(account=LP, symbol=SYMBOL, side=side, type=OrderType.LIMIT,
                                                     qty_lots=lots, price_ticks=ticks))
            self._resting[side] = (result.order.order_id, ticks, lots)


class Maker:
    """Cancels every open quote and joins the touch on both sides, through the bot's ``OrderManager``."""

    def __init__(self, orders: OrderManager, cap_quotes: int) -> None:
        self._orders = orders
        self._cap = cap_quotes

    async def requote(self, update: TopOfBook) -> None:
        stale = [r.client_order_id for r in self._orders.open_orders(SYMBOL)]
        bid, ask = maker_quotes(update)
        want_bid, want_ask = quote_sides(self._orders.inventory_lots(SYMBOL) // MAKER_QTY_LOTS, self._cap)
        quotes = [Quote(side=side, price_ticks=ticks, qty_lots=MAKER_QTY_LOTS)
                  for side, ticks, wanted in ((Side.BUY, bid, want_bid), (Side.SELL, ask, want_ask)) if wanted]
        _, placed = await asyncio.gather(self._orders.cancel_many(stale), self._orders.place_many(SYMBOL, quotes))
        failed = [p for p in placed if isinstance(p, BotError)]
        if failed:
            raise RuntimeError(f"a maker quote was refused, the comparison is void: {failed[0]}")


def _mmbot_version() -> str:
    try:
        return f"mmbot {version('mmbot')}"
    except PackageNotFoundError:
        return "mmbot (source tree)"


async def _session(venue: SimVenue, config: WorkloadConfig, updates: Iterable[TopOfBook]) -> SideResult:
    setup_started = time.perf_counter()
    store: OrderStore = StateStore(":memory:") if config.store == "sqlite" else MemoryStateStore()
    maker_venue = connector(VenueParts(venue, venue.log, venue.runtime, config.seed), venue.connect(MAKER),
                            request_timeout_s=ExecutionConfig().request_timeout_s, limits=LIFTED_LIMITS)
    infos = {s.symbol: s for s in await maker_venue.symbols()}
    orders = OrderManager(maker_venue, store, LoopClock(), ExecutionConfig(state_path=":memory:"), infos,
                          rng=random.Random(0))
    await orders.start()
    stream = asyncio.create_task(orders.run_user_stream(), name="user-stream")
    await asyncio.sleep(REACTION_S)  # the user stream is subscribed before the first update
    lp, maker = LiquidityProvider(venue.engine), Maker(orders, config.inventory_cap_quotes)
    interval_s, every = config.interval_ms / 1000.0, config.requote_every
    setup_s = time.perf_counter() - setup_started
    rss_before = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    n = 0
    for n, update in enumerate(updates, 1):
        await asyncio.sleep(interval_s)
        lp.apply(update)
        if requote_due(n, every):
            await asyncio.sleep(REACTION_S)
            await maker.requote(update)
    await asyncio.sleep(REACTION_S)  # the last fills reach the user stream
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    stream.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stream
    await maker_venue.close()
    stats = orders.stats
    if stats.fills != venue.trades:
        raise RuntimeError(f"maker booked {stats.fills} fills but the venue made {venue.trades} trades")
    result = SideResult(
        side="ours", engine=_mmbot_version(), updates=n, wall_s=wall_s, cpu_s=cpu_s, setup_s=setup_s,
        orders=stats.placed, cancels=stats.cancelled, fills=stats.fills, open_at_end=len(orders.open_orders(SYMBOL)),
        rss_before_run_mb=rss_before, peak_rss_mb=0.0,
        checks={"venue_trades": venue.trades, "rejected": stats.rejected, "unknown_outcomes": stats.unknown_outcomes,
                "duplicate_fills": stats.duplicate_fills, "position_lots": orders.inventory_lots(SYMBOL),
                "position_quotes": orders.inventory_lots(SYMBOL) // MAKER_QTY_LOTS,
                "event_log_records": venue.log.records, "event_log_digest": venue.log.digest()},
    )
    store.close()
    return result


def run_ours(config: WorkloadConfig, updates: Iterable[TopOfBook] | None = None) -> SideResult:
    """Run the workload on our side in this process; ``peak_rss_mb`` is this process's peak.

    ``updates`` replaces the seeded stream (tests feed hand-made books); by default it is ``config``'s stream.
    """
    stream = updates if updates is not None else top_of_book_updates(config)
    runtime = SimRuntime()
    log = EventLog()
    try:
        venue = SimVenue(runtime, [SPEC], log, seed=config.seed, latency=ZERO_LATENCY)
        venue.engine.open_account(LP, LP_BALANCES, tracked=False)
        venue.open_account(MAKER, MAKER_BALANCES)
        result = runtime.run(_session(venue, config, stream))
    finally:
        log.close()
        runtime.close()
    return dataclasses.replace(result, peak_rss_mb=peak_rss_mb())
