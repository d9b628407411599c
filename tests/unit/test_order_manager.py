"""OrderManager: concurrency, idempotent ids, unknown outcomes, partial fills, cancel/fill races, shutdown.

Runs against the real simulated venue in virtual time with a quiet market (no background flow), so every
fill comes from a second account, ``TAKER``, that the test controls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import bot.execution.order_manager as order_manager_module
from bot.connectors.binance.connector import BinanceConnector
from bot.core.clock import LoopClock
from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, NewOrder, OrderStatus, OrderType, OrderUpdate, Quote, Side, TradeId
from bot.execution.config import ExecutionConfig
from bot.execution.memory_store import MemoryStateStore
from bot.execution.order_manager import OrderManager
from bot.execution.state import OrderRecord, OrderStore, StateStore
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId, PlaceRequest
from exchange_sim.engine.types import OrderType as SimOrderType
from exchange_sim.engine.types import Side as SimSide
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from harness.session_venue import SimLink, sim_connector

BOT = AccountId("bot")
TAKER = AccountId("taker")
SYMBOL = "BTCUSDT"
RTT_S = 0.010
QUIET = {"calm": {"lp_rate_per_s": 1e-9, "market_rate_per_s": 1e-9, "informed_rate_per_s": 0.0,
                  "lp_requote_rate_per_s": 0.0, "hawkes_alpha_per_s": 0.0}}
FUNDS = {"BTC": 1_000 * ATOMS_PER_UNIT, "USDT": 100_000_000 * ATOMS_PER_UNIT}


class FlakyVenue:
    """A Venue wrapper that makes chosen calls fail the way networks do (test double for fault injection)."""

    def __init__(self, inner: BinanceConnector) -> None:
        self.inner = inner
        self.faults: dict[str, list[str]] = {}
        self.calls: dict[str, int] = {}
        self.on_refusal: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _fault(self, op: str) -> str | None:
        self.calls[op] = self.calls.get(op, 0) + 1
        queue = self.faults.get(op)
        return queue.pop(0) if queue else None

    async def place(self, order: NewOrder) -> Any:
        fault = self._fault("place")
        if fault == "network":  # connect failed: the request never left
            raise BotError(ErrorCode.NETWORK, "connection refused", recoverable=True)
        if fault == "rate_limited":  # 429: not processed, try again after Retry-After
            raise BotError(ErrorCode.RATE_LIMITED, "429", recoverable=True, retry_after_ms=2_000)
        if fault == "lost":  # sent, timed out, never arrived
            raise BotError(ErrorCode.UNKNOWN_OUTCOME, "timeout")
        result = await self.inner.place(order)
        if fault == "timeout_after":  # executed, but the answer was lost
            raise BotError(ErrorCode.UNKNOWN_OUTCOME, "timeout after processing")
        return result

    async def cancel_replace(self, symbol: str, cancel_client_order_id: Any, new: NewOrder) -> Any:
        fault = self._fault("cancel_replace")
        if fault == "filled_then_refused":  # the order fills while the request is refused (a WAF 403)
            await self.on_refusal()
            raise BotError(ErrorCode.VENUE_UNAVAILABLE, "Forbidden: the WAF limit was violated.", recoverable=False)
        result = await self.inner.cancel_replace(symbol, cancel_client_order_id, new)
        if fault == "timeout_after":
            raise BotError(ErrorCode.UNKNOWN_OUTCOME, "timeout after processing")
        return result

    async def cancel(self, symbol: str, client_order_id: Any) -> Any:
        if self._fault("cancel") == "unknown_order":  # a venue that refuses the cancel of a resting order
            raise BotError(ErrorCode.UNKNOWN_ORDER, "Unknown order sent.")
        return await self.inner.cancel(symbol, client_order_id)


@pytest.fixture
def world() -> Iterator[SimWorld]:
    latency = LatencyConfig(request_floor_ms=RTT_S * 500, request_median_ms=0, feed_floor_ms=1, feed_median_ms=0)
    w = SimWorld(seed=1, duration_s=3600, latency=latency,
                 market=MarketConfig(symbols=(SYMBOL,), regime_overrides=QUIET))
    w.venue.open_account(BOT, FUNDS)
    w.venue.open_account(TAKER, FUNDS)
    yield w
    w.close()


def make_om(world: SimWorld, store: OrderStore, *, instance: str | None = None, rng: random.Random | None = None,
            **config: Any) -> tuple[OrderManager, FlakyVenue]:
    venue = FlakyVenue(sim_connector(world, BOT))
    info = {s.symbol: s for s in world.run(venue.symbols())}
    cfg = ExecutionConfig(**{"retry_base_delay_s": 0.05, **config})
    token = {} if instance is None else {"instance": instance}
    jitter = rng if rng is not None else random.Random(0)
    return OrderManager(venue, store, LoopClock(), cfg, info, **token, rng=jitter), venue  # type: ignore[arg-type]


def timed_place(world: SimWorld, om: OrderManager) -> tuple[OrderRecord, float]:
    """Place a 1,000-lot bid at 10,000; the record and the virtual seconds ``place`` took."""

    async def main() -> tuple[OrderRecord, float]:
        start = world.runtime.now()
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        return record, world.runtime.now() - start

    return world.run(main())


async def take(world: SimWorld, side: SimSide, qty_lots: int) -> None:
    """The taker sends a market order against whatever rests."""
    await world.venue.connect(TAKER).place(PlaceRequest(account=TAKER, symbol=SYMBOL, side=side,
                                                        type=SimOrderType.MARKET, qty_lots=qty_lots))


def test_a_full_order_budget_of_placements_runs_concurrently(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"), max_in_flight=1000)
    count = venue.inner.limiter.order_budget  # every order the connector may send in 10 s (80 on Binance's rules)
    quotes = [Quote(side=Side.BUY, price_ticks=10_000 + i % 50, qty_lots=1_000) for i in range(count)]

    async def main() -> tuple[float, list[Any]]:
        start = world.runtime.now()
        results = await om.place_many(SYMBOL, quotes)
        return world.runtime.now() - start, results

    elapsed, results = world.run(main())
    assert all(not isinstance(r, BotError) and r.status is OrderStatus.NEW for r in results)
    assert len({r.client_order_id for r in results if not isinstance(r, BotError)}) == count >= 50
    assert len(world.engine.open_orders(BOT, SYMBOL)) == count
    assert elapsed < 2 * RTT_S  # one round trip, not one per order


def test_client_order_ids_are_never_reused_across_restarts(world: SimWorld, tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first_store = StateStore(path)
    first, _ = make_om(world, first_store)
    a = world.run(first.place(SYMBOL, Side.BUY, 1_000, 10_000))
    first_store.close()  # one instance holds a state file at a time
    second, _ = make_om(world, StateStore(path))
    b = world.run(second.place(SYMBOL, Side.BUY, 1_000, 10_000))
    assert a.client_order_id != b.client_order_id


def test_timeout_after_processing_is_queried_never_resubmitted(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"))
    venue.faults["place"] = ["timeout_after"]
    record = world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
    assert record.status is OrderStatus.NEW
    assert venue.calls["place"] == 1
    assert [o.client_order_id for o in world.engine.open_orders(BOT, SYMBOL)] == [record.client_order_id]
    assert om.stats.unknown_outcomes == 1


def test_request_that_never_arrived_becomes_lost(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"), unknown_queries_before_lost=3)
    venue.faults["place"] = ["lost"]
    record = world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
    assert record.status is OrderStatus.LOST
    assert venue.calls["place"] == 1
    assert world.engine.open_orders(BOT, SYMBOL) == []


def test_network_error_before_sending_is_retried_with_the_same_id(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"))
    venue.faults["place"] = ["network"]
    record = world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
    assert record.status is OrderStatus.NEW
    assert venue.calls["place"] == 2
    assert [o.client_order_id for o in world.engine.open_orders(BOT, SYMBOL)] == [record.client_order_id]


def test_the_retry_jitter_draws_from_the_stream_it_is_given(world: SimWorld) -> None:
    def first_retry_s(seed: int) -> float:
        om, venue = make_om(world, StateStore(":memory:"), rng=random.Random(seed), retry_base_delay_s=1.0)
        venue.faults["place"] = ["network"]
        started_s = world.runtime.loop.time()
        world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000 + seed))
        return world.runtime.loop.time() - started_s

    assert first_retry_s(1) == pytest.approx(first_retry_s(1), abs=1e-9)  # same stream, same wait
    assert abs(first_retry_s(1) - first_retry_s(2)) > 0.01  # another seed, another wait (0.5..1.5 s)


def test_an_order_held_back_by_retry_after_is_rechecked_against_the_guard_before_it_is_resent(
    world: SimWorld,
) -> None:
    """Seed 760 of the chaos swarm: a placement decided before a HARD guard, held back by a 429's Retry-After,
    must not reach the venue after the guard fired."""
    halted = [False]

    def recheck(order: NewOrder) -> None:
        if halted[0]:
            raise BotError(ErrorCode.HALTED, f"guard_level: HARD, no new orders ({order.client_order_id})")

    venue = FlakyVenue(sim_connector(world, BOT))
    info = {s.symbol: s for s in world.run(venue.symbols())}
    om = OrderManager(venue, StateStore(":memory:"), LoopClock(), ExecutionConfig(retry_base_delay_s=0.05),
                      info, recheck=recheck, rng=random.Random(0))
    venue.faults["place"] = ["rate_limited"]

    async def main() -> Any:
        placing = asyncio.ensure_future(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
        await asyncio.sleep(1.0)  # inside the 2 s Retry-After: the guard goes HARD
        halted[0] = True
        with pytest.raises(BotError) as error:
            await placing
        return error.value

    error = world.run(main())
    assert error.code is ErrorCode.HALTED
    assert world.engine.open_orders(BOT, SYMBOL) == []  # the retry never reached the venue
    assert om.open_orders() == []
    assert om.stats.risk_rejected == 1


def test_an_order_held_by_a_time_sync_is_rechecked_before_it_goes_on_the_wire(world: SimWorld) -> None:
    """Chaos seed 494: the connector synced its clock before a signed request (a slow round trip under a latency
    fault) and the HARD guard fired meanwhile; the order must not be sent after the sync. Since session 9 only the
    first sync holds a request (an aged offset is refreshed in the background), so the test uses the first."""
    halted = [False]

    def recheck(order: NewOrder) -> None:
        if halted[0]:
            raise BotError(ErrorCode.HALTED, f"guard_level: HARD, no new orders ({order.client_order_id})")

    link = SimLink(world, BOT, request_timeout_s=10.0)  # never synced: the first signed request syncs first
    connector: BinanceConnector = link.connector()
    info = {s.symbol: s for s in world.run(connector.symbols())}
    connector.time._synced_at_s = None  # as before the first sync (listing the symbols synced): the place syncs first
    om = OrderManager(connector, StateStore(":memory:"), LoopClock(), ExecutionConfig(), info, recheck=recheck,
                      rng=random.Random(0))

    async def main() -> Any:
        placing = asyncio.ensure_future(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
        await asyncio.sleep(RTT_S / 2)  # the sync is on the wire: the guard goes HARD
        halted[0] = True
        with pytest.raises(BotError) as error:
            await placing
        return error.value

    assert world.run(main()).code is ErrorCode.HALTED
    assert connector.stats.time_syncs == 1  # the sync that held the place
    assert world.engine.open_orders(BOT, SYMBOL) == []


def test_a_retry_that_still_passes_the_guard_is_sent_after_retry_after(world: SimWorld) -> None:
    venue = FlakyVenue(sim_connector(world, BOT))
    info = {s.symbol: s for s in world.run(venue.symbols())}
    checked: list[str] = []
    om = OrderManager(venue, StateStore(":memory:"), LoopClock(), ExecutionConfig(retry_base_delay_s=0.05),
                      info, recheck=lambda order: checked.append(order.client_order_id), rng=random.Random(0))
    venue.faults["place"] = ["rate_limited"]

    record, elapsed = timed_place(world, om)
    assert record.status is OrderStatus.NEW
    assert venue.calls["place"] == 2  # checked before the first send; the re-send is checked by the connector
    assert checked == [record.client_order_id] * 3  # after the limiter admitted it and as it left the transport
    assert elapsed >= 2.0  # not before Retry-After expired


def test_a_reject_is_final_and_not_retried(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"))
    world.run(om.place(SYMBOL, Side.SELL, 1_000, 10_000))  # our ask at 10,000 ...

    with pytest.raises(BotError) as error:  # ... makes a post-only bid at 10,000 cross
        world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
    assert error.value.code is ErrorCode.WOULD_TAKE
    assert venue.calls["place"] == 2
    assert om.stats.rejected == 1


def test_partial_fill_then_cancel_leaves_exact_inventory(world: SimWorld) -> None:
    om, _ = make_om(world, StateStore(":memory:"))

    async def main() -> Any:
        stream = asyncio.ensure_future(om.run_user_stream())
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        await take(world, SimSide.SELL, 300)
        await asyncio.sleep(0.1)
        cancelled = await om.cancel(record.client_order_id)
        await asyncio.sleep(0.1)
        stream.cancel()
        return cancelled

    record = world.run(main())
    assert record.status is OrderStatus.CANCELED
    assert record.filled_lots == 300
    assert om.inventory_lots(SYMBOL) == 300


def test_cancel_of_an_order_filled_meanwhile_is_resolved_by_query(world: SimWorld) -> None:
    om, _ = make_om(world, StateStore(":memory:"))

    async def main() -> Any:
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        await take(world, SimSide.SELL, 1_000)  # filled; the bot has no stream running to hear about it
        result = await om.cancel(record.client_order_id)  # venue: -2011 unknown order -> query -> FILLED
        await om.reconcile()  # backfills the fill itself
        return result

    record = world.run(main())
    assert record.status is OrderStatus.FILLED
    assert om.inventory_lots(SYMBOL) == 1_000


def test_fill_reports_are_applied_once_however_often_they_arrive(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"))

    async def main() -> None:
        stream = asyncio.ensure_future(om.run_user_stream())
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        await take(world, SimSide.SELL, 400)
        await asyncio.sleep(0.1)  # the stream delivered the fill
        (fill,) = await venue.fills(SYMBOL)
        report = await venue.query(SYMBOL, record.client_order_id)
        for _ in range(2):  # the same execution report again, twice (duplicated delivery)
            om.apply(OrderUpdate(order=report, fill=fill))
        await om.reconcile()
        stream.cancel()

    world.run(main())
    assert om.inventory_lots(SYMBOL) == 400
    assert om.stats.fills == 1
    assert om.stats.duplicate_fills >= 2  # + the reconcile's backfill, which re-reads from its watermark


def test_a_report_redelivered_under_a_new_trade_id_is_booked_once(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"))

    async def main() -> None:
        stream = asyncio.ensure_future(om.run_user_stream())
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        await take(world, SimSide.SELL, 400)
        await asyncio.sleep(0.1)  # the stream delivered the fill
        (fill,) = await venue.fills(SYMBOL)
        report = await venue.query(SYMBOL, record.client_order_id)
        again = dataclasses.replace(fill, trade_id=TradeId(fill.trade_id + 10**12))  # same execution, new id
        om.apply(OrderUpdate(order=report, fill=again))
        stream.cancel()

    world.run(main())
    assert om.inventory_lots(SYMBOL) == 400
    assert om.stats.fills == 1 and om.stats.duplicate_fills == 1


def test_late_fill_of_a_lost_order_is_booked(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"), unknown_queries_before_lost=1)
    venue.faults["place"] = ["lost"]

    async def main() -> Any:
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        assert record.status is OrderStatus.LOST
        # the "lost" request arrives after all (a delayed packet), rests, and is filled
        await venue.inner.place(NewOrder(symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT_MAKER, qty_lots=1_000,
                                         price_ticks=10_000, client_order_id=record.client_order_id))
        await take(world, SimSide.SELL, 1_000)
        await om.reconcile()
        return om.order(record.client_order_id)

    record = world.run(main())
    assert record.status is OrderStatus.FILLED
    assert om.inventory_lots(SYMBOL) == 1_000


def test_reconcile_adopts_our_orders_the_state_lost(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"))
    stray = NewOrder(symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT_MAKER, qty_lots=1_000, price_ticks=10_000,
                     client_order_id="mmb-999999")  # type: ignore[arg-type]
    world.run(venue.inner.place(stray))
    report = world.run(om.reconcile())
    assert report.adopted == 1
    assert om.order(stray.client_order_id).status is OrderStatus.NEW  # type: ignore[union-attr]


def test_replace_quotes_keeps_matching_orders_and_swaps_the_rest(world: SimWorld) -> None:
    om, _ = make_om(world, StateStore(":memory:"))

    async def main() -> None:
        await om.replace_quotes(SYMBOL, [Quote(side=Side.BUY, price_ticks=10_000, qty_lots=1_000),
                                         Quote(side=Side.SELL, price_ticks=10_010, qty_lots=1_000)])
        await om.replace_quotes(SYMBOL, [Quote(side=Side.BUY, price_ticks=10_000, qty_lots=1_000),
                                         Quote(side=Side.SELL, price_ticks=10_012, qty_lots=1_000)])

    world.run(main())
    resting = sorted((o.side.value, o.price_ticks) for o in world.engine.open_orders(BOT, SYMBOL))
    assert resting == [("BUY", 10_000), ("SELL", 10_012)]
    assert om.stats.placed == 3
    assert om.stats.cancelled == 1



def test_replace_quotes_moves_an_order_with_one_cancel_replace_when_configured(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"), amend="cancel_replace")

    async def main() -> None:
        await om.replace_quotes(SYMBOL, [Quote(side=Side.BUY, price_ticks=10_000, qty_lots=1_000),
                                         Quote(side=Side.SELL, price_ticks=10_010, qty_lots=1_000)])
        await om.replace_quotes(SYMBOL, [Quote(side=Side.BUY, price_ticks=10_000, qty_lots=1_000),
                                         Quote(side=Side.SELL, price_ticks=10_012, qty_lots=800)])

    world.run(main())
    resting = sorted((o.side.value, o.price_ticks, o.orig_qty_lots) for o in world.engine.open_orders(BOT, SYMBOL))
    assert resting == [("BUY", 10_000, 1_000), ("SELL", 10_012, 800)]
    assert venue.calls.get("place", 0) == 2  # the two first quotes; the ask moved in one cancelReplace
    assert (om.stats.placed, om.stats.cancelled) == (3, 1)
    assert len(om.open_orders(SYMBOL)) == 2


def test_replace_quotes_never_lets_more_than_the_cap_rest_on_a_side(world: SimWorld) -> None:
    """Chaos seed 806: every cancel answered "unknown order" while the orders rested; each cycle added a quote."""
    om, venue = make_om(world, StateStore(":memory:"), max_open_per_side=3)

    async def main() -> None:
        for step in range(6):  # the bid moves every cycle; the venue refuses every cancel
            venue.faults["cancel"] = ["unknown_order"] * 10
            await om.replace_quotes(SYMBOL, [Quote(side=Side.BUY, price_ticks=10_000 - step, qty_lots=100)])

    world.run(main())
    assert len(world.engine.open_orders(BOT, SYMBOL)) == 3
    assert len(om.open_orders(SYMBOL)) == 3

def test_lost_orders_on_the_reducing_side_do_not_hold_back_a_reducing_quote(world: SimWorld) -> None:
    """Chaos seed 827: LOST asks (the venue said three times it has no such order) filled the side cap of a long
    bot; under SOFT (reduce-only) nothing reducing could rest until they expired, 120 s later."""
    om, venue = make_om(world, StateStore(":memory:"), max_open_per_side=2, unknown_queries_before_lost=1)

    async def main() -> None:
        stream = asyncio.ensure_future(om.run_user_stream())
        await om.place(SYMBOL, Side.BUY, 100, 10_000)
        await take(world, SimSide.SELL, 100)  # the bot is long 100 lots
        await asyncio.sleep(1.0)
        venue.faults["place"] = ["lost", "lost"]
        for price in (10_020, 10_021):  # two asks whose requests never arrived: LOST, on the reducing side
            await om.place(SYMBOL, Side.SELL, 50, price)
        venue.faults["place"] = ["lost"]
        await om.place(SYMBOL, Side.BUY, 50, 9_990)  # a LOST bid: it grows |exposure|, so it still counts
        await om.replace_quotes(SYMBOL, [Quote(side=Side.SELL, price_ticks=10_022, qty_lots=100),
                                         Quote(side=Side.BUY, price_ticks=9_989, qty_lots=50),
                                         Quote(side=Side.BUY, price_ticks=9_988, qty_lots=50)])
        stream.cancel()
        await asyncio.gather(stream, return_exceptions=True)

    world.run(main())
    assert om.exposure_lots(SYMBOL) == 100
    assert sorted(r.status for r in om.open_orders(SYMBOL) if r.side is Side.SELL) == [
        OrderStatus.LOST, OrderStatus.LOST, OrderStatus.NEW]
    resting = sorted((o.side.value, o.price_ticks) for o in world.engine.open_orders(BOT, SYMBOL))
    assert resting == [("BUY", 9_989), ("SELL", 10_022)]  # one bid beside the LOST one: the cap of 2 holds


def test_replace_quotes_re_places_an_order_listed_for_refresh_at_the_same_price(world: SimWorld) -> None:
    om, _ = make_om(world, StateStore(":memory:"))
    quotes = [Quote(side=Side.BUY, price_ticks=10_000, qty_lots=1_000),
              Quote(side=Side.SELL, price_ticks=10_010, qty_lots=1_000)]

    async def main() -> tuple[set[str], set[str]]:
        await om.replace_quotes(SYMBOL, quotes)
        first = {o.client_order_id: o for o in om.open_orders(SYMBOL)}
        (old_bid,) = [c for c, o in first.items() if o.side is Side.BUY]
        await om.replace_quotes(SYMBOL, quotes, refresh=[old_bid])
        return set(first), {o.client_order_id for o in om.open_orders(SYMBOL)}

    before, after = world.run(main())
    resting = sorted((o.side.value, o.price_ticks) for o in world.engine.open_orders(BOT, SYMBOL))
    assert resting == [("BUY", 10_000), ("SELL", 10_010)]  # same prices: the bid is a new order
    assert len(before & after) == 1 and len(after - before) == 1
    assert (om.stats.placed, om.stats.cancelled) == (3, 1)


def test_shutdown_cancels_everything_verifies_and_refuses_new_orders(world: SimWorld) -> None:
    om, _ = make_om(world, StateStore(":memory:"))

    async def main() -> Any:
        await om.place_many(SYMBOL, [Quote(side=Side.BUY, price_ticks=10_000 + i, qty_lots=1_000) for i in range(5)])
        report = await om.shutdown()
        with pytest.raises(BotError) as error:
            await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        assert error.value.code is ErrorCode.SHUTTING_DOWN
        return report

    report = world.run(main())
    assert report.verified
    assert report.cancelled == 5
    assert world.engine.open_orders(BOT, SYMBOL) == []


def test_a_lost_order_is_polled_then_expires_once_the_venue_can_no_longer_execute_it(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"), unknown_queries_before_lost=1, lost_expire_after_s=120)
    venue.faults["place"] = ["lost"]

    async def main() -> tuple[OrderStatus, OrderStatus]:
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        await asyncio.sleep(60)
        await om.reconcile()
        still = om.order(record.client_order_id).status  # type: ignore[union-attr]
        await asyncio.sleep(61)
        await om.reconcile()
        return still, om.order(record.client_order_id).status  # type: ignore[union-attr]

    assert world.run(main()) == (OrderStatus.LOST, OrderStatus.EXPIRED)
    assert om.stats.lost == 1


def test_cancel_replace_moves_an_order_under_a_new_id(world: SimWorld) -> None:
    om, _ = make_om(world, StateStore(":memory:"))

    async def main() -> Any:
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        return await om.cancel_replace(record.client_order_id, 10_005)

    old, new = world.run(main())
    assert old.status is OrderStatus.CANCELED
    assert new.status is OrderStatus.NEW and new.client_order_id != old.client_order_id
    assert [(o.client_order_id, o.price_ticks) for o in world.engine.open_orders(BOT, SYMBOL)] == [
        (new.client_order_id, 10_005)]


def test_cancel_replace_of_an_order_that_just_filled_places_nothing(world: SimWorld) -> None:
    om, _ = make_om(world, StateStore(":memory:"))

    async def main() -> Any:
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        await take(world, SimSide.SELL, 1_000)  # filled before the bot's cancel-replace arrives
        return await om.cancel_replace(record.client_order_id, 10_005)

    old, new = world.run(main())
    assert old.status is OrderStatus.FILLED  # resolved by query
    assert new.status is OrderStatus.REJECTED  # STOP_ON_FAILURE: never sent to the book
    assert world.engine.open_orders(BOT, SYMBOL) == []


def test_cancel_replace_half_success_keeps_both_halves_straight(world: SimWorld) -> None:
    om, _ = make_om(world, StateStore(":memory:"))

    async def main() -> Any:
        await om.place(SYMBOL, Side.SELL, 1_000, 10_010)  # our own ask makes the replacement bid cross
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        return await om.cancel_replace(record.client_order_id, 10_010)

    old, new = world.run(main())
    assert old.status is OrderStatus.CANCELED
    assert new.status is OrderStatus.REJECTED
    assert [o.side.value for o in world.engine.open_orders(BOT, SYMBOL)] == ["SELL"]


def test_cancel_replace_with_unknown_outcome_resolves_both_orders(world: SimWorld) -> None:
    om, venue = make_om(world, StateStore(":memory:"))
    venue.faults["cancel_replace"] = ["timeout_after"]

    async def main() -> Any:
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        return await om.cancel_replace(record.client_order_id, 10_005)

    old, new = world.run(main())
    assert (old.status, new.status) == (OrderStatus.CANCELED, OrderStatus.NEW)
    assert om.stats.unknown_outcomes == 1


def test_finished_orders_leave_memory_but_stay_queryable(world: SimWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(order_manager_module, "_TERMINAL_KEPT", 5)
    om, _ = make_om(world, StateStore(":memory:"))

    async def main() -> list[Any]:
        records = []
        for i in range(20):
            record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000 + i)
            await om.cancel(record.client_order_id)
            records.append(record)
        return records

    records = world.run(main())
    assert len(om._orders) == 0 and len(om._terminal) == 5  # bounded working set
    assert om.order(records[0].client_order_id).status is OrderStatus.CANCELED  # type: ignore[union-attr]


class PartitionedVenue(FlakyVenue):
    """Cancels and listings hang until ``heal_s`` on the loop's clock (a network partition, no answer at all)."""

    def __init__(self, inner: BinanceConnector, heal_s: float) -> None:
        super().__init__(inner)
        self.heal_s = heal_s

    async def _wait_heal(self) -> None:
        await asyncio.sleep(max(0.0, self.heal_s - asyncio.get_running_loop().time()))

    async def cancel(self, symbol: str, client_order_id: Any) -> Any:
        await self._wait_heal()
        return await self.inner.cancel(symbol, client_order_id)

    async def open_orders(self, symbol: str | None = None) -> Any:
        await self._wait_heal()
        return await self.inner.open_orders(symbol)


