"""BinanceConnector over the in-process transport: the simulated venue seen through the connector that trades real
money, in bot types only, in virtual time.

Most tests run in a quiet market (no background flow, so the book is empty) with two accounts: ``BOT``, whose
connector is under test, and ``TAKER``, a counterparty the test drives through the venue's own client (it is not
under test, and its bursts must not meet the connector's order budget). Stream tests that need a moving book use
the default market. Faults (stream reset, timeouts, partition, 429, clock skew) and the digest are in
``test_inprocess_transport_faults``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import aclosing
from decimal import Decimal
from pathlib import Path

import pytest

from bot.connectors.binance.connector import BinanceConnector
from bot.core.errors import BotError, ErrorCode
from bot.core.types import (
    Balance,
    BookSnapshot,
    ClientOrderId,
    DepthUpdate,
    Fill,
    NewOrder,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PublicTrade,
    Side,
    SymbolInfo,
    TimeInForce,
    TradeId,
    VenueOrder,
)
from bot.interfaces import Venue
from exchange_sim.engine import types as sim
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from harness.session_venue import sim_connector

BOT = AccountId("bot")
TAKER = AccountId("taker")
SYMBOL = "BTCUSDT"
PRICE = 12_000  # ticks of 5 USDT: 60,000 USDT
BASE_ATOMS_PER_LOT = 1_000  # step 0.00001 BTC
QUOTE_ATOMS_PER_TICK_LOT = 5_000  # 5 USDT * 0.00001
MAKER_FEE_PPM = 100
TAKER_FEE_PPM = 700
FIXED = LatencyConfig(request_floor_ms=5, request_median_ms=0, feed_floor_ms=2, feed_median_ms=0)
QUIET = {"calm": {"lp_rate_per_s": 1e-9, "market_rate_per_s": 1e-9, "informed_rate_per_s": 0.0,
                  "lp_requote_rate_per_s": 0.0, "hawkes_alpha_per_s": 0.0}}


def make_world(*, quiet: bool = True, latency: LatencyConfig = FIXED, seed: int = 1,
               log_path: Path | None = None) -> SimWorld:
    market = MarketConfig(symbols=(SYMBOL,), regime_overrides=QUIET if quiet else {})
    world = SimWorld(seed=seed, duration_s=600, market=market, latency=latency, log_path=log_path)
    world.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT},
                             maker_fee_ppm=MAKER_FEE_PPM, taker_fee_ppm=TAKER_FEE_PPM)
    world.venue.open_account(TAKER, {"BTC": 100 * ATOMS_PER_UNIT, "USDT": 10_000_000 * ATOMS_PER_UNIT})
    return world


@pytest.fixture
def world() -> Iterator[SimWorld]:
    w = make_world()
    yield w
    w.close()


def connect(world: SimWorld, *, request_timeout_s: float = 5.0) -> BinanceConnector:
    connector: BinanceConnector = sim_connector(world, BOT, request_timeout_s=request_timeout_s)
    return connector


def maker(cid: str, side: Side, lots: int, price: int = PRICE) -> NewOrder:
    return NewOrder(symbol=SYMBOL, side=side, type=OrderType.LIMIT_MAKER, qty_lots=lots, price_ticks=price,
                    client_order_id=ClientOrderId(cid))


def market(cid: str, side: Side, lots: int) -> NewOrder:
    return NewOrder(symbol=SYMBOL, side=side, type=OrderType.MARKET, qty_lots=lots, client_order_id=ClientOrderId(cid))


async def taker(world: SimWorld, order: NewOrder) -> None:
    """The counterparty sends ``order`` through the venue's own client."""
    await world.venue.connect(TAKER).place(sim.PlaceRequest(
        account=TAKER, symbol=SYMBOL, side=sim.Side(order.side.value), type=sim.OrderType(order.type.value),
        qty_lots=order.qty_lots, price_ticks=order.price_ticks,
        client_order_id=sim.ClientOrderId(order.client_order_id)))


# -- requests --
def test_the_connector_over_the_in_process_transport_is_a_venue(world: SimWorld) -> None:
    venue: Venue = connect(world)
    assert venue.name == "sim"


def test_symbols_parse_with_exact_filters(world: SimWorld) -> None:
    symbols = world.run(connect(world).symbols())
    assert symbols == [SymbolInfo(symbol=SYMBOL, base_asset="BTC", quote_asset="USDT", tick_size=Decimal("5.00"),
                                  step_size=Decimal("0.00001"), min_notional=Decimal("5"), min_qty_lots=1,
                                  max_qty_lots=10**12)]


