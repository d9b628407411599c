"""SimConnector: the simulated venue seen through the bot's ``Venue`` protocol, in bot types only.

Most tests run in a quiet market (no background flow, so the book is empty) with two accounts: ``BOT``, whose
connector is under test, and ``TAKER``, a counterparty the test drives through its own connector. Stream tests
that need a moving book use the default market. Everything runs in virtual time.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import aclosing
from decimal import Decimal

import pytest

from bot.connectors.sim import SimConnector
from bot.core.errors import BotError, ErrorCode
from bot.core.types import (
    Balance,
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
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld

BOT = AccountId("bot")
TAKER = AccountId("taker")
SYMBOL = "BTCUSDT"
PRICE = 12_000  # ticks of 5 USDT: 60,000 USDT
BASE_ATOMS_PER_LOT = 1_000  # step 0.00001 BTC
QUOTE_ATOMS_PER_TICK_LOT = 5_000  # 5 USDT * 0.00001
MAKER_FEE_PPM = 100
TAKER_FEE_PPM = 700
FIXED = LatencyConfig(request_floor_ms=5, request_median_ms=0, feed_floor_ms=2, feed_median_ms=0)
SLOW = LatencyConfig(request_floor_ms=10_000, request_median_ms=0, feed_floor_ms=2, feed_median_ms=0)
QUIET = {"calm": {"lp_rate_per_s": 1e-9, "market_rate_per_s": 1e-9, "informed_rate_per_s": 0.0,
                  "lp_requote_rate_per_s": 0.0, "hawkes_alpha_per_s": 0.0}}


def make_world(*, quiet: bool = True, latency: LatencyConfig = FIXED, seed: int = 1) -> SimWorld:
    market = MarketConfig(symbols=(SYMBOL,), regime_overrides=QUIET if quiet else {})
    world = SimWorld(seed=seed, duration_s=600, market=market, latency=latency)
    world.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT},
                             maker_fee_ppm=MAKER_FEE_PPM, taker_fee_ppm=TAKER_FEE_PPM)
    world.venue.open_account(TAKER, {"BTC": 100 * ATOMS_PER_UNIT, "USDT": 10_000_000 * ATOMS_PER_UNIT})
    return world


@pytest.fixture
def world() -> Iterator[SimWorld]:
    w = make_world()
    yield w
    w.close()


def connect(world: SimWorld, account: AccountId = BOT, **kwargs: float) -> SimConnector:
    return SimConnector(world.venue.connect(account), **kwargs)


def maker(cid: str, side: Side, lots: int, price: int = PRICE) -> NewOrder:
    return NewOrder(symbol=SYMBOL, side=side, type=OrderType.LIMIT_MAKER, qty_lots=lots, price_ticks=price,
                    client_order_id=ClientOrderId(cid))


def market(cid: str, side: Side, lots: int) -> NewOrder:
    return NewOrder(symbol=SYMBOL, side=side, type=OrderType.MARKET, qty_lots=lots, client_order_id=ClientOrderId(cid))


def test_sim_connector_is_a_venue(world: SimWorld) -> None:
    venue: Venue = connect(world)
    assert venue.name == "sim"


def test_symbols_translate_with_exact_filters(world: SimWorld) -> None:
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
    assert open_orders == [placed]
    assert placed.status is OrderStatus.NEW
    assert placed.client_order_id == "bid-1"
    assert (placed.side, placed.price_ticks, placed.orig_qty_lots) == (Side.BUY, PRICE, 100)


def test_returned_values_carry_bot_enums_not_engine_enums(world: SimWorld) -> None:
    """Engine and bot enums are both StrEnums with equal values, so ``==`` would not catch a missed translation."""
    order = world.run(connect(world).place(maker("bid-1", Side.BUY, 100)))
    assert type(order.side) is Side
    assert type(order.type) is OrderType
    assert type(order.status) is OrderStatus


def test_post_only_that_would_cross_is_rejected_as_would_take(world: SimWorld) -> None:
    async def main() -> None:
        await connect(world, TAKER).place(maker("ask-1", Side.SELL, 100))
        await connect(world).place(maker("bid-1", Side.BUY, 100))

    with pytest.raises(BotError) as error:
        world.run(main())
    assert error.value.code is ErrorCode.WOULD_TAKE
    assert not error.value.recoverable


def test_order_beyond_the_balance_is_rejected_as_insufficient_balance(world: SimWorld) -> None:
    with pytest.raises(BotError) as error:
        world.run(connect(world).place(maker("bid-1", Side.BUY, 1_000_000)))  # 600,000 USDT of 100,000
    assert error.value.code is ErrorCode.INSUFFICIENT_BALANCE
    assert not error.value.recoverable


def test_cancel_by_client_id_returns_the_canceled_order(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> tuple[VenueOrder, list[VenueOrder]]:
        await bot.place(maker("bid-1", Side.BUY, 100))
        return await bot.cancel(SYMBOL, ClientOrderId("bid-1")), await bot.open_orders()

    canceled, open_orders = world.run(main())
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.client_order_id == "bid-1"
    assert open_orders == []


def test_cancel_of_an_unknown_order_raises_unknown_order(world: SimWorld) -> None:
    with pytest.raises(BotError) as error:
        world.run(connect(world).cancel(SYMBOL, ClientOrderId("nope")))
    assert error.value.code is ErrorCode.UNKNOWN_ORDER


def test_query_by_client_id_returns_the_order_with_its_fills_counted(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> VenueOrder:
        await bot.place(maker("bid-1", Side.BUY, 100))
        await connect(world, TAKER).place(market("t-1", Side.SELL, 30))
        return await bot.query(SYMBOL, ClientOrderId("bid-1"))

    order = world.run(main())
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.executed_qty_lots == 30
    assert order.cum_quote_atoms == PRICE * 30 * QUOTE_ATOMS_PER_TICK_LOT


def test_query_of_an_unknown_order_raises_unknown_order(world: SimWorld) -> None:
    with pytest.raises(BotError) as error:
        world.run(connect(world).query(SYMBOL, ClientOrderId("nope")))
    assert error.value.code is ErrorCode.UNKNOWN_ORDER


def test_self_trade_prevention_expiry_reads_as_expired(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> VenueOrder:
        await bot.place(maker("bid-1", Side.BUY, 100))
        await bot.place(market("sell-1", Side.SELL, 100))  # would trade with our own bid
        return await bot.query(SYMBOL, ClientOrderId("bid-1"))

    order = world.run(main())
    assert order.status is OrderStatus.EXPIRED
    assert order.executed_qty_lots == 0


def test_balances_show_what_a_resting_order_locks(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> dict[str, Balance]:
        await bot.place(maker("bid-1", Side.BUY, 100))
        return await bot.balances()

    balances = world.run(main())
    locked = PRICE * 100 * QUOTE_ATOMS_PER_TICK_LOT
    assert balances["USDT"] == Balance(100_000 * ATOMS_PER_UNIT - locked, locked)
    assert balances["BTC"] == Balance(ATOMS_PER_UNIT, 0)


def test_server_time_is_the_venue_clock_when_the_request_arrives(world: SimWorld) -> None:
    assert world.run(connect(world).server_time_ms()) == 5  # one 5 ms one-way delay after t=0


def test_fills_after_a_cross_are_reported_once_each_from_the_accounts_side(world: SimWorld) -> None:
    bot, taker = connect(world), connect(world, TAKER)

    async def main() -> tuple[list[Fill], list[Fill]]:
        await bot.place(maker("bid-1", Side.BUY, 100))
        await taker.place(market("t-1", Side.SELL, 100))  # bot is the maker
        await taker.place(maker("t-bid", Side.BUY, 40, price=PRICE - 2))
        await bot.place(market("sell-1", Side.SELL, 40))  # bot is the taker
        return await bot.fills(SYMBOL), await bot.fills(SYMBOL)

    first, again = world.run(main())
    assert first == again
    bought, sold = first
    assert (bought.client_order_id, bought.side, bought.is_maker, bought.qty_lots) == (
        "bid-1", Side.BUY, True, 100)
    assert (bought.fee_asset, bought.fee_atoms) == (
        "BTC", 100 * BASE_ATOMS_PER_LOT * MAKER_FEE_PPM // 1_000_000)
    sold_quote = (PRICE - 2) * 40 * QUOTE_ATOMS_PER_TICK_LOT
    assert (sold.client_order_id, sold.side, sold.is_maker, sold.quote_atoms) == (
        "sell-1", Side.SELL, False, sold_quote)
    assert (sold.fee_asset, sold.fee_atoms) == ("USDT", sold_quote * TAKER_FEE_PPM // 1_000_000)
    assert bought.trade_id < sold.trade_id


def test_fills_page_through_more_than_one_thousand_trades_oldest_first(world: SimWorld) -> None:
    bot, taker = connect(world), connect(world, TAKER)
    client = world.venue.connect(BOT)
    reader = SimConnector(client)

    async def main() -> tuple[list[Fill], list[Fill], int]:
        await bot.place(maker("bid-1", Side.BUY, 1_200 * 10))
        await asyncio.gather(*(taker.place(market(f"t-{i}", Side.SELL, 10)) for i in range(1_200)))
        requests_before = client.requests
        everything = await reader.fills(SYMBOL)
        requests = client.requests - requests_before
        return everything, await reader.fills(SYMBOL, TradeId(everything[1_100].trade_id)), requests

    everything, tail, requests = world.run(main())
    trade_ids = [f.trade_id for f in everything]
    assert len(everything) == 1_200
    assert trade_ids == sorted(set(trade_ids))
    assert tail == everything[1_100:]
    assert requests == 3  # two pages of myTrades, one getOrder for the client id of an order never seen


def test_fills_of_an_order_this_connection_never_saw_carry_its_client_id(world: SimWorld) -> None:
    async def main() -> list[Fill]:
        await connect(world).place(maker("bid-1", Side.BUY, 100))
        await connect(world, TAKER).place(market("t-1", Side.SELL, 100))
        return await connect(world).fills(SYMBOL)

    (fill,) = world.run(main())
    assert fill.client_order_id == "bid-1"


def test_user_events_yield_new_then_trades_whose_fills_sum_to_the_executed_qty(world: SimWorld) -> None:
    bot, taker = connect(world), connect(world, TAKER)

    async def main() -> list[OrderUpdate]:
        updates: list[OrderUpdate] = []
        async with aclosing(bot.user_events()) as events:
            await bot.place(maker("bid-1", Side.BUY, 100))
            await taker.place(market("t-1", Side.SELL, 30))
            await taker.place(market("t-2", Side.SELL, 70))
            async with asyncio.timeout(5):
                async for event in events:
                    if isinstance(event, OrderUpdate):
                        updates.append(event)
                        if event.order.status is OrderStatus.FILLED:
                            break
        return updates

    updates = world.run(main())
    assert [u.order.status for u in updates] == [OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert updates[0].fill is None
    fills = [u.fill for u in updates[1:] if u.fill is not None]
    assert [f.qty_lots for f in fills] == [30, 70]
    assert sum(f.qty_lots for f in fills) == updates[-1].order.executed_qty_lots == 100
    assert all(f.is_maker and f.client_order_id == "bid-1" and f.side is Side.BUY for f in fills)


def test_depth_update_ids_are_contiguous() -> None:
    world = make_world(quiet=False, seed=7)
    bot = connect(world)

    async def main() -> list[DepthUpdate]:
        got: list[DepthUpdate] = []
        async with aclosing(bot.depth_updates(SYMBOL)) as updates:
            async for update in updates:
                got.append(update)
                if len(got) == 30:
                    break
        return got

    got = world.run(main())
    world.close()
    assert all(type(u) is DepthUpdate and u.symbol == SYMBOL for u in got)
    for prev, nxt in itertools.pairwise(got):
        assert nxt.first_update_id == prev.last_update_id + 1


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
        return got

    got = world.run(main())
    world.close()
    assert all(type(t) is PublicTrade and t.qty_lots > 0 for t in got)
    assert [t.trade_id for t in got] == sorted({t.trade_id for t in got})


def test_a_stream_closes_its_subscription_when_the_consumer_stops(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> tuple[int, int]:
        events = bot.user_events()
        opened = bot.open_streams
        await events.aclose()
        return opened, bot.open_streams

    assert world.run(main()) == (1, 0)


def test_a_stream_the_consumer_breaks_out_of_and_drops_is_closed(world: SimWorld) -> None:
    bot = connect(world)

    async def main() -> int:
        events = bot.user_events()
        await bot.place(maker("bid-1", Side.BUY, 100))
        async for _ in events:
            break
        del events
        return bot.open_streams

    assert world.run(main()) == 0


def test_close_ends_every_stream_its_consumers_are_reading(world: SimWorld) -> None:
    bot = connect(world)

    async def consume() -> int:
        return sum([1 async for _ in bot.depth_updates(SYMBOL)])

    async def main() -> int:
        reader = asyncio.create_task(consume())
        await asyncio.sleep(1)
        await bot.close()
        return await reader

    assert world.run(main()) == 0  # the quiet book never changed
    assert bot.open_streams == 0


def test_a_stream_of_an_unknown_symbol_raises_bad_symbol(world: SimWorld) -> None:
    with pytest.raises(BotError) as error:
        connect(world).depth_updates("NOPEUSDT")
    assert error.value.code is ErrorCode.BAD_SYMBOL


def test_a_place_without_an_answer_in_time_has_an_unknown_outcome() -> None:
    world = make_world(latency=SLOW)
    with pytest.raises(BotError) as error:
        world.run(connect(world).place(maker("bid-1", Side.BUY, 100)))
    world.close()
    assert error.value.code is ErrorCode.UNKNOWN_OUTCOME
    assert error.value.outcome_unknown


def test_a_read_without_an_answer_in_time_is_a_recoverable_network_error() -> None:
    world = make_world(latency=SLOW)
    with pytest.raises(BotError) as error:
        world.run(connect(world).open_orders())
    world.close()
    assert error.value.code is ErrorCode.NETWORK
    assert error.value.recoverable


def test_a_place_that_timed_out_after_arriving_was_executed() -> None:
    world = make_world(latency=SLOW)

    async def main() -> VenueOrder:
        with pytest.raises(BotError) as error:
            await connect(world, request_timeout_s=15).place(maker("bid-1", Side.BUY, 100))  # arrives at 10 s
        assert error.value.code is ErrorCode.UNKNOWN_OUTCOME
        return await connect(world, request_timeout_s=60).query(SYMBOL, ClientOrderId("bid-1"))

    order = world.run(main())
    world.close()
    assert order.status is OrderStatus.NEW


def test_limit_orders_keep_their_time_in_force(world: SimWorld) -> None:
    ioc = NewOrder(symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT, qty_lots=100, price_ticks=PRICE,
                   time_in_force=TimeInForce.IOC, client_order_id=ClientOrderId("ioc-1"))
    order = world.run(connect(world).place(ioc))
    assert order.status is OrderStatus.EXPIRED  # nothing to take in the empty book: an IOC never rests