def _shutdown_in_partition(world: SimWorld, partition_s: float) -> tuple[Any, float]:
    venue = PartitionedVenue(sim_connector(world, BOT), heal_s=float("inf"))
    info = {s.symbol: s for s in world.run(venue.symbols())}
    om = OrderManager(venue, StateStore(":memory:"), LoopClock(),
                      ExecutionConfig(retry_base_delay_s=0.05, cancel_verify_timeout_s=10.0), info,
                      rng=random.Random(0))

    async def main() -> tuple[Any, float]:
        await om.place_many(SYMBOL, [Quote(side=Side.BUY, price_ticks=10_000 + i, qty_lots=1_000) for i in range(2)])
        loop = asyncio.get_running_loop()
        start = loop.time()
        venue.heal_s = start + partition_s
        report = await om.shutdown()
        return report, loop.time() - start

    return world.run(main())


def test_shutdown_in_a_long_partition_ends_at_its_deadline_and_says_remaining_is_unknown(world: SimWorld) -> None:
    report, elapsed_s = _shutdown_in_partition(world, partition_s=90.0)
    assert elapsed_s <= 10.0 + 1e-6  # the deadline holds inside a round: no waiting out the partition
    assert not report.verified
    assert report.remaining is None  # nothing could be listed: unknown, not "0 remaining"
    assert len(world.engine.open_orders(BOT, SYMBOL)) == 2  # indeed still resting


