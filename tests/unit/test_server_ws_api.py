"""The WebSocket API of the wire server: user data stream subscription and execution reports."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from exchange_sim.server import DEMO_API_KEY, DEMO_SECRET
from exchange_sim.server.auth import sign, ws_payload
from tests.server_support import STEP_TIMEOUT_S, now_ms, running_server


async def _recv(ws: aiohttp.ClientWebSocketResponse) -> Any:
    async with asyncio.timeout(STEP_TIMEOUT_S):
        return orjson.loads((await ws.receive()).data)


def _subscribe_request(req_id: int, secret: str = DEMO_SECRET) -> str:
    params: dict[str, object] = {"apiKey": DEMO_API_KEY, "timestamp": now_ms(), "recvWindow": 5000}
    params["signature"] = sign(secret, ws_payload({k: str(v) for k, v in params.items()}))
    return orjson.dumps({"id": req_id, "method": "userDataStream.subscribe.signature", "params": params}).decode()


async def test_user_stream_reports_a_placed_and_filled_order() -> None:
    async with running_server() as server, server.session.ws_connect(server.ws_base + "/ws-api/v3") as ws:
        await ws.send_str(_subscribe_request(1))
        reply = await _recv(ws)
        assert reply["id"] == 1 and reply["status"] == 200
        sub_id = reply["result"]["subscriptionId"]
        status, placed, _ = await server.signed("POST", "/api/v3/order", {
            "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01", "newClientOrderId": "u-1"})
        assert status == 200 and placed["status"] == "FILLED"  # type: ignore[index]
        reports: list[dict[str, Any]] = []
        positions: list[dict[str, Any]] = []
        while not reports or reports[-1]["X"] != "FILLED" or not positions:
            message = await _recv(ws)
            assert message["subscriptionId"] == sub_id
            event = message["event"]
            (reports if event["e"] == "executionReport" else positions).append(event)
        assert reports[0]["x"] == "NEW" and reports[0]["c"] == "u-1"
        trades = [r for r in reports if r["x"] == "TRADE"]
        assert trades and all(r["t"] > 0 and r["i"] == placed["orderId"] for r in trades)  # type: ignore[index]
        assert sum(float(r["l"]) for r in trades) == float(reports[-1]["z"]) == 0.01
        fields = set("eEscSofqpPFgCxXrilzLnNTtvIwmMOZYQWV")
        assert all(fields <= set(r) for r in reports)
        assert positions[0]["e"] == "outboundAccountPosition"
        assert {b["a"] for b in positions[-1]["B"]} <= {"BTC", "USDT"}


async def test_a_bad_signature_is_refused_and_the_socket_stays_open() -> None:
    async with running_server() as server, server.session.ws_connect(server.ws_base + "/ws-api/v3") as ws:
        await ws.send_str(_subscribe_request(7, secret="wrong"))
        reply = await _recv(ws)
        assert reply == {"id": 7, "status": 400, "error": {"code": -1022,
                                                           "msg": "Signature for this request is not valid."}}
        await ws.send_str(orjson.dumps({"id": 8, "method": "ping"}).decode())
        assert (await _recv(ws))["status"] == 200
