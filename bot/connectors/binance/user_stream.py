"""User data over the WebSocket API: connect, ``userDataStream.subscribe.signature``, translate the events.

``open_user_ws`` connects to ``/ws-api/v3`` and subscribes with ``{apiKey, timestamp, recvWindow, signature}``,
signed over the params sorted by name. A -1021 answer resyncs the server-time offset once and retries once
(the venue refused the request before doing anything); any other error answer is raised as ``venue_error``
(-2015/-1022: ``AUTH_FAILED``, fatal). ``UserEventHandler`` turns ``{"subscriptionId", "event"}`` messages of
this subscription into bot ``UserEvent``s: ``executionReport`` -> ``OrderUpdate`` (with its ``Fill`` for a
trade), ``outboundAccountPosition`` -> one ``BalanceUpdate`` per asset; other events are ignored, and
``eventStreamTerminated`` / ``serverShutdown`` end the stream with a recoverable ``BotError(NETWORK)`` (the
order manager reconciles, then subscribes again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from bot.connectors.binance import wire
from bot.connectors.binance.config import BinanceConfig, Credentials
from bot.connectors.binance.signing import sign, ws_payload
from bot.connectors.binance.time_sync import TimeSync
from bot.connectors.binance.transport import Transport, WsConnection
from bot.core.errors import BotError, ErrorCode, venue_error
from bot.core.types import SymbolInfo, UserEvent

SUBSCRIBE_METHOD = "userDataStream.subscribe.signature"
_MAX_REPLY_SKIPS = 100  # messages read while waiting for the subscribe answer before giving up


async def open_user_ws(
    transport: Transport, config: BinanceConfig, credentials: Credentials, time_sync: TimeSync,
    request_ids: Iterator[int], *, on_timestamp_reject: Callable[[], None] = lambda: None,
) -> tuple[WsConnection, int]:
    """A connected, subscribed WebSocket API session and its subscription id. Request ids are
    ``mmbot-<next(request_ids)>`` (the caller's counter: one per connector, so ids do not depend on what else the
    process ran); ``on_timestamp_reject`` is told of each -1021 answer."""
    ws = await transport.ws_connect(config.endpoints.ws_api_url, heartbeat_s=config.ws_heartbeat_s)
    try:
        for attempt in (1, 2):
            generation = await time_sync.ensure()
            params: dict[str, Any] = {
                "apiKey": credentials.api_key,
                "recvWindow": config.recv_window_ms,
                "timestamp": time_sync.now_ms(),
            }
            params["signature"] = sign(credentials.api_secret, ws_payload({k: str(v) for k, v in params.items()}))
            request_id = f"mmbot-{next(request_ids)}"
            await ws.send_json({"id": request_id, "method": SUBSCRIBE_METHOD, "params": params})
            reply = await _reply(ws, request_id)
            if reply.get("status") == 200:
                return ws, int(reply["result"]["subscriptionId"])
            error = reply.get("error") or {}
            code, msg = int(error.get("code", 0)), str(error.get("msg", "subscribe failed"))
            if code == -1021:
                on_timestamp_reject()
            if code == -1021 and attempt == 1:
                await time_sync.resync(generation)
                continue
            raise venue_error(code, f"{SUBSCRIBE_METHOD}: {msg}")
        raise AssertionError("unreachable")  # pragma: no cover
    except BaseException:
        await ws.close()
        raise


async def _reply(ws: WsConnection, request_id: str) -> dict[str, Any]:
    for _ in range(_MAX_REPLY_SKIPS):
        frame = await ws.receive()
        if frame.kind != "text":
            raise BotError(ErrorCode.NETWORK, f"{SUBSCRIBE_METHOD}: connection ended before the answer")
        try:
            body = frame.json()
        except ValueError:
            raise BotError(ErrorCode.NETWORK, f"{SUBSCRIBE_METHOD}: malformed answer") from None
        if isinstance(body, dict) and body.get("id") == request_id:
            return body
    raise BotError(ErrorCode.NETWORK, f"{SUBSCRIBE_METHOD}: no answer among {_MAX_REPLY_SKIPS} messages")


class UserEventHandler:
    """Translates the messages of one subscription; ``subscription_id`` is set once subscribed."""

    def __init__(self, symbol_info: Callable[[str], Awaitable[SymbolInfo]]) -> None:
        self._symbol_info = symbol_info
        self.subscription_id: int | None = None

    async def __call__(self, message: Any) -> Sequence[UserEvent]:
        if not isinstance(message, dict) or "event" not in message:
            return ()  # answers to requests
        event = message["event"]
        kind = event.get("e") if isinstance(event, dict) else None
        if kind == "serverShutdown":
            raise BotError(ErrorCode.NETWORK, "user stream: the venue announced a shutdown")
        if message.get("subscriptionId") != self.subscription_id:
            return ()
        if kind == "executionReport":
            return (wire.execution_report(await self._symbol_info(event["s"]), event),)
        if kind == "outboundAccountPosition":
            return wire.account_position(event)
        if kind == "eventStreamTerminated":
            raise BotError(ErrorCode.NETWORK, "user stream: subscription terminated by the venue")
        return ()