def test_shutdown_in_a_short_partition_cancels_after_the_heal_and_verifies(world: SimWorld) -> None:
    report, elapsed_s = _shutdown_in_partition(world, partition_s=3.0)
    assert 3.0 <= elapsed_s <= 10.0
    assert report.verified and report.remaining == ()
    assert world.engine.open_orders(BOT, SYMBOL) == []


# -- client ids across state loss (two consecutive `mmbot run --venue local` with state in memory) --
def test_a_cold_start_without_the_state_file_never_reuses_the_old_instances_ids(world: SimWorld) -> None:
    first, _ = make_om(world, MemoryStateStore())
    old = world.run(first.place(SYMBOL, Side.BUY, 1_000, 10_000))
    first.abandon()  # run A ends; its order rests, its state (in memory) is gone
    world.run(asyncio.sleep(1.0))
    second, _ = make_om(world, MemoryStateStore())
    world.run(second.start())  # adopts A's order
    new = world.run(second.place(SYMBOL, Side.BUY, 1_000, 9_990))
    assert new.client_order_id != old.client_order_id
    adopted = second.order(old.client_order_id)
    assert adopted is not None and adopted.venue_order_id == old.venue_order_id
    world.run(take(world, SimSide.SELL, 1_000))  # fills A's order (the best bid), not B's
    world.run(second.reconcile())
    filled = second.order(old.client_order_id)
    assert filled is not None and (filled.status, filled.filled_lots) == (OrderStatus.FILLED, 1_000)
    mine = second.order(new.client_order_id)
    assert mine is not None and (mine.status, mine.filled_lots) == (OrderStatus.NEW, 0)
    world.run(second.cancel_all())
    assert world.engine.open_orders(BOT, SYMBOL) == []  # nothing rests unmanaged