def test_limit_maker_rests_and_returns_new_with_the_given_client_id(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> tuple[VenueOrder, list[VenueOrder]]:
        placed = await bot.place(maker("bid-1", Side.BUY, 100))
        return placed, await bot.open_orders(SYMBOL)

    placed, open_orders = world.run(main())
    assert [o.client_order_id for o in open_orders] == [placed.client_order_id] == ["bid-1"]
    assert placed.status is OrderStatus.NEW and type(placed.status) is OrderStatus
    assert (placed.side, placed.price_ticks, placed.orig_qty_lots) == (Side.BUY, PRICE, 100)
    assert world.engine.get_order(BOT, SYMBOL, client_order_id=sim.ClientOrderId("bid-1")).price_ticks == PRICE


def test_post_only_that_would_cross_is_rejected_as_would_take(world: SimWorld) -> None:
    async def main() -> None:
        await taker(world, maker("ask-1", Side.SELL, 100))
        await connect(world).place(maker("bid-1", Side.BUY, 100))

    with pytest.raises(BotError) as error:
        world.run(main())
    assert error.value.code is ErrorCode.WOULD_TAKE and not error.value.recoverable


def test_order_beyond_the_balance_is_rejected_as_insufficient_balance(world: SimWorld) -> None:
    with pytest.raises(BotError) as error:
        world.run(connect(world).place(maker("bid-1", Side.BUY, 1_000_000)))  # 600,000 USDT of 100,000
    assert error.value.code is ErrorCode.INSUFFICIENT_BALANCE and not error.value.recoverable


def test_cancel_by_client_id_returns_the_canceled_order(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> tuple[VenueOrder, list[VenueOrder]]:
        await bot.place(maker("bid-1", Side.BUY, 100))
        return await bot.cancel(SYMBOL, ClientOrderId("bid-1")), await bot.open_orders()

    canceled, open_orders = world.run(main())
    assert (canceled.status, canceled.client_order_id) == (OrderStatus.CANCELED, "bid-1")
    assert open_orders == []


def test_cancel_and_query_of_an_unknown_order_raise_unknown_order(world: SimWorld) -> None:
    bot = connect(world)
    for call in (bot.cancel, bot.query):
        with pytest.raises(BotError) as error:
            world.run(call(SYMBOL, ClientOrderId("nope")))
        assert error.value.code is ErrorCode.UNKNOWN_ORDER


def test_query_by_client_id_returns_the_order_with_its_fills_counted(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> VenueOrder:
        await bot.place(maker("bid-1", Side.BUY, 100))
        await taker(world, market("t-1", Side.SELL, 30))
        return await bot.query(SYMBOL, ClientOrderId("bid-1"))

    order = world.run(main())
    assert (order.status, order.executed_qty_lots) == (OrderStatus.PARTIALLY_FILLED, 30)
    assert order.cum_quote_atoms == PRICE * 30 * QUOTE_ATOMS_PER_TICK_LOT


def test_self_trade_prevention_expiry_reads_as_expired(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> VenueOrder:
        await bot.place(maker("bid-1", Side.BUY, 100))
        await bot.place(market("sell-1", Side.SELL, 100))  # would trade with our own bid
        return await bot.query(SYMBOL, ClientOrderId("bid-1"))

    order = world.run(main())
    assert (order.status, order.executed_qty_lots) == (OrderStatus.EXPIRED, 0)


def test_an_ioc_limit_keeps_its_time_in_force_and_never_rests(world: SimWorld) -> None:
    ioc = NewOrder(symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT, qty_lots=100, price_ticks=PRICE,
                   time_in_force=TimeInForce.IOC, client_order_id=ClientOrderId("ioc-1"))
    assert world.run(connect(world).place(ioc)).status is OrderStatus.EXPIRED  # nothing to take in the empty book


def test_balances_show_what_a_resting_order_locks(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> dict[str, Balance]:
        await bot.place(maker("bid-1", Side.BUY, 100))
        return await bot.balances()

    balances = world.run(main())
    locked = PRICE * 100 * QUOTE_ATOMS_PER_TICK_LOT
    assert balances["USDT"] == Balance(100_000 * ATOMS_PER_UNIT - locked, locked)
    assert balances["BTC"] == Balance(ATOMS_PER_UNIT, 0)


def test_fills_after_a_cross_are_reported_once_each_from_the_accounts_side(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> tuple[list[Fill], list[Fill]]:
        await bot.place(maker("bid-1", Side.BUY, 100))
        await taker(world, market("t-1", Side.SELL, 100))  # bot is the maker
        await taker(world, maker("t-bid", Side.BUY, 40, price=PRICE - 2))
        await bot.place(market("sell-1", Side.SELL, 40))  # bot is the taker
        return await bot.fills(SYMBOL), await bot.fills(SYMBOL)

    first, again = world.run(main())
    assert first == again
    bought, sold = first
    assert (bought.client_order_id, bought.side, bought.is_maker, bought.qty_lots) == ("bid-1", Side.BUY, True, 100)
    assert (bought.fee_asset, bought.fee_atoms) == ("BTC", 100 * BASE_ATOMS_PER_LOT * MAKER_FEE_PPM // 1_000_000)
    sold_quote = (PRICE - 2) * 40 * QUOTE_ATOMS_PER_TICK_LOT
    assert (sold.client_order_id, sold.side, sold.is_maker, sold.quote_atoms) == ("sell-1", Side.SELL, False,
                                                                                  sold_quote)
    assert (sold.fee_asset, sold.fee_atoms) == ("USDT", sold_quote * TAKER_FEE_PPM // 1_000_000)
    assert bought.trade_id < sold.trade_id


def test_fills_page_through_more_than_one_thousand_trades_oldest_first(world: SimWorld) -> None:
    bot = connect(world)
    client = world.venue.connect(BOT)
    reader: BinanceConnector = sim_connector(world, BOT, client)  # a second process: it never saw the order

    async def main() -> tuple[list[Fill], list[Fill], int]:
        await reader.symbols()  # rules and server time first, so only the fills' requests are counted
        await bot.place(maker("bid-1", Side.BUY, 1_200 * 10))
        await asyncio.gather(*(taker(world, market(f"t-{i}", Side.SELL, 10)) for i in range(1_200)))
        requests_before = client.requests
        everything = await reader.fills(SYMBOL)
        requests = client.requests - requests_before
        return everything, await reader.fills(SYMBOL, TradeId(everything[1_100].trade_id)), requests

    everything, tail, requests = world.run(main())
    trade_ids = [f.trade_id for f in everything]
    assert len(everything) == 1_200 and trade_ids == sorted(set(trade_ids))
    assert tail == everything[1_100:]
    assert all(f.client_order_id == "bid-1" for f in everything)
    assert requests == 3  # two pages of myTrades, one query for the client id of an order never seen


# -- streams --
def test_user_events_yield_new_then_trades_whose_fills_sum_to_the_executed_qty(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> list[OrderUpdate]:
        updates: list[OrderUpdate] = []
        async with aclosing(bot.user_events()) as events:
            await asyncio.sleep(0.1)  # subscribed
            await bot.place(maker("bid-1", Side.BUY, 100))
            await taker(world, market("t-1", Side.SELL, 30))
            await taker(world, market("t-2", Side.SELL, 70))
            async with asyncio.timeout(5):
                async for event in events:
                    if isinstance(event, OrderUpdate):
                        updates.append(event)
                        if event.order.status is OrderStatus.FILLED:
                            break
        await bot.close()
        return updates

    updates = world.run(main())
    assert [u.order.status for u in updates] == [OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert updates[0].fill is None
    fills = [u.fill for u in updates[1:] if u.fill is not None]
    assert [f.qty_lots for f in fills] == [30, 70]
    assert sum(f.qty_lots for f in fills) == updates[-1].order.executed_qty_lots == 100
    assert all(f.is_maker and f.client_order_id == "bid-1" and f.side is Side.BUY for f in fills)


def test_a_depth_snapshot_taken_after_subscribing_is_bridged_by_contiguous_diffs() -> None:
    world = make_world(quiet=False, seed=7)
    bot = connect(world)

    async def main() -> tuple[BookSnapshot, list[DepthUpdate]]:
        got: list[DepthUpdate] = []
        async with aclosing(bot.depth_updates(SYMBOL)) as updates:
            snapshot = await bot.book(SYMBOL, limit=1000)  # waits for the stream to connect first
            async for update in updates:
                got.append(update)
                if len(got) == 30:
                    break
        await bot.close()
        return snapshot, got

    snapshot, got = world.run(main())
    world.close()
    assert snapshot.bids and snapshot.asks
    assert all(type(u) is DepthUpdate and u.symbol == SYMBOL for u in got)
    for prev, nxt in itertools.pairwise(got):
        assert nxt.first_update_id == prev.last_update_id + 1
    newer = [u for u in got if u.last_update_id > snapshot.last_update_id]
    assert got[0].first_update_id <= snapshot.last_update_id + 1  # nothing between subscribing and the snapshot
    assert newer and newer[0].first_update_id <= snapshot.last_update_id + 1 <= newer[0].last_update_id


def test_public_trades_arrive_in_trade_id_order() -> None:
    world = make_world(quiet=False, seed=7)
    bot = connect(world)

    async def main() -> list[PublicTrade]:
        got: list[PublicTrade] = []
        async with aclosing(bot.public_trades(SYMBOL)) as trades:
            async for trade in trades:
                got.append(trade)
                if len(got) == 20:
                    break
        await bot.close()
        return got

    got = world.run(main())
    world.close()
    assert all(type(t) is PublicTrade and t.qty_lots > 0 for t in got)
    assert [t.trade_id for t in got] == sorted({t.trade_id for t in got})


def test_a_stream_the_consumer_closes_is_forgotten_and_close_ends_the_rest(world: SimWorld) -> None:
    bot = connect(world)

    async def consume() -> int:
        return sum([1 async for _ in bot.depth_updates(SYMBOL)])

    async def main() -> tuple[int, int, int]:
        events = bot.user_events()
        reader = asyncio.create_task(consume())
        await asyncio.sleep(1)
        opened = bot.open_streams
        await events.aclose()
        after_aclose = bot.open_streams
        await bot.close()
        return opened, after_aclose, await reader

    assert world.run(main()) == (2, 1, 0)  # the quiet book never changed
    assert bot.open_streams == 0
