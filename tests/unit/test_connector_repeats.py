"""A market message object delivered again gives its first translation again; every distinct message is parsed.

The in-process transport hands the very same decoded object to the reader when the venue sends one message
several times (a memory-pressure flood of copies); the connector translates it once. A message that is equal but
a different object, or different in any field, is parsed field by field as before.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from typing import Any

from bot.connectors.binance import BinanceConnector
from bot.connectors.binance.transport import HttpReply, WsConnection, WsFrame
from tests.unit.binance_fixtures import EXCHANGE_INFO, SERVER_MS, config

BOUND_S = 5.0
DEPTH = {"e": "depthUpdate", "E": SERVER_MS, "s": "BTCUSDT", "U": 101, "u": 103,
         "b": [["60000.00", "0.50000"]], "a": [["60000.01", "0"]]}


class _Socket:
    """Sends ``frames`` in order, then stays open and silent."""

    def __init__(self, frames: list[Any]) -> None:
        self._frames = frames
        self.closed = False

    async def send_json(self, obj: Any) -> None:
        """Nothing to subscribe: the stream is named in the URL."""

    async def receive(self) -> WsFrame:
        if self._frames:
            return WsFrame("text", payload=self._frames.pop(0))
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable")

    async def close(self) -> None:
        self.closed = True


class _Transport:
    def __init__(self, frames: list[Any]) -> None:
        self._frames = frames

    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> HttpReply:
        if url.endswith("/time"):
            return HttpReply(status=200, headers={}, text="", payload={"serverTime": SERVER_MS})
        assert "/exchangeInfo" in url
        return HttpReply(status=200, headers={}, text="", payload=EXCHANGE_INFO)

    async def ws_connect(self, url: str, *, heartbeat_s: float) -> WsConnection:
        return _Socket(self._frames)

    async def close(self) -> None:
        """Nothing to release."""


async def test_a_repeated_message_object_reuses_its_translation_and_distinct_ones_are_parsed() -> None:
    message = {"stream": "btcusdt@depth@100ms", "data": DEPTH}
    equal = copy.deepcopy(message)
    moved = {"stream": "btcusdt@depth@100ms", "data": {**DEPTH, "U": 104, "u": 104, "b": [["59999.99", "1.5"]]}}
    connector = BinanceConnector(config(), transport=_Transport([message, message, message, equal, moved, message]))
    stream = connector.depth_updates("BTCUSDT")
    async with asyncio.timeout(BOUND_S):
        updates = [await anext(stream) for _ in range(6)]
    await connector.close()
    assert updates[1] is updates[0] and updates[2] is updates[0]  # the same object again: translated once
    assert updates[3] == updates[0] and updates[3] is not updates[0]  # an equal but new message: parsed
    assert (updates[4].first_update_id, updates[4].bids[0].price_ticks, updates[4].bids[0].qty_lots) == (
        104, 5_999_999, 150_000)
    assert updates[5] == updates[0] and updates[5] is not updates[0]  # not the last message: parsed again
    assert (updates[0].bids[0].price_ticks, updates[0].bids[0].qty_lots) == (6_000_000, 50_000)
