"""The wire server's issue-16 faults: triggers, request targeting, cancel-replace half success, truncated replies
and frames, slow close and server disconnects, seen by a real HTTP/WebSocket client."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from exchange_sim.eventlog import read_events
from exchange_sim.faults.model import Fault, FaultKind, Scenario
from exchange_sim.server import DEMO_API_KEY, DEMO_SECRET
from exchange_sim.server.auth import sign, ws_payload
from tests.server_support import STEP_TIMEOUT_S, Server, now_ms, running_server


def _bid(server: Server) -> Decimal:
    engine = server.state.engine
    bid = engine.best_bid("BTCUSDT")
    assert bid is not None
    return engine.spec("BTCUSDT").ticks_to_price(bid[0])


def _limit(server: Server, cid: str, below: int = 200) -> dict[str, Any]:
    return {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
            "price": str(_bid(server) - below), "newClientOrderId": cid}


def _hits(server: Server) -> list[str]:
    """Effects of the fault_hit records logged so far (read back from the event log's file)."""
    log = server.state.log
    log.flush()
    if log._file is not None:  # the test reads the file while the server still writes it
        log._file.flush()
    assert server.state.config.log_path is not None
    return [str(e["e"]) for e in read_events(server.state.config.log_path) if e["k"] == "fault_hit"]


async def test_a_next_cancel_trigger_and_a_cancel_aimed_timeout_hit_the_cancel_only(tmp_path: Path) -> None:
    scenario = Scenario((Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", 0.0, 30.0,
                               {"request": "cancel", "trigger": "next_cancel"}, toxicity=0.0001),))
    async with running_server(scenario=scenario, log_path=tmp_path / "log.jsonl") as server:
        status, _, _ = await server.signed("POST", "/api/v3/order", _limit(server, "w-1"))
        assert status == 200
        status, body, _ = await server.signed("DELETE", "/api/v3/order", {"symbol": "BTCUSDT",
                                                                          "origClientOrderId": "w-1"})
        assert (status, body["code"]) == (503, -1007)  # type: ignore[index]
        status, order, _ = await server.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT",
                                                                        "origClientOrderId": "w-1"})
        assert status == 200 and order["status"] == "CANCELED"  # type: ignore[index]
        assert _hits(server) == ["processed_error"]  # the in-process effect name


async def test_cancel_replace_half_success_is_a_409_the_cancel_done_and_the_new_order_refused(tmp_path: Path) -> None:
    scenario = Scenario((Fault(FaultKind.CANCEL_REPLACE_HALF, "rest", 0.0, 30.0),))
    async with running_server(scenario=scenario, log_path=tmp_path / "log.jsonl") as server:
        status, old, _ = await server.signed("POST", "/api/v3/order", _limit(server, "w-old"))
        assert status == 200 and _hits(server) == []  # a plain order is not a cancelReplace
        new = {**_limit(server, "w-new", 300), "cancelReplaceMode": "STOP_ON_FAILURE",
               "cancelOrderId": old["orderId"]}  # type: ignore[index]
        status, half, _ = await server.signed("POST", "/api/v3/order/cancelReplace", new)
        assert status == 409 and half["code"] == -2021  # type: ignore[index]
        data = half["data"]  # type: ignore[index]
        assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
        assert data["newOrderResponse"]["code"] == -2010
        status, missing, _ = await server.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT",
                                                                          "origClientOrderId": "w-new"})
        assert status == 400 and missing["code"] == -2013  # type: ignore[index]
        assert _hits(server) == ["cancel_replace_half"]


async def test_a_truncated_reply_is_cut_mid_body_after_the_order_executed(tmp_path: Path) -> None:
    scenario = Scenario((Fault(FaultKind.TRUNCATED_FRAME, "rest", 0.0, 30.0, {"trigger": "next_order"},
                               toxicity=0.0001),))  # the triggering order is hit; the query after it is not
    async with running_server(scenario=scenario, log_path=tmp_path / "log.jsonl") as server:
        with pytest.raises(aiohttp.ClientPayloadError):
            await server.signed("POST", "/api/v3/order", _limit(server, "w-cut"))
        status, order, _ = await server.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT",
                                                                        "origClientOrderId": "w-cut"})
        assert status == 200 and order["status"] == "NEW"  # type: ignore[index]
        assert _hits(server) == ["reply_truncated"]


