"""BinanceConnector over REST (aioresponses): every error path classified as the order manager expects.

A fake venue at ``http://venue.test`` answers ``time`` and ``exchangeInfo``; each test mocks the one endpoint
it is about and counts what was sent. Time is a ``FakeClock`` (nothing waits on the wall clock except the
millisecond retry backoffs and the timeout test's 0.1 s bound).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

from bot.connectors.binance import BinanceConnector
from bot.connectors.binance.limiter import Priority
from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, NewOrder, OrderStatus, OrderType, Side, TradeId
from bot.interfaces import Venue
from tests.fakes import FakeClock
from tests.unit.binance_fixtures import (
    API_KEY,
    API_SECRET,
    CREDENTIALS,
    EXCHANGE_INFO,
    SERVER_MS,
    config,
    mocked_venue,
    order_json,
)

ORDER_URL = re.compile(r"^http://venue\.test/api/v3/order\?.*$")
CANCEL_REPLACE_URL = re.compile(r"^http://venue\.test/api/v3/order/cancelReplace\?.*$")
TIME_URL = re.compile(r"^http://venue\.test/api/v3/time.*$")
INFO_URL = re.compile(r"^http://venue\.test/api/v3/exchangeInfo.*$")
DEPTH_URL = re.compile(r"^http://venue\.test/api/v3/depth\?.*$")
ORDER = NewOrder(symbol="BTCUSDT", side=Side.BUY, type=OrderType.LIMIT_MAKER, qty_lots=1000, price_ticks=6_000_001,
                 client_order_id=ClientOrderId("mm-1"))


@pytest.fixture
def venue() -> Iterator[aioresponses]:
    with mocked_venue() as mock:
        mock.get(TIME_URL, payload={"serverTime": SERVER_MS}, repeat=True)
        mock.get(INFO_URL, payload=EXCHANGE_INFO, repeat=True)
        yield mock


@pytest.fixture
async def connector() -> AsyncIterator[BinanceConnector]:
    conn = BinanceConnector(config(), CREDENTIALS, clock=FakeClock(1000.0))
    yield conn
    await conn.close()


def sent(mock: aioresponses, method: str, path: str) -> list[dict[str, str]]:
    """The query parameters of every request sent to ``path``."""
    return [dict(url.query) for (m, url), calls in mock.requests.items() if m == method and url.path == path
            for _ in calls]


# -- happy paths --
async def test_place_sends_signed_limit_maker_and_returns_the_order(venue: aioresponses,
                                                                    connector: BinanceConnector) -> None:
    venue.post(ORDER_URL, payload=order_json())
    order = await connector.place(ORDER)
    assert (order.status, order.price_ticks, order.orig_qty_lots, order.client_order_id) == (
        OrderStatus.NEW, 6_000_001, 1000, "mm-1")
    [query] = sent(venue, "POST", "/api/v3/order")
    assert query["type"] == "LIMIT_MAKER" and "timeInForce" not in query
    assert (query["price"], query["quantity"], query["newClientOrderId"]) == ("60000.01", "0.01000", "mm-1")
    assert query["timestamp"] == str(SERVER_MS) and query["recvWindow"] == "5000" and len(query["signature"]) == 64
    [call] = next(calls for (m, url), calls in venue.requests.items() if url.path == "/api/v3/order")
    assert call.kwargs["headers"]["X-MBX-APIKEY"] == API_KEY


async def test_cancel_reports_the_orders_own_client_id(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.delete(ORDER_URL, payload=order_json("cancel-xyz", status="CANCELED", origClientOrderId="mm-1"))
    order = await connector.cancel("BTCUSDT", ClientOrderId("mm-1"))
    assert (order.client_order_id, order.status) == ("mm-1", OrderStatus.CANCELED)
    assert sent(venue, "DELETE", "/api/v3/order")[0]["origClientOrderId"] == "mm-1"


async def test_book_converts_levels_to_ticks_and_lots(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.get(DEPTH_URL, payload={"lastUpdateId": 42, "bids": [["60000.00", "0.50000"]],
                                  "asks": [["60000.01", "0.00002"]]})
    book = await connector.book("BTCUSDT", limit=5)
    assert book.last_update_id == 42
    assert (book.bids[0].price_ticks, book.bids[0].qty_lots) == (6_000_000, 50_000)
    assert (book.asks[0].price_ticks, book.asks[0].qty_lots) == (6_000_001, 2)


async def test_fills_page_through_my_trades_and_look_up_unknown_client_ids(venue: aioresponses,
                                                                          connector: BinanceConnector) -> None:
    trade = {"symbol": "BTCUSDT", "id": 5, "orderId": 9, "orderListId": -1, "price": "60000.00", "qty": "0.001",
             "quoteQty": "60.00", "commission": "0.06", "commissionAsset": "USDT", "time": SERVER_MS,
             "isBuyer": False, "isMaker": True, "isBestMatch": True}
    venue.get(re.compile(r".*/api/v3/myTrades\?.*"), payload=[trade])
    venue.get(ORDER_URL, payload=order_json("mm-9", order_id=9, status="FILLED"))
    [fill] = await connector.fills("BTCUSDT", TradeId(5))
    assert (fill.trade_id, fill.client_order_id, fill.side, fill.is_maker) == (5, "mm-9", Side.SELL, True)
    assert (fill.quote_atoms, fill.fee_atoms, fill.fee_asset) == (60 * 10**8, 6 * 10**6, "USDT")
    assert sent(venue, "GET", "/api/v3/myTrades")[0]["fromId"] == "5"
    assert sent(venue, "GET", "/api/v3/order")[0]["orderId"] == "9"


async def test_balances_and_open_orders(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.get(re.compile(r".*/api/v3/account\?.*"), payload={"balances": [
        {"asset": "USDT", "free": "100.5", "locked": "0.25"}]})
    venue.get(re.compile(r".*/api/v3/openOrders\?.*"), payload=[order_json()])
    balances = await connector.balances()
    assert (balances["USDT"].free_atoms, balances["USDT"].locked_atoms) == (10_050_000_000, 25_000_000)
    [order] = await connector.open_orders("BTCUSDT")
    assert order.client_order_id == "mm-1"


# -- cancel-replace halves --
async def test_cancel_replace_success_returns_both_orders(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.post(CANCEL_REPLACE_URL, payload={
        "cancelResult": "SUCCESS", "newOrderResult": "SUCCESS",
        "cancelResponse": order_json("c-1", status="CANCELED", origClientOrderId="mm-1"),
        "newOrderResponse": order_json("mm-2", order_id=8)})
    outcome = await connector.cancel_replace("BTCUSDT", ClientOrderId("mm-1"), ORDER)
    assert isinstance(outcome.cancel, Exception) is False and isinstance(outcome.new, Exception) is False
    assert outcome.cancel.client_order_id == "mm-1" and outcome.new is not None  # type: ignore[union-attr]
    query = sent(venue, "POST", "/api/v3/order/cancelReplace")[0]
    assert (query["cancelReplaceMode"], query["cancelOrigClientOrderId"]) == ("STOP_ON_FAILURE", "mm-1")


async def test_cancel_replace_2022_cancel_failed_stops_the_new_order(venue: aioresponses,
                                                                     connector: BinanceConnector) -> None:
    venue.post(CANCEL_REPLACE_URL, status=400, payload={
        "code": -2022, "msg": "Order cancel-replace failed.",
        "data": {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                 "cancelResponse": {"code": -2011, "msg": "Unknown order sent."}, "newOrderResponse": None}})
    outcome = await connector.cancel_replace("BTCUSDT", ClientOrderId("mm-1"), ORDER)
    assert isinstance(outcome.cancel, BotError) and outcome.cancel.code is ErrorCode.UNKNOWN_ORDER
    assert outcome.new is None


async def test_cancel_replace_2021_half_success_reports_the_failed_new_order(venue: aioresponses,
                                                                             connector: BinanceConnector) -> None:
    venue.post(CANCEL_REPLACE_URL, status=409, payload={
        "code": -2021, "msg": "Order cancel-replace partially failed.",
        "data": {"cancelResult": "SUCCESS", "newOrderResult": "FAILURE",
                 "cancelResponse": order_json("c-1", status="CANCELED", origClientOrderId="mm-1"),
                 "newOrderResponse": {"code": -2010, "msg": "Order would immediately match and take."}}})
    outcome = await connector.cancel_replace("BTCUSDT", ClientOrderId("mm-1"), ORDER)
    assert not isinstance(outcome.cancel, Exception) and outcome.cancel.status is OrderStatus.CANCELED
    assert isinstance(outcome.new, BotError) and outcome.new.code is ErrorCode.WOULD_TAKE


# -- error paths --
async def test_429_raises_rate_limited_and_nothing_is_sent_before_retry_after(venue: aioresponses) -> None:
    clock = FakeClock(1000.0)
    conn = BinanceConnector(config(), CREDENTIALS, clock=clock)
    venue.post(ORDER_URL, status=429, headers={"Retry-After": "7"}, payload={"code": -1003, "msg": "Too much"})
    venue.post(ORDER_URL, payload=order_json(), repeat=True)
    with pytest.raises(BotError) as caught:
        await conn.place(ORDER)
    assert (caught.value.code, caught.value.retry_after_ms, caught.value.recoverable) == (
        ErrorCode.RATE_LIMITED, 7000, True)
    clock.t += 6.9
    with pytest.raises(BotError) as again:
        await conn.cancel("BTCUSDT", ClientOrderId("mm-1"))  # even a cancel waits for Retry-After
    assert again.value.code is ErrorCode.RATE_LIMITED and again.value.retry_after_ms in (100, 101)
    assert len(sent(venue, "POST", "/api/v3/order")) == 1 and not sent(venue, "DELETE", "/api/v3/order")
    clock.t += 0.2
    assert (await conn.place(ORDER)).status is OrderStatus.NEW
    await conn.close()


async def test_418_is_a_fatal_ban_that_blocks_everything(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.get(DEPTH_URL, status=418, headers={"Retry-After": "120"}, payload={"code": -1003, "msg": "banned"})
    with pytest.raises(BotError) as caught:
        await connector.book("BTCUSDT")
    assert (caught.value.code, caught.value.recoverable, caught.value.retry_after_ms) == (
        ErrorCode.IP_BANNED, False, 120_000)
    with pytest.raises(BotError) as blocked:
        await connector.place(ORDER)
    assert blocked.value.code is ErrorCode.IP_BANNED
    assert len(sent(venue, "GET", "/api/v3/depth")) == 1 and not sent(venue, "POST", "/api/v3/order")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_on_place_is_an_unknown_outcome_never_retried(venue: aioresponses, connector: BinanceConnector,
                                                                status: int) -> None:
    venue.post(ORDER_URL, status=status, body="<html>oops</html>", repeat=True)
    with pytest.raises(BotError) as caught:
        await connector.place(ORDER)
    assert caught.value.code is ErrorCode.UNKNOWN_OUTCOME
    assert len(sent(venue, "POST", "/api/v3/order")) == 1


@pytest.mark.parametrize("code", [-1006, -1007])
async def test_backend_timeout_codes_on_cancel_are_unknown_outcomes(venue: aioresponses,
                                                                    connector: BinanceConnector, code: int) -> None:
    venue.delete(ORDER_URL, status=408, payload={"code": code, "msg": "Timeout waiting for response"}, repeat=True)
    with pytest.raises(BotError) as caught:
        await connector.cancel("BTCUSDT", ClientOrderId("mm-1"))
    assert caught.value.outcome_unknown
    assert len(sent(venue, "DELETE", "/api/v3/order")) == 1


async def test_5xx_on_a_read_is_retried_with_backoff(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.get(DEPTH_URL, status=503, body="busy")
    venue.get(DEPTH_URL, status=502, body="busy")
    venue.get(DEPTH_URL, payload={"lastUpdateId": 1, "bids": [], "asks": []})
    assert (await connector.book("BTCUSDT")).last_update_id == 1
    assert len(sent(venue, "GET", "/api/v3/depth")) == 3


async def test_a_read_gives_up_after_read_attempts(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.get(DEPTH_URL, status=503, body="busy", repeat=True)
    with pytest.raises(BotError) as caught:
        await connector.book("BTCUSDT")
    assert caught.value.code is ErrorCode.NETWORK and caught.value.recoverable
    assert len(sent(venue, "GET", "/api/v3/depth")) == 3


async def test_1021_resyncs_once_and_retries_once(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.post(ORDER_URL, status=400, payload={"code": -1021, "msg": "Timestamp outside of the recvWindow."})
    venue.post(ORDER_URL, payload=order_json())
    syncs_before = connector.time.generation
    assert (await connector.place(ORDER)).status is OrderStatus.NEW
    assert len(sent(venue, "POST", "/api/v3/order")) == 2
    assert connector.time.generation == syncs_before + 2  # first sync, then one resync
    assert len(sent(venue, "GET", "/api/v3/time")) == 2


async def test_1021_twice_raises_without_a_storm(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.post(ORDER_URL, status=400, payload={"code": -1021, "msg": "Timestamp outside"}, repeat=True)
    with pytest.raises(BotError) as caught:
        await connector.place(ORDER)
    assert caught.value.code is ErrorCode.TIMESTAMP_OUT_OF_WINDOW
    assert len(sent(venue, "POST", "/api/v3/order")) == 2
    assert len(sent(venue, "GET", "/api/v3/time")) == 2


async def test_concurrent_1021s_share_one_resync(venue: aioresponses, connector: BinanceConnector) -> None:
    await connector.symbols()
    await connector.time.ensure()
    tried: set[str] = set()
    all_in_flight = asyncio.Event()

    async def first_try_too_late(url: Any, **kwargs: Any) -> CallbackResult:
        client_order_id = url.query["origClientOrderId"]
        if client_order_id not in tried:  # the five first tries are in flight together, then all get -1021
            tried.add(client_order_id)
            if len(tried) == 5:
                all_in_flight.set()
            await all_in_flight.wait()
            return CallbackResult(status=400, payload={"code": -1021, "msg": "Timestamp outside"})
        return CallbackResult(payload=order_json(status="CANCELED", origClientOrderId=client_order_id))

    venue.delete(ORDER_URL, callback=first_try_too_late, repeat=True)
    await asyncio.gather(*(connector.cancel("BTCUSDT", ClientOrderId(f"mm-{i}")) for i in range(5)))
    assert len(sent(venue, "DELETE", "/api/v3/order")) == 10
    assert len(sent(venue, "GET", "/api/v3/time")) == 2  # the first sync, then one resync shared by all


async def test_2010_reject_is_fatal_and_not_retried(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.post(ORDER_URL, status=400, payload={"code": -2010, "msg": "Account has insufficient balance for "
                                               "requested action."}, repeat=True)
    with pytest.raises(BotError) as caught:
        await connector.place(ORDER)
    assert (caught.value.code, caught.value.recoverable, caught.value.venue_code) == (
        ErrorCode.INSUFFICIENT_BALANCE, False, -2010)
    assert len(sent(venue, "POST", "/api/v3/order")) == 1


@pytest.mark.parametrize(("code", "expected"), [(-1013, ErrorCode.FILTER_FAILURE), (-1121, ErrorCode.BAD_SYMBOL),
                                                (-2013, ErrorCode.UNKNOWN_ORDER), (-1102, ErrorCode.BAD_REQUEST)])
async def test_rejects_on_reads_are_fatal_and_not_retried(venue: aioresponses, connector: BinanceConnector,
                                                          code: int, expected: ErrorCode) -> None:
    venue.get(ORDER_URL, status=400, payload={"code": code, "msg": "no"}, repeat=True)
    with pytest.raises(BotError) as caught:
        await connector.query("BTCUSDT", ClientOrderId("mm-1"))
    assert caught.value.code is expected and not caught.value.recoverable
    assert len(sent(venue, "GET", "/api/v3/order")) == 1


async def test_timeout_on_place_is_an_unknown_outcome(venue: aioresponses) -> None:
    conn = BinanceConnector(config(request_timeout_s=0.1), CREDENTIALS, clock=FakeClock(1000.0))

    async def slow(url: Any, **kwargs: Any) -> None:
        await asyncio.sleep(5)

    venue.post(ORDER_URL, callback=slow)
    with pytest.raises(BotError) as caught:
        await asyncio.wait_for(conn.place(ORDER), timeout=2)
    assert caught.value.code is ErrorCode.UNKNOWN_OUTCOME
    await conn.close()


async def test_timeout_on_a_read_is_a_retried_network_error(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.get(DEPTH_URL, exception=TimeoutError())
    venue.get(DEPTH_URL, payload={"lastUpdateId": 3, "bids": [], "asks": []})
    assert (await connector.book("BTCUSDT")).last_update_id == 3


async def test_connection_refused_is_a_recoverable_network_error(connector: BinanceConnector) -> None:
    with mocked_venue() as venue:
        venue.get(TIME_URL, exception=OSError("refused"), repeat=True)
        with pytest.raises(BotError) as caught:
            await connector.server_time_ms()
    assert caught.value.code is ErrorCode.NETWORK and caught.value.recoverable


async def test_malformed_json_on_place_is_unknown_and_on_read_is_retried(venue: aioresponses,
                                                                        connector: BinanceConnector) -> None:
    venue.post(ORDER_URL, body="{not json")
    with pytest.raises(BotError) as caught:
        await connector.place(ORDER)
    assert caught.value.code is ErrorCode.UNKNOWN_OUTCOME
    venue.get(DEPTH_URL, body="{truncated")
    venue.get(DEPTH_URL, payload={"lastUpdateId": 4, "bids": [], "asks": []})
    assert (await connector.book("BTCUSDT")).last_update_id == 4


async def test_403_waf_block_is_venue_unavailable(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.post(ORDER_URL, status=403, body="<html>blocked</html>")
    with pytest.raises(BotError) as caught:
        await connector.place(ORDER)
    assert caught.value.code is ErrorCode.VENUE_UNAVAILABLE and caught.value.recoverable


# -- the weight budget --
async def test_used_weight_header_feeds_the_limiter_which_then_holds_reads_back(venue: aioresponses,
                                                                                connector: BinanceConnector) -> None:
    venue.get(DEPTH_URL, payload={"lastUpdateId": 1, "bids": [], "asks": []},
              headers={"X-MBX-USED-WEIGHT-1M": "4790", "X-MBX-ORDER-COUNT-10S": "3"})
    venue.get(DEPTH_URL, payload={"lastUpdateId": 2, "bids": [], "asks": []}, repeat=True)
    await connector.book("BTCUSDT")
    assert (connector.limiter.used_weight, connector.limiter.order_count) == (4790, 3)
    with pytest.raises(BotError) as caught:
        await connector.book("BTCUSDT", limit=100)  # 4790 + 5 > 4320 shared budget (6000 * 0.8 * 0.9)
    assert caught.value.code is ErrorCode.RATE_LIMITED
    assert caught.value.retry_after_ms == 60_000 - SERVER_MS % 60_000  # until the next weight window
    assert len(sent(venue, "GET", "/api/v3/depth")) == 1


async def test_cancels_pass_when_the_shared_budget_is_spent(venue: aioresponses, connector: BinanceConnector) -> None:
    await connector.symbols()
    await connector.time.ensure()
    connector.limiter._roll(connector.time.now_ms())
    connector.limiter.used_weight = connector.limiter.shared_weight_budget
    venue.delete(ORDER_URL, payload=order_json(status="CANCELED"))
    with pytest.raises(BotError):
        await connector.place(ORDER)
    assert (await connector.cancel("BTCUSDT", ClientOrderId("mm-1"))).status is OrderStatus.CANCELED
    assert not sent(venue, "POST", "/api/v3/order")


async def test_order_count_budget_holds_new_orders_back(venue: aioresponses, connector: BinanceConnector) -> None:
    venue.post(ORDER_URL, payload=order_json(), headers={"X-MBX-ORDER-COUNT-10S": "80"})
    await connector.place(ORDER)
    with pytest.raises(BotError) as caught:
        await connector.place(ORDER)
    assert caught.value.code is ErrorCode.RATE_LIMITED
    assert len(sent(venue, "POST", "/api/v3/order")) == 1
    assert connector.limiter.order_budget == 80 and Priority.CANCEL < Priority.ORDER


# -- secrets --
async def test_secrets_never_appear_in_errors_logs_or_repr(venue: aioresponses, connector: BinanceConnector,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    venue.post(ORDER_URL, status=400, payload={"code": -1021, "msg": "Timestamp outside"}, repeat=True)
    venue.get(DEPTH_URL, status=503, body="busy", repeat=True)
    venue.delete(ORDER_URL, exception=OSError("reset"))
    texts = [repr(connector), str(connector), repr(CREDENTIALS), str(CREDENTIALS)]
    for call in (connector.place(ORDER), connector.book("BTCUSDT"), connector.cancel("BTCUSDT", ClientOrderId("x"))):
        with pytest.raises(BotError) as caught:
            await call
        error: BaseException | None = caught.value
        while error is not None:  # the whole chain
            texts += [str(error), repr(error)]
            error = error.__cause__ or error.__context__
    texts.append(caplog.text)
    joined = "\n".join(texts)
    assert API_SECRET not in joined and API_KEY not in joined and "signature=" not in joined


def test_the_connector_is_a_venue() -> None:
    venue: Venue = BinanceConnector(config(), CREDENTIALS)  # checked by mypy against the Protocol
    assert venue.name == "binance-test"


async def test_a_closed_connector_sends_nothing_even_on_a_shared_transport(venue: aioresponses) -> None:
    """A task that outlives its instance (a killed process's pending query) must not reach the venue: its limiter
    does not know the Retry-After the next instance was told (chaos seeds 531 and 7)."""
    venue.get(ORDER_URL, payload=order_json(), repeat=True)
    venue.post(ORDER_URL, payload=order_json(), repeat=True)
    async with aiohttp.ClientSession() as session:  # shared: the connector does not own (or close) it
        conn = BinanceConnector(config(), CREDENTIALS, clock=FakeClock(1000.0), session=session)
        assert (await conn.query("BTCUSDT", ClientOrderId("mm-1"))).status is OrderStatus.NEW
        await conn.close()
        for request in (conn.query("BTCUSDT", ClientOrderId("mm-1")), conn.place(ORDER)):
            with pytest.raises(BotError) as refused:
                await request
            assert (refused.value.code, refused.value.recoverable) == (ErrorCode.SHUTTING_DOWN, False)
        assert not session.closed
    assert len(sent(venue, "GET", "/api/v3/order")) == 1 and not sent(venue, "POST", "/api/v3/order")