def test_adopting_an_order_advances_the_counter_past_its_number(world: SimWorld) -> None:
    first, _ = make_om(world, MemoryStateStore(), instance="x")
    placed = [world.run(first.place(SYMBOL, Side.BUY, 1_000, 10_000 - i)).client_order_id for i in range(3)]
    assert placed == ["mmb-x-1", "mmb-x-2", "mmb-x-3"]
    first.abandon()
    second, _ = make_om(world, MemoryStateStore(), instance="x")  # the same token: only the counter can help
    world.run(second.start())
    assert second.stats.adopted == 3
    assert world.run(second.place(SYMBOL, Side.BUY, 1_000, 9_000)).client_order_id == "mmb-x-4"


def test_place_never_overwrites_a_record_under_the_same_id(world: SimWorld) -> None:
    store = MemoryStateStore()
    om, _ = make_om(world, store, instance="x")
    existing = OrderRecord(client_order_id=ClientOrderId("mmb-x-1"), symbol=SYMBOL, side=Side.SELL,
                           type=OrderType.LIMIT_MAKER, price_ticks=10_100, qty_lots=5, status=OrderStatus.NEW,
                           created_ms=0, updated_ms=0)
    store.save_order(existing)  # a record the counter does not know about (e.g. restored from elsewhere)
    with pytest.raises(BotError) as error:
        world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
    assert error.value.code is ErrorCode.STATE_INVALID
    assert store.order(ClientOrderId("mmb-x-1")) == existing
    assert world.engine.open_orders(BOT, SYMBOL) == []


