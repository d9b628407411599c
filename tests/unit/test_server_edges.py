"""The wire server at its edges: every signed route and method checks its signature, and malformed bytes are
answered like Binance (400 with ``{"code", "msg"}``), never a 500 or a dropped socket."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import pytest

from exchange_sim.engine.types import AccountId, EngineError
from exchange_sim.market.symbols import DEFAULT_SYMBOLS
from exchange_sim.server import DEMO_ACCOUNT, LimitsConfig, errors, rest, ws_api
from exchange_sim.server.auth import ws_payload
from tests.server_support import DEMO_API_KEY, now_ms, running_server, signature

PUBLIC = {"/api/v3/ping", "/api/v3/time", "/api/v3/exchangeInfo", "/api/v3/depth", "/api/v3/ticker/bookTicker"}
SIGNED_ROUTES = [(method, path) for method, path, _ in rest.ROUTES if path not in PUBLIC]
ORDER_PARAMS = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
                "price": "1000", "orderId": "1", "origClientOrderId": "x-1", "cancelReplaceMode": "STOP_ON_FAILURE",
                "cancelOrderId": "1"}
BAD_SIGNATURES = ["0" * 64, "zz", "é" * 64, "\u017f" * 10]


def test_the_signed_route_list_is_not_empty() -> None:
    assert ("DELETE", "/api/v3/openOrders") in SIGNED_ROUTES and len(SIGNED_ROUTES) >= 8


@pytest.mark.parametrize(("method", "path"), SIGNED_ROUTES)
@pytest.mark.parametrize("bad", BAD_SIGNATURES)
async def test_every_signed_rest_route_refuses_a_bad_signature(method: str, path: str, bad: str) -> None:
    async with running_server() as server:
        query = "&".join(f"{k}={v}" for k, v in ORDER_PARAMS.items()) + f"&timestamp={now_ms()}"
        status, body, _ = await server.call(method, path, f"{query}&signature={bad}")
        assert status == 400, body
        assert body == {"code": errors.INVALID_SIGNATURE, "msg": "Signature for this request is not valid."}
        assert server.state.engine.open_orders(AccountId(DEMO_ACCOUNT.name)) == []


@pytest.mark.parametrize("method", sorted([*ws_api._SIGNED, "userDataStream.subscribe.signature"]))
@pytest.mark.parametrize("bad", BAD_SIGNATURES)
async def test_every_signed_websocket_method_refuses_a_bad_signature(method: str, bad: str) -> None:
    async with running_server() as server:
        params: dict[str, Any] = {**ORDER_PARAMS, "apiKey": DEMO_API_KEY, "timestamp": now_ms(), "signature": bad}
        text = orjson.dumps({"id": 7, "method": method, "params": params}).decode()
        answer = await ws_api.handle_request(server.state, None, text)  # type: ignore[arg-type]
        assert answer == {"id": 7, "status": 400, "error": {"code": errors.INVALID_SIGNATURE,
                                                             "msg": "Signature for this request is not valid."}}


async def test_a_good_websocket_signature_still_passes() -> None:
    async with running_server() as server:
        params: dict[str, Any] = {"symbol": "BTCUSDT", "apiKey": DEMO_API_KEY, "timestamp": now_ms()}
        params["signature"] = signature(server.state.keys.principal(DEMO_API_KEY).config.secret,
                                        ws_payload({k: str(v) for k, v in params.items()}))
        text = orjson.dumps({"id": 1, "method": "openOrders.status", "params": params}).decode()
        answer = await ws_api.handle_request(server.state, None, text)  # type: ignore[arg-type]
        assert answer["status"] == 200 and answer["result"] == []


@pytest.mark.parametrize("body", [b"symbol=BTCUSDT&x=\xff\xfe", b"\xc3\x28=1"])
async def test_a_body_that_is_not_utf8_is_400_illegal_chars_not_500(body: bytes) -> None:
    async with running_server() as server:
        url = server.base + "/api/v3/order"
        headers = {"X-MBX-APIKEY": DEMO_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
        async with server.session.post(url, data=body, headers=headers) as resp:
            assert resp.status == 400
            assert (await resp.json(content_type=None))["code"] == errors.ILLEGAL_CHARS


async def test_an_unknown_charset_is_read_as_utf8_not_a_500() -> None:
    async with running_server() as server:
        headers = {"X-MBX-APIKEY": DEMO_API_KEY, "Content-Type": "application/x-www-form-urlencoded; charset=nope"}
        async with server.session.post(server.base + "/api/v3/order", data=b"symbol=BTCUSDT", headers=headers) as resp:
            assert resp.status == 400
            assert (await resp.json(content_type=None))["code"] != errors.UNKNOWN


@pytest.mark.parametrize("price", ["100000005.00000000000000000001", "60000.000000000000000000000000001"])
def test_a_price_off_the_tick_grid_beyond_28_digits_is_a_price_filter_failure(price: str) -> None:
    spec = DEFAULT_SYMBOLS["BTCUSDT"].spec
    with pytest.raises(EngineError, match="PRICE_FILTER"):
        spec.price_to_ticks(Decimal(price))
    whole = Decimal(price.split(".", maxsplit=1)[0])
    assert spec.price_to_ticks(whole) == int(whole / spec.tick_size)


def test_a_quantity_off_the_lot_grid_beyond_28_digits_is_a_lot_size_failure() -> None:
    spec = DEFAULT_SYMBOLS["BTCUSDT"].spec
    with pytest.raises(EngineError, match="LOT_SIZE"):
        spec.qty_to_lots(Decimal("1.00001000000000000000000000000001"))
    assert spec.qty_to_lots(Decimal("1.00001")) == 100_001


async def test_an_off_grid_price_over_rest_is_minus_1013_not_rounded_onto_the_grid() -> None:
    async with running_server() as server:
        params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
                  "price": "100000005.00000000000000000001"}
        status, body, _ = await server.signed("POST", "/api/v3/order", params)
        assert (status, body) == (400, {"code": -1013, "msg": "Filter failure: PRICE_FILTER"})


@pytest.mark.parametrize("symbol", ["btcusdt", "btcu\u017fdt", "BTC USDT", "BTCUSDT\u0130", "X" * 21])
async def test_a_symbol_outside_binances_legal_range_is_minus_1100_not_folded_to_a_listed_one(symbol: str) -> None:
    async with running_server() as server:
        status, body, _ = await server.get("/api/v3/depth", urlencode({"symbol": symbol}))
        assert status == 400
        assert body == {"code": errors.ILLEGAL_CHARS, "msg": "Illegal characters found in parameter 'symbol'; "
                        "legal range is '^[A-Z0-9-_.]{1,20}$'."}


async def test_a_well_formed_unlisted_symbol_is_minus_1121() -> None:
    async with running_server() as server:
        status, body, _ = await server.get("/api/v3/depth", "symbol=ABCUSDT")
        assert (status, body) == (400, {"code": -1121, "msg": "Invalid symbol."})


@pytest.mark.parametrize("limit", ["0", "-5", "5001"])
async def test_a_depth_limit_outside_1_to_5000_is_refused(limit: str) -> None:
    async with running_server() as server:
        status, body, _ = await server.get("/api/v3/depth", f"symbol=BTCUSDT&limit={limit}")
        assert (status, body) == (400, {"code": -1130, "msg": "Invalid data sent for a parameter 'limit'."})


SMALL_LIMITS = LimitsConfig(weight_per_minute=10, ban_after_429=2, ban_s=120.0)


async def test_malformed_rest_requests_are_charged_and_stopped_by_a_ban() -> None:
    async with running_server(limits=SMALL_LIMITS) as server:
        headers = {"X-MBX-APIKEY": DEMO_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
        statuses = []
        for _ in range(14):
            async with server.session.post(server.base + "/api/v3/order", data=b"\xff", headers=headers) as resp:
                statuses.append(resp.status)
        assert statuses[:10] == [400] * 10  # not UTF-8: refused before parsing, but each costs weight 1
        assert statuses[10:12] == [429, 429] and statuses[12:] == [418, 418]
        status, _, headers_out = await server.get("/api/v3/ping")
        assert status == 418 and int(headers_out["Retry-After"]) > 0


async def test_the_websocket_api_shares_the_ip_budget_and_a_banned_ip_cannot_place_orders() -> None:
    async with running_server(limits=SMALL_LIMITS) as server:
        secret = server.state.keys.principal(DEMO_API_KEY).config.secret

        def order(n: int) -> str:
            params: dict[str, Any] = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                      "quantity": "0.01", "price": "1000", "apiKey": DEMO_API_KEY,
                                      "timestamp": now_ms(), "newClientOrderId": f"ws-{n}"}
            params["signature"] = signature(secret, ws_payload({k: str(v) for k, v in params.items()}))
            return orjson.dumps({"id": n, "method": "order.place", "params": params}).decode()

        answers = [await ws_api.handle_request(server.state, None, order(n), ip="10.0.0.9")  # type: ignore[arg-type]
                   for n in range(14)]
        assert [a["status"] for a in answers] == [200] * 10 + [429, 429, 418, 418]
        assert answers[0]["rateLimits"][0]["count"] == 1 and answers[9]["rateLimits"][0]["count"] == 10
        assert answers[-1]["error"]["code"] == errors.TOO_MANY_REQUESTS and "retryAfter" in answers[-1]["error"]["data"]
        placed = server.state.engine.open_orders(AccountId(DEMO_ACCOUNT.name))
        assert len(placed) == 10  # the refused ones were not executed
        status, _, _ = await server.get("/api/v3/ping")
        assert status == 200  # another IP (the REST client's 127.0.0.1) is not banned


async def test_a_malformed_websocket_request_costs_weight_too() -> None:
    async with running_server(limits=SMALL_LIMITS) as server:
        answers = [await ws_api.handle_request(server.state, None, "{not json", ip="10.0.0.8")  # type: ignore[arg-type]
                   for _ in range(12)]
        assert [a["status"] for a in answers] == [400] * 10 + [429, 429]


async def test_a_websocket_from_a_foreign_origin_is_refused_with_403() -> None:
    async with running_server() as server:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await server.session.ws_connect(server.ws_base + "/ws/btcusdt@trade",
                                            headers={"Origin": "https://evil.example"})
        assert refused.value.status == 403
        for path in ("/ws/btcusdt@trade", "/ws-api/v3"):
            for origin in ("http://localhost:3000", "http://127.0.0.1"):
                ws = await server.session.ws_connect(server.ws_base + path, headers={"Origin": origin})
                await ws.close()


async def test_a_connection_may_listen_to_at_most_the_configured_number_of_streams() -> None:
    async with running_server(ws_max_streams=3) as server:
        ws = await server.session.ws_connect(server.ws_base + "/ws")
        await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@trade", "btcusdt@depth", "x1usdt@trade"],
                            "id": 1})
        assert await ws.receive_json(timeout=5) == {"result": None, "id": 1}
        await ws.send_json({"method": "SUBSCRIBE", "params": ["x2usdt@trade"], "id": 2})
        answer = await ws.receive_json(timeout=5)
        assert answer["id"] == 2 and answer["error"]["code"] == 2
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 3})
        listed = await ws.receive_json(timeout=5)
        assert listed == {"result": ["btcusdt@depth", "btcusdt@trade", "x1usdt@trade"], "id": 3}
        await ws.close()
        too_many = "/".join(f"s{i}usdt@trade" for i in range(4))
        ws = await server.session.ws_connect(server.ws_base + f"/stream?streams={too_many}")
        closed = await ws.receive(timeout=5)
        assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == aiohttp.WSCloseCode.POLICY_VIOLATION


async def test_more_incoming_messages_per_second_than_allowed_closes_the_connection() -> None:
    async with running_server(ws_messages_per_s=5) as server:
        ws = await server.session.ws_connect(server.ws_base + "/ws")
        for n in range(20):  # far more than 5 in any one second of the server's clock
            try:
                await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": n})
            except ConnectionResetError:  # the server has cut us off already
                break
        answered = []
        while (msg := await ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
            answered.append(msg.json()["id"])
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == aiohttp.WSCloseCode.POLICY_VIOLATION
        assert len(answered) <= 10  # at most what was allowed before the cut (two one-second windows)


async def test_a_limit_order_above_max_notional_is_a_notional_filter_failure() -> None:
    async with running_server() as server:
        info = (await server.get("/api/v3/exchangeInfo", "symbol=BTCUSDT"))[1]
        notional = next(f for f in info["symbols"][0]["filters"] if f["filterType"] == "NOTIONAL")  # type: ignore[index]
        assert Decimal(notional["maxNotional"]) == DEFAULT_SYMBOLS["BTCUSDT"].spec.max_notional
        params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1000",
                  "price": "10000"}  # 10,000,000 USDT > 9,000,000
        status, body, _ = await server.signed("POST", "/api/v3/order", params)
        assert (status, body) == (400, {"code": -1013, "msg": "Filter failure: NOTIONAL"})