async def _until_closed(ws: aiohttp.ClientWebSocketResponse) -> tuple[list[str], float]:
    """Text frames received until the socket closes, and when (monotonic) the close came."""
    texts: list[str] = []
    async with asyncio.timeout(STEP_TIMEOUT_S):
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                texts.append(msg.data)
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return texts, time.monotonic()


async def test_a_truncated_stream_frame_is_a_partial_json_text_then_the_socket_drops(tmp_path: Path) -> None:
    scenario = Scenario((Fault(FaultKind.TRUNCATED_FRAME, "ws", 0.3, 30.0),))
    async with running_server(scenario=scenario, log_path=tmp_path / "log.jsonl") as server, server.session.ws_connect(
            server.ws_base + "/ws/btcusdt@bookTicker") as ws:
        await server.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                      "quantity": "0.05"})
        texts, _ = await _until_closed(ws)
        last = texts[-1]
        with pytest.raises(ValueError):
            json.loads(last)
        assert _hits(server) == ["frame_truncated"]


async def test_a_slow_close_goes_silent_and_closes_close_s_later(tmp_path: Path) -> None:
    scenario = Scenario((Fault(FaultKind.SLOW_CLOSE, "ws", 0.2, 0.0, {"close_s": 1.0}),))
    async with running_server(scenario=scenario, log_path=tmp_path / "log.jsonl") as server, server.session.ws_connect(
            server.ws_base + "/ws/btcusdt@bookTicker") as ws:
        started = time.monotonic()
        _, closed_at = await _until_closed(ws)
        assert closed_at - started >= 1.1  # 0.2 s to the fault, then the close takes 1 s
        assert _hits(server) == ["slow_close"]


async def test_a_server_shutdown_sends_the_event_on_the_websocket_api_then_closes(tmp_path: Path) -> None:
    scenario = Scenario((Fault(FaultKind.SERVER_DISCONNECT, "user", 0.2, 0.0,
                               {"reason": "server_shutdown", "grace_s": 0.5}),))
    async with running_server(scenario=scenario, log_path=tmp_path / "log.jsonl") as server, server.session.ws_connect(
            server.ws_base + "/ws-api/v3") as ws:
        texts, _ = await _until_closed(ws)
        assert '"serverShutdown"' in texts[-1]
        assert _hits(server) == ["server_shutdown"]


async def test_a_missed_pong_disconnect_closes_market_sockets_at_once(tmp_path: Path) -> None:
    scenario = Scenario((Fault(FaultKind.SERVER_DISCONNECT, "ws", 0.2, 0.0, {"reason": "missed_pong"}),))
    async with running_server(scenario=scenario, log_path=tmp_path / "log.jsonl") as server, server.session.ws_connect(
            server.ws_base + "/ws/btcusdt@bookTicker") as ws:
        started = time.monotonic()
        _, closed_at = await _until_closed(ws)
        assert closed_at - started < 1.5
        assert _hits(server) == ["missed_pong"]


async def test_a_trade_report_is_redelivered_under_a_new_trade_id(tmp_path: Path) -> None:
    scenario = Scenario((Fault(FaultKind.REPORT_REDELIVERED, "user", 0.0, 60.0, toxicity=0.0001),))
    async with running_server(scenario=scenario, log_path=tmp_path / "log.jsonl") as server, \
            server.session.ws_connect(server.ws_base + "/ws-api/v3") as ws:
        params: dict[str, object] = {"apiKey": DEMO_API_KEY, "timestamp": now_ms(), "recvWindow": 5000}
        params["signature"] = sign(DEMO_SECRET, ws_payload({k: str(v) for k, v in params.items()}))
        await ws.send_str(json.dumps({"id": 1, "method": "userDataStream.subscribe.signature", "params": params}))
        async with asyncio.timeout(STEP_TIMEOUT_S):
            assert json.loads((await ws.receive()).data)["status"] == 200
            status, _, _ = await server.signed("POST", "/api/v3/order", {
                "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", "newClientOrderId": "r-1"})
            assert status == 200
            trades: list[dict[str, Any]] = []
            while len(trades) < 2:
                event = json.loads((await ws.receive()).data)["event"]
                if event.get("x") == "TRADE":
                    trades.append(event)
        first, again = trades
        assert again["t"] != first["t"] and {k: v for k, v in again.items() if k != "t"} == {
            k: v for k, v in first.items() if k != "t"}
        assert _hits(server) == ["report_redelivered"]