def test_a_report_for_another_venue_order_under_a_known_client_id_is_not_merged(world: SimWorld) -> None:
    om, venue = make_om(world, MemoryStateStore())
    mine = world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
    report = world.run(venue.query(SYMBOL, mine.client_order_id))
    assert mine.venue_order_id is not None
    other = dataclasses.replace(report, order_id=mine.venue_order_id + 1, status=OrderStatus.CANCELED)

    async def deliver() -> None:
        om.apply(OrderUpdate(order=other, fill=None))

    world.run(deliver())
    assert om.order(mine.client_order_id) == mine  # still NEW: another order's cancel is not booked against it


def test_an_execution_reported_before_its_fill_counts_in_exposure_not_in_the_ledger(world: SimWorld) -> None:
    """A report says 400 of 1,000 lots executed while the trade report is missing: risk decisions size against
    -400 at once (exposure); the ledger waits for the fill itself, then both agree."""
    om, venue = make_om(world, MemoryStateStore())
    mine = world.run(om.place(SYMBOL, Side.SELL, 1_000, 10_000))
    report = world.run(venue.query(SYMBOL, mine.client_order_id))
    executed = dataclasses.replace(report, executed_qty_lots=400, status=OrderStatus.PARTIALLY_FILLED)

    async def deliver() -> None:
        om.apply(OrderUpdate(order=executed, fill=None))

    world.run(deliver())
    assert (om.inventory_lots(SYMBOL), om.exposure_lots(SYMBOL)) == (0, -400)
    world.run(take(world, SimSide.BUY, 400))  # the venue's real fill of 400 ...
    world.run(om.reconcile())  # ... booked by the trade backfill
    assert (om.inventory_lots(SYMBOL), om.exposure_lots(SYMBOL)) == (-400, -400)


