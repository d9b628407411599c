"""REST /api/v3 of the wire server against a real server on 127.0.0.1: answers, errors and limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange_sim.server import LimitsConfig
from tests.server_support import Server, now_ms, running_server


def _best(server: Server) -> tuple[Decimal, Decimal]:
    engine = server.state.engine
    spec = engine.spec("BTCUSDT")
    bid, ask = engine.best_bid("BTCUSDT"), engine.best_ask("BTCUSDT")
    assert bid is not None and ask is not None
    return spec.ticks_to_price(bid[0]), spec.ticks_to_price(ask[0])


async def _place(server: Server, **params: Any) -> tuple[int, Any, Any]:
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001"}
    return await server.signed("POST", "/api/v3/order", {**base, **params}, in_body=True)


async def test_public_endpoints_answer_with_weight_headers() -> None:
    async with running_server() as server:
        status, body, headers = await server.get("/api/v3/ping")
        assert (status, body, headers["X-MBX-USED-WEIGHT-1M"]) == (200, {}, "1")
        status, body, _ = await server.get("/api/v3/time")
        assert abs(body["serverTime"] - now_ms()) < 2000  # type: ignore[index]
        status, info, headers = await server.get("/api/v3/exchangeInfo")
        assert headers["X-MBX-USED-WEIGHT-1M"] == "22"
        symbol = info["symbols"][0]  # type: ignore[index]
        filters = {f["filterType"]: f for f in symbol["filters"]}
        assert filters["PRICE_FILTER"]["tickSize"] == "5.00000000"
        assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
        assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
        assert {"LIMIT", "LIMIT_MAKER", "MARKET"} <= set(symbol["orderTypes"])
        assert {r["rateLimitType"] for r in info["rateLimits"]} >= {"REQUEST_WEIGHT", "ORDERS"}  # type: ignore[index]


async def test_depth_is_weighted_by_limit_and_matches_the_book() -> None:
    async with running_server() as server:
        status, book, headers = await server.get("/api/v3/depth", "symbol=BTCUSDT&limit=500")
        assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == "25"
        assert isinstance(book, dict) and book["lastUpdateId"] > 0 and len(book["bids"]) > 0
        assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])
        status, ticker, _ = await server.get("/api/v3/ticker/bookTicker", "symbol=BTCUSDT")
        assert status == 200 and set(ticker) == {"symbol", "bidPrice", "bidQty", "askPrice", "askQty"}  # type: ignore[arg-type]


async def test_order_lifecycle_place_query_cancel() -> None:
    async with running_server() as server:
        bid, _ = _best(server)
        price = bid - 100
        status, placed, headers = await _place(server, price=str(price), newClientOrderId="t-1",
                                               newOrderRespType="RESULT")
        assert status == 200, placed
        assert placed["status"] == "NEW" and placed["clientOrderId"] == "t-1"
        assert headers["X-MBX-ORDER-COUNT-10S"] == "1" and headers["X-MBX-ORDER-COUNT-1D"] == "1"
        query = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
        status, got, _ = await server.signed("GET", "/api/v3/order", query)
        assert status == 200 and got["price"] == f"{price:.8f}" and got["isWorking"]  # type: ignore[index]
        status, open_, _ = await server.signed("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
        assert [o["clientOrderId"] for o in open_] == ["t-1"]  # type: ignore[union-attr]
        status, canceled, _ = await server.signed("DELETE", "/api/v3/order", {
            "symbol": "BTCUSDT", "origClientOrderId": "t-1", "newClientOrderId": "c-1"})
        assert status == 200 and canceled["status"] == "CANCELED"  # type: ignore[index]
        assert (canceled["origClientOrderId"], canceled["clientOrderId"]) == ("t-1", "c-1")  # type: ignore[index]
        status, err, _ = await server.signed("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1})
        assert (status, err) == (400, {"code": -2011, "msg": "Unknown order sent."})
        status, err, _ = await server.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": 10**9})
        assert (status, err["code"]) == (400, -2013)  # type: ignore[index]
        status, err, _ = await server.signed("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
        assert (status, err["code"]) == (400, -2011)  # type: ignore[index]


async def test_market_order_full_response_and_my_trades() -> None:
    async with running_server() as server:
        status, placed, _ = await server.signed("POST", "/api/v3/order", {
            "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "100", "newOrderRespType": "FULL"})
        assert status == 200, placed
        assert placed["status"] == "FILLED" and placed["fills"]  # type: ignore[index]
        status, trades, _ = await server.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
        assert status == 200 and {t["orderId"] for t in trades} == {placed["orderId"]}  # type: ignore[index,union-attr]
        assert all(t["isBuyer"] and not t["isMaker"] for t in trades)  # type: ignore[union-attr]
        first = trades[0]["id"]  # type: ignore[index]
        status, later, _ = await server.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "fromId": first + 1,
                                                                           "limit": 1})
        assert status == 200 and all(t["id"] > first for t in later)  # type: ignore[union-attr]
        status, account, _ = await server.signed("GET", "/api/v3/account", {})
        balances = {b["asset"]: b for b in account["balances"]}  # type: ignore[index]
        assert Decimal(balances["BTC"]["free"]) > Decimal(10)


async def test_limit_maker_that_would_take_is_2010() -> None:
    async with running_server() as server:
        _, ask = _best(server)
        status, err, _ = await _place(server, type="LIMIT_MAKER", timeInForce="", price=str(ask + 50))
        assert (status, err) == (400, {"code": -2010, "msg": "Order would immediately match and take."})


async def test_cancel_replace_modes() -> None:
    async with running_server() as server:
        bid, _ = _best(server)
        new = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
               "price": str(bid - 200)}
        status, err, _ = await server.signed("POST", "/api/v3/order/cancelReplace", {
            **new, "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": 10**9})
        assert status == 400 and err["code"] == -2022  # type: ignore[index]
        assert err["data"]["newOrderResult"] == "NOT_ATTEMPTED"  # type: ignore[index]
        status, half, _ = await server.signed("POST", "/api/v3/order/cancelReplace", {
            **new, "cancelReplaceMode": "ALLOW_FAILURE", "cancelOrderId": 10**9})
        assert status == 409 and half["code"] == -2021  # type: ignore[index]
        assert half["data"]["newOrderResult"] == "SUCCESS"  # type: ignore[index]
        old = half["data"]["newOrderResponse"]["orderId"]  # type: ignore[index]
        status, ok, _ = await server.signed("POST", "/api/v3/order/cancelReplace", {
            **new, "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": old})
        assert status == 200 and ok["cancelResult"] == "SUCCESS"  # type: ignore[index]


async def test_malformed_requests_get_binance_errors_and_the_server_keeps_serving() -> None:
    async with running_server(limits=LimitsConfig(max_body_bytes=1024)) as server:
        cases = [
            (await server.call("POST", "/api/v3/order", body='{"symbol": "BTCUSDT"}'), 400, -1100),
            (await server.get("/api/v3/depth", "symbol=NOPE"), 400, -1121),
            (await server.get("/api/v3/depth", ""), 400, -1102),
            (await server.get("/api/v3/depth", "symbol=BTCUSDT&symbol=BTCUSDT"), 400, -1101),
            (await server.get("/api/v3/depth", "symbol=BTCUSDT&limit=abc"), 400, -1102),
            (await server.call("POST", "/api/v3/order", body="a=" + "x" * 5000), 413, -1000),
            (await server.call("GET", "/api/v3/account", server.sign({}) + "0"), 400, -1022),
            (await server.call("GET", "/api/v3/account", server.sign({}), api_key="bogus"), 401, -2015),
            (await server.call("GET", "/api/v3/account", server.sign({}), api_key=None), 401, -2014),
            (await server.call("GET", "/api/v3/account", server.sign({}, timestamp_ms=now_ms() - 60_000)), 400, -1021),
            (await _place(server, price="1e5"), 400, -1100),
            (await _place(server, price="60001"), 400, -1013),
            (await _place(server, timeInForce="", price="50000"), 400, -1102),
            (await _place(server, side="UP", price="50000"), 400, -1117),
            (await server.get("/api/v3/unknown"), 404, -1020),
        ]
        for (status, body, _), want_status, want_code in cases:
            assert (status, body["code"]) == (want_status, want_code), body  # type: ignore[index]
        status, _, _ = await server.get("/api/v3/ping")
        assert status == 200
        status, _, _ = await server.signed("GET", "/api/v3/account", {})
        assert status == 200


async def test_over_the_weight_limit_is_429_then_418() -> None:
    limits = LimitsConfig(weight_per_minute=10, ban_after_429=2, ban_s=30)
    async with running_server(limits=limits) as server:
        statuses = []
        for _ in range(14):
            status, body, headers = await server.get("/api/v3/ping")
            statuses.append(status)
            if status in (429, 418):
                assert body["code"] == -1003 and int(headers["Retry-After"]) > 0  # type: ignore[index]
        assert statuses[:10] == [200] * 10
        assert statuses[10:13] == [429, 429, 418]
        assert statuses[13] == 418
