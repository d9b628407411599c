"""Fuzz the wire server in-process (aiohttp test client): malformed requests get a 4xx, never a 5xx, and change no
account's state (balances, open orders, order history, trades).

Three request families: any route with random query, body, headers and a signature that cannot be valid; signed
order requests with a *valid* signature but at least one malformed field (off-grid or non-numeric price, a
look-alike symbol, unknown enums...); raw WebSocket-API texts. Examples are bounded and derandomized by the
profile (property/conftest.py); no wall-clock deadline. Rate limits are raised so that no ban hides an answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from exchange_sim.engine.types import AccountId
from exchange_sim.market.config import MarketConfig
from exchange_sim.server import (
    DEMO_ACCOUNT,
    DEMO_API_KEY,
    DEMO_SECRET,
    LimitsConfig,
    ServerConfig,
    create_app,
    errors,
    rest,
    ws_api,
)
from exchange_sim.server.state import ServerState

pytestmark = pytest.mark.property
FUZZ = settings(max_examples=150, deadline=None)
ACCOUNT = AccountId(DEMO_ACCOUNT.name)
PATHS = sorted({path for _, path, _ in rest.ROUTES} | {"/api/v3/nope", "/api/v3/order/", "/", "/api/v3/depth/x"})
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH"]
KEYS = ["symbol", "side", "type", "timeInForce", "quantity", "price", "orderId", "origClientOrderId", "limit",
        "newClientOrderId", "recvWindow", "timestamp", "signature", "cancelReplaceMode", "cancelOrderId", "fromId"]


@dataclass
class Wire:
    loop: asyncio.AbstractEventLoop
    client: TestClient[Any, Any]
    state: ServerState

    def request(self, method: str, path: str, *, query: str = "", body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        url = URL(str(self.client.make_url(path)) + (f"?{query}" if query else ""), encoded=True)  # bytes as signed

        async def go() -> tuple[int, bytes]:
            async with self.client.session.request(method, url, data=body, headers=headers or {}) as resp:
                return resp.status, await resp.read()
        return self.loop.run_until_complete(go())

    def account_state(self) -> tuple[object, ...]:
        engine = self.state.engine
        balances = {asset: (b.free_atoms, b.locked_atoms) for asset, b in engine.balances(ACCOUNT).items()}
        return balances, [o.order_id for o in engine.open_orders(ACCOUNT)], engine.account_sizes(ACCOUNT)


@pytest.fixture(scope="module")
def wire() -> Iterator[Wire]:
    loop = asyncio.new_event_loop()
    limits = LimitsConfig(weight_per_minute=10**9, orders_per_10s=10**9, orders_per_day=10**9)
    config = ServerConfig(port=0, seed=5, market=MarketConfig(symbols=("BTCUSDT",)), limits=limits)
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(config)), loop=loop)
    loop.run_until_complete(client.start_server())
    try:
        yield Wire(loop, client, client.app[rest.STATE])
    finally:
        loop.run_until_complete(client.close())
        loop.close()


def sign(query: str) -> str:
    return hmac.new(DEMO_SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)  # the server checks recvWindow against its own clock; no assertion on time


texts = st.text(max_size=40)
pairs = st.lists(st.tuples(st.sampled_from(KEYS) | texts, texts), max_size=8)


@FUZZ
@given(method=st.sampled_from(METHODS), path=st.sampled_from(PATHS), params=pairs,
       signature=st.none() | texts | st.just("0" * 64), body=st.none() | st.binary(max_size=200),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "",
                                     "text/plain; charset=nope", "application/x-www-form-urlencoded; charset=latin-1"]),
       api_key=st.sampled_from([DEMO_API_KEY, "", "bogus", "é"]))
def test_a_request_without_a_valid_signature_is_a_4xx_and_changes_nothing(
    wire: Wire, method: str, path: str, params: list[tuple[str, str]], signature: str | None, body: bytes | None,
    content_type: str, api_key: str,
) -> None:
    before = wire.account_state()
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params)
    if signature is not None:
        query += f"&signature={quote(signature)}"
    headers = {"Content-Type": content_type} if content_type else {}
    if api_key.isascii():
        headers["X-MBX-APIKEY"] = api_key
    status, answer = wire.request(method, path, query=query, body=body, headers=headers)
    assert status < 500, (status, answer)
    if status >= 400 and answer:
        assert "code" in orjson.loads(answer)
    assert wire.account_state() == before


BAD_FIELDS: dict[str, list[str]] = {
    "symbol": ["btcuſdt", "BTCUSDT ", "", "ETHUSDT\x00", "B" * 300],
    "side": ["HOLD", "", "BUY\u200b"],
    "type": ["LIMITED", "", "MARKET_MAKER"],
    "quantity": ["-1", "abc", "1e400", "0", "NaN", "0.0000000001", "１"],
    "price": ["100000005.00000000000000000001", "-5", "Infinity", "1,000", "0x10", ""],
    "timeInForce": ["FOREVER", "G T C"],
}
GOOD = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
        "price": "50000.00"}


@FUZZ
@given(bad=st.dictionaries(st.sampled_from(sorted(BAD_FIELDS)), st.just(""), min_size=1).flatmap(
    lambda keys: st.fixed_dictionaries({k: st.sampled_from(BAD_FIELDS[k]) for k in keys})),
    route=st.sampled_from([("POST", "/api/v3/order"), ("POST", "/api/v3/order/cancelReplace"),
                           ("DELETE", "/api/v3/openOrders")]),
    in_body=st.booleans())
def test_a_signed_order_with_a_malformed_field_is_refused_and_changes_nothing(
    wire: Wire, bad: dict[str, str], route: tuple[str, str], in_body: bool,
) -> None:
    before = wire.account_state()
    params = {**GOOD, "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": "1", **bad, "timestamp": str(now_ms())}
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    payload = f"{query}&signature={sign(query)}"
    headers = {"X-MBX-APIKEY": DEMO_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
    method, path = route
    if in_body:
        status, answer = wire.request(method, path, body=payload.encode(), headers=headers)
    else:
        status, answer = wire.request(method, path, query=payload, headers=headers)
    assert 400 <= status < 500, (status, answer)
    assert orjson.loads(answer)["code"] != errors.INVALID_SIGNATURE  # it reached the parameter checks
    assert wire.account_state() == before


def test_the_state_probe_sees_a_valid_order_and_its_cancel(wire: Wire) -> None:
    """The control: the probe the fuzz tests compare would notice a request that did change something."""
    before = wire.account_state()
    query = "&".join(f"{k}={v}" for k, v in {**GOOD, "timestamp": str(now_ms())}.items())
    headers = {"X-MBX-APIKEY": DEMO_API_KEY}
    status, answer = wire.request("POST", "/api/v3/order", query=f"{query}&signature={sign(query)}", headers=headers)
    assert status == 200, answer
    assert wire.account_state() != before
    cancel = f"symbol=BTCUSDT&timestamp={now_ms()}"
    status, answer = wire.request("DELETE", "/api/v3/openOrders", query=f"{cancel}&signature={sign(cancel)}",
                                  headers=headers)
    assert status == 200, answer
    assert wire.account_state()[1] == before[1]  # nothing open again


json_ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what a JSON encoder (orjson) can write
ws_params = st.dictionaries(st.sampled_from(KEYS) | texts, texts | json_ints | st.none() | st.floats(), max_size=6)
ws_texts = st.one_of(
    texts,
    st.builds(lambda i, m, p: orjson.dumps({"id": i, "method": m, "params": p}).decode(),
              st.none() | json_ints | texts, st.sampled_from([*ws_api._SIGNED, "ping", "time", "depth"]) | texts,
              ws_params),
)


@FUZZ
@given(text=ws_texts)
def test_a_malformed_websocket_api_request_is_a_4xx_answer_and_changes_nothing(wire: Wire, text: str) -> None:
    before = wire.account_state()

    async def answer() -> Any:
        return await ws_api.handle_request(wire.state, None, text)  # type: ignore[arg-type]

    reply = wire.loop.run_until_complete(answer())
    assert isinstance(reply, dict)
    assert reply.get("status", 200) < 500, reply
    assert wire.account_state() == before