class IntentLog:
    """A recorder keeping the client ids of ``bot.intent`` records (what the checker's invariant 8 reads)."""

    enabled = True

    def __init__(self) -> None:
        self.intents: list[str] = []

    def record(self, kind: str, fields: dict[str, Any]) -> None:
        if kind == "bot.intent":
            self.intents.append(str(fields["c"]))


class SlowFirstAnswer(FlakyVenue):
    """The first placement is executed at once but answered ``hold_s`` later (its slot stays taken)."""

    hold_s = 1.0

    async def place(self, order: NewOrder) -> Any:
        result = await self.inner.place(order)
        if self.calls.setdefault("slow", 0) == 0:
            self.calls["slow"] = 1
            await asyncio.sleep(self.hold_s)
        return result


def test_an_order_that_waited_for_a_slot_is_rechecked_before_its_intent_and_its_send(world: SimWorld) -> None:
    """An order decided while the guard was OK waited for a free slot; the HARD guard fired meanwhile. It must
    not be recorded as an intent nor sent after the guard (invariant 8: ``new order under the HARD guard``)."""
    halted = [False]

    def recheck(order: NewOrder) -> None:
        if halted[0]:
            raise BotError(ErrorCode.HALTED, f"guard_level: HARD, no new orders ({order.client_order_id})")

    venue = SlowFirstAnswer(sim_connector(world, BOT))
    info = {s.symbol: s for s in world.run(venue.symbols())}
    log = IntentLog()
    om = OrderManager(venue, StateStore(":memory:"), LoopClock(), ExecutionConfig(max_in_flight=1),
                      info, recheck=recheck, recorder=log, rng=random.Random(0))

    async def main() -> BotError:
        first = asyncio.ensure_future(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(om.place(SYMBOL, Side.BUY, 1_000, 9_990))  # decided now, waits for the slot
        await asyncio.sleep(0.5)
        halted[0] = True  # the HARD guard fires while the second order waits
        await first
        with pytest.raises(BotError) as error:
            await second
        return error.value

    assert world.run(main()).code is ErrorCode.HALTED
    assert len(log.intents) == 1  # only the order that went out before the guard
    assert [o.price_ticks for o in world.engine.open_orders(BOT, SYMBOL)] == [10_000]


def test_the_user_stream_subscribes_again_only_after_a_reconcile_succeeded(world: SimWorld,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Chaos seed 431: after a stream gap the re-read failed (the bot's own limiter refused it) and the bot
    subscribed again anyway; a failed reconcile is retried first."""
    om, venue = make_om(world, StateStore(":memory:"))
    calls: list[str] = []
    outcomes = [False, False, True]  # the first two reconciles fail

    async def user_events() -> Any:
        calls.append("subscribe")
        if False:  # pragma: no cover - makes this an async generator
            yield None
        raise BotError(ErrorCode.NETWORK, "stream lost")

    async def reconcile(symbols: Any = None) -> None:
        ok = outcomes.pop(0) if outcomes else True
        calls.append("reconcile ok" if ok else "reconcile failed")
        if not ok:
            raise BotError(ErrorCode.RATE_LIMITED, "weight budget spent")

    monkeypatch.setattr(venue, "user_events", user_events, raising=False)
    monkeypatch.setattr(om, "reconcile", reconcile)

    async def main() -> None:
        stream = asyncio.ensure_future(om.run_user_stream())
        await asyncio.sleep(5.0)
        stream.cancel()

    world.run(main())
    assert calls[:5] == ["subscribe", "reconcile failed", "reconcile failed", "reconcile ok", "subscribe"]


def test_an_order_traded_through_with_no_report_is_queried_after_the_grace(world: SimWorld) -> None:
    """Chaos seed 806: the user stream was silent; the fills showed only as public prints through the bids."""
    om, _ = make_om(world, StateStore(":memory:"), silent_fill_grace_s=1.0)

    async def main() -> tuple[OrderStatus, OrderStatus]:
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)  # no user stream runs: fills go unreported
        await take(world, SimSide.SELL, 1_000)
        om.traded_through(record.client_order_id)
        om.traded_through(record.client_order_id)  # a second print: still one check
        await asyncio.sleep(0.5)
        before = om._get(record.client_order_id).status
        await asyncio.sleep(1.0)
        return before, om._get(record.client_order_id).status

    before, after = world.run(main())
    assert (before, after) == (OrderStatus.NEW, OrderStatus.FILLED)
    assert om.stats.silent_fill_checks == 1
    assert om.exposure_lots(SYMBOL) == 1_000


def test_an_order_whose_fill_was_reported_in_the_grace_is_not_queried(world: SimWorld) -> None:
    om, _ = make_om(world, StateStore(":memory:"), silent_fill_grace_s=1.0)

    async def main() -> None:
        stream = asyncio.ensure_future(om.run_user_stream())
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        await take(world, SimSide.SELL, 1_000)
        om.traded_through(record.client_order_id)  # the print and the report race: here the print is first
        await asyncio.sleep(2.0)
        stream.cancel()

    world.run(main())
    assert om.stats.silent_fill_checks == 0
    assert om.inventory_lots(SYMBOL) == 1_000


def test_a_refused_cancel_replace_does_not_reopen_an_order_that_filled_meanwhile(world: SimWorld) -> None:
    """Chaos seed 7: the refusal's error path restored the old status over the FILLED record, the quoter then saw a
    NEW order with nothing left (its task failed) and the order was cancelled and booked FILLED twice."""
    om, venue = make_om(world, StateStore(":memory:"), retry_max_attempts=1)

    async def fill_it() -> None:
        await take(world, SimSide.SELL, 1_000)
        await asyncio.sleep(0.1)  # the user stream delivers the fill before the refusal arrives

    async def main() -> OrderStatus:
        stream = asyncio.ensure_future(om.run_user_stream())
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        venue.faults["cancel_replace"] = ["filled_then_refused"]
        venue.on_refusal = fill_it
        with pytest.raises(BotError):
            await om.cancel_replace(record.client_order_id, 9_999)
        stream.cancel()
        return om._get(record.client_order_id).status

    assert world.run(main()) is OrderStatus.FILLED
    assert om.open_orders(SYMBOL) == []


def test_a_doubtful_order_at_a_desired_price_is_not_doubled(world: SimWorld) -> None:
    """The loopback swarm's seed 2: a cancel and its queries were lost; after the heal the same quote was placed
    again while the first order still rested (invariant 14)."""
    om, venue = make_om(world, StateStore(":memory:"))

    async def main() -> None:
        record = await om.place(SYMBOL, Side.BUY, 100, 10_000)
        om._save(record.with_status(OrderStatus.UNKNOWN, record.updated_ms))  # its fate is in doubt
        await om.replace_quotes(SYMBOL, [Quote(side=Side.BUY, price_ticks=10_000, qty_lots=100)])

    world.run(main())
    assert venue.calls["place"] == 1
    assert len(world.engine.open_orders(BOT, SYMBOL)) == 1
