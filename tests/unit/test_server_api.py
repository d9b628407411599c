"""The wire server's REST and WebSocket-API semantics without sockets: ``api.handle`` and ``WsApiSession`` on a
``ServerState`` attached to a SimWorld's venue, in virtual time (what the in-process transport calls)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest

from bot.connectors.binance.config import SecretStr
from bot.connectors.binance.signing import signed_query
from exchange_sim.engine.types import AccountId, ErrorCode, PlaceRequest, PlaceResult, decimal_to_atoms
from exchange_sim.faults.errors import too_many_requests, unavailable
from exchange_sim.server import DEMO_ACCOUNT, DEMO_API_KEY, DEMO_SECRET, ServerConfig
from exchange_sim.server.api import ApiRequest, ApiResponse, handle
from exchange_sim.server.auth import sign, ws_payload
from exchange_sim.server.clock import VirtualServerClock
from exchange_sim.server.state import ServerState
from exchange_sim.server.ws_api import WsApiSession
from exchange_sim.venue import VenueClient
from exchange_sim.world import SimWorld

T = TypeVar("T")
EPOCH_MS = 1_700_000_000_000
ACCOUNT = AccountId(DEMO_ACCOUNT.name)


class Sink:
    """An ``Outbound`` that keeps what it is given."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.closed: tuple[int, str] | None = None

    def send_json(self, payload: object) -> None:
        self.messages.append(payload)

    def send_bytes(self, data: bytes) -> None:
        self.messages.append(orjson.loads(data))

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


def _demo_clients(world: SimWorld) -> dict[AccountId, VenueClient]:
    world.venue.open_account(ACCOUNT, {a: decimal_to_atoms(v) for a, v in DEMO_ACCOUNT.balances.items()})
    return {ACCOUNT: world.venue.connect(ACCOUNT)}


def _world(log_path: Path | None = None) -> tuple[SimWorld, ServerState, VenueClient]:
    world = SimWorld(seed=3, duration_s=60.0, log_path=log_path)
    clients = _demo_clients(world)
    state = ServerState.attach(ServerConfig(), venue=world.venue, log=world.log,
                               clock=VirtualServerClock(world.runtime, epoch_start_ms=EPOCH_MS), clients=clients)
    return world, state, clients[ACCOUNT]


def _run(world: SimWorld, main: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        return await main()
    try:
        return world.run(go())
    finally:
        world.close()


def _signed(state: ServerState, method: str, path: str, params: list[tuple[str, str]], *,
            secret: str = DEMO_SECRET) -> ApiRequest:
    query = signed_query([*params, ("timestamp", str(state.driver.epoch_ms()))], SecretStr(secret))
    return ApiRequest(method=method, path=path, raw_query=query, headers={"x-mbx-apikey": DEMO_API_KEY})


def _bid(state: ServerState) -> Decimal:
    best = state.engine.best_bid("BTCUSDT")
    assert best is not None
    return state.engine.spec("BTCUSDT").ticks_to_price(best[0])


def _limit_buy(state: ServerState, price: Decimal, **extra: str) -> list[tuple[str, str]]:
    return [("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"),
            ("quantity", "0.001"), ("price", str(price)), *extra.items()]


def test_signed_place_answers_the_order_with_weight_and_order_count_headers() -> None:
    world, state, _ = _world()

    async def main() -> ApiResponse:
        request = _signed(state, "POST", "/api/v3/order", _limit_buy(state, _bid(state) - 100,
                                                                      newClientOrderId="a-1"))
        return await handle(state, request)

    response = _run(world, main)
    assert response.status == 200, response.payload
    assert isinstance(response.payload, dict)
    assert response.payload["clientOrderId"] == "a-1" and response.payload["status"] == "NEW"
    assert orjson.loads(response.body) == response.payload
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    assert (response.headers["X-MBX-ORDER-COUNT-10S"], response.headers["X-MBX-ORDER-COUNT-1D"]) == ("1", "1")
    assert [o.client_order_id for o in state.engine.open_orders(ACCOUNT)] == ["a-1"]


def test_a_wrong_signature_is_refused_with_minus_1022_and_not_executed() -> None:
    world, state, _ = _world()

    async def main() -> ApiResponse:
        request = _signed(state, "POST", "/api/v3/order", _limit_buy(state, _bid(state) - 100), secret="not-it")
        return await handle(state, request)

    response = _run(world, main)
    assert (response.status, response.payload) == (400, {"code": -1022, "msg": "Signature for this request is "
                                                                                "not valid."})
    assert response.headers["X-MBX-ORDER-COUNT-10S"] == "0"
    assert state.engine.open_orders(ACCOUNT) == []


def test_unknown_path_is_404_and_wrong_method_405_both_charged() -> None:
    world, state, _ = _world()

    async def main() -> tuple[ApiResponse, ApiResponse]:
        missing = await handle(state, ApiRequest(method="GET", path="/api/v3/nothing", raw_query=""))
        wrong = await handle(state, ApiRequest(method="PUT", path="/api/v3/order", raw_query=""))
        return missing, wrong

    missing, wrong = _run(world, main)
    assert (missing.status, missing.payload) == (404, {"code": -1020, "msg": "Unknown endpoint."})
    assert (wrong.status, wrong.payload) == (405, {"code": -1020, "msg": "Method not allowed."})
    assert wrong.headers["X-MBX-USED-WEIGHT-1M"] == "2"


def test_a_malformed_parameter_is_minus_1100_and_still_costs_weight() -> None:
    world, state, _ = _world()

    async def main() -> tuple[ApiResponse, ApiResponse]:
        bad_query = await handle(state, ApiRequest(method="GET", path="/api/v3/depth", raw_query="symbol"))
        bad_symbol = await handle(state, ApiRequest(method="GET", path="/api/v3/depth", raw_query="symbol=btcusdt"))
        return bad_query, bad_symbol

    bad_query, bad_symbol = _run(world, main)
    assert bad_query.status == 400 and bad_query.payload == {
        "code": -1100, "msg": "Illegal characters found in a parameter."}
    assert bad_query.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    assert bad_symbol.status == 400 and isinstance(bad_symbol.payload, dict)
    assert bad_symbol.payload["code"] == -1100
    assert bad_symbol.headers["X-MBX-USED-WEIGHT-1M"] == "6"  # + depth weight 5


def test_time_goes_through_the_client_and_its_latency() -> None:
    world, state, client = _world()

    async def main() -> tuple[float, float, ApiResponse, ApiResponse]:
        before = world.runtime.now()
        direct = await handle(state, ApiRequest(method="GET", path="/api/v3/time", raw_query=""))
        mid = world.runtime.now()
        through = await handle(state, ApiRequest(method="GET", path="/api/v3/time", raw_query="", client=client))
        return before, mid, direct, through

    before, mid, direct, through = _run(world, main)
    assert mid == before  # no client: the server's clock, now
    assert direct.payload == {"serverTime": EPOCH_MS + round(before * 1e6) // 1000}
    assert client.requests == 1 and world.runtime.now() > mid  # a round trip of virtual time
    assert isinstance(through.payload, dict)
    assert EPOCH_MS + mid * 1000 < through.payload["serverTime"] <= EPOCH_MS + world.runtime.now() * 1000


def test_depth_and_exchange_info_through_the_client_match_the_book() -> None:
    world, state, client = _world()

    async def main() -> tuple[ApiResponse, ApiResponse]:
        depth = await handle(state, ApiRequest(method="GET", path="/api/v3/depth",
                                               raw_query="symbol=BTCUSDT&limit=5", client=client))
        info = await handle(state, ApiRequest(method="GET", path="/api/v3/exchangeInfo",
                                              raw_query="symbol=BTCUSDT", client=client))
        return depth, info

    depth, info = _run(world, main)
    assert client.requests == 2
    assert depth.status == 200 and isinstance(depth.payload, dict) and len(depth.payload["bids"]) == 5
    assert Decimal(depth.payload["bids"][0][0]) < Decimal(depth.payload["asks"][0][0])
    assert isinstance(info.payload, dict) and [s["symbol"] for s in info.payload["symbols"]] == ["BTCUSDT"]


class RateLimitedClient(VenueClient):
    """A client whose injector answers every time request 429 (as the in-process FaultInjector would)."""

    async def server_time_us(self) -> int:
        raise too_many_requests(6000, 60.0, retry_after_s=7)


def test_a_venue_http_error_from_the_client_renders_its_status_and_retry_after() -> None:
    world, state, client = _world()
    limited = RateLimitedClient(world.venue, ACCOUNT, client.latency)

    async def main() -> ApiResponse:
        return await handle(state, ApiRequest(method="GET", path="/api/v3/time", raw_query="", client=limited))

    response = _run(world, main)
    assert response.status == 429 and response.headers["Retry-After"] == "7"
    assert isinstance(response.payload, dict) and response.payload["code"] == int(ErrorCode.TOO_MANY_REQUESTS)
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "1"


def _subscribe_text(state: ServerState, req_id: int) -> str:
    params: dict[str, object] = {"apiKey": DEMO_API_KEY, "timestamp": state.driver.epoch_ms(), "recvWindow": 5000}
    params["signature"] = sign(DEMO_SECRET, ws_payload({k: str(v) for k, v in params.items()}))
    return orjson.dumps({"id": req_id, "method": "userDataStream.subscribe.signature", "params": params}).decode()


def test_ws_api_session_subscription_delivers_the_execution_reports_of_a_fill() -> None:
    world, state, _ = _world()
    sink = Sink()
    session = WsApiSession(state, sink, remote="10.0.0.1")

    def filled() -> bool:
        return any(m["event"].get("X") == "FILLED" for m in sink.messages[1:])

    async def main() -> ApiResponse:
        await session.on_text(_subscribe_text(state, 1))
        placed = await handle(state, _signed(state, "POST", "/api/v3/order", [
            ("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.01"),
            ("newClientOrderId", "u-1")]))
        for _ in range(1000):  # the user feed arrives after its simulated delay (virtual time)
            if filled():
                break
            await asyncio.sleep(0.001)
        session.close()
        return placed

    placed = _run(world, main)
    assert placed.status == 200 and isinstance(placed.payload, dict) and placed.payload["status"] == "FILLED"
    answer = sink.messages[0]
    assert answer["id"] == 1 and answer["status"] == 200 and answer["result"] == {"subscriptionId": 1}
    assert all(m["subscriptionId"] == 1 for m in sink.messages[1:])
    reports = [m["event"] for m in sink.messages[1:] if m["event"]["e"] == "executionReport"]
    assert reports[0]["x"] == "NEW" and reports[-1]["X"] == "FILLED" and reports[-1]["c"] == "u-1"
    assert any(r["x"] == "TRADE" for r in reports)
    assert any(m["event"]["e"] == "outboundAccountPosition" for m in sink.messages[1:])
    assert sink.closed is None


class UnavailableClient(VenueClient):
    """A client whose injector answers every new order 503 -1007 (execution status unknown)."""

    async def place(self, request: PlaceRequest) -> PlaceResult:
        raise unavailable(write=True)


def test_a_venue_http_error_on_a_signed_write_is_503_execution_unknown() -> None:
    world = SimWorld(seed=3, duration_s=60.0)
    world.venue.open_account(ACCOUNT, {a: decimal_to_atoms(v) for a, v in DEMO_ACCOUNT.balances.items()})
    client = UnavailableClient(world.venue, ACCOUNT, world.venue.connect(ACCOUNT).latency)
    state = ServerState.attach(ServerConfig(), venue=world.venue, log=world.log,
                               clock=VirtualServerClock(world.runtime, epoch_start_ms=EPOCH_MS),
                               clients={ACCOUNT: client})

    async def main() -> ApiResponse:
        return await handle(state, _signed(state, "POST", "/api/v3/order", _limit_buy(state, _bid(state) - 100)))

    response = _run(world, main)
    assert response.status == 503 and "Retry-After" not in response.headers
    assert isinstance(response.payload, dict) and response.payload["code"] == int(ErrorCode.TIMEOUT)
    assert response.headers["X-MBX-ORDER-COUNT-10S"] == "1"


def test_subscription_ids_count_per_state_so_every_run_gives_the_same_ids() -> None:
    answers = []
    for _ in range(2):
        world, state, _ = _world()
        sink = Sink()
        session = WsApiSession(state, sink)

        async def main(session: WsApiSession = session, state: ServerState = state) -> None:
            await session.on_text(_subscribe_text(state, 7))
            await session.on_text(_subscribe_text(state, 8))
            await session.aclose()

        _run(world, main)
        answers.append([(m["id"], m["result"]) for m in sink.messages])
    assert answers[0] == answers[1] == [(7, {"subscriptionId": 1}), (8, {"subscriptionId": 2})]


def test_an_attached_state_leaves_the_worlds_log_open_and_builds_no_market(tmp_path: Path) -> None:
    world, state, _ = _world(tmp_path / "events.jsonl")
    state.start()
    state.close()
    assert state.market is None
    world.log.record(0, "probe", {})  # still writable: the world owns its log
    world.close()
    assert b'"probe"' in (tmp_path / "events.jsonl").read_bytes()


def test_virtual_server_clock_reads_virtual_time_plus_its_skew() -> None:
    world = SimWorld(seed=3, duration_s=60.0)
    clock = VirtualServerClock(world.runtime, epoch_start_ms=EPOCH_MS, skew_ms=lambda: -250.0)
    ServerState.attach(ServerConfig(), venue=world.venue, log=world.log, clock=clock,
                       clients=_demo_clients(world))

    async def main() -> tuple[int, int]:
        await asyncio.sleep(2.5)
        return clock.epoch_ms(), clock.epoch_ms_of(1_000_999)

    now_ms, of_ms = _run(world, main)
    assert now_ms == EPOCH_MS + 2500 - 250  # the state's (empty) fault skew did not replace the given one
    assert of_ms == EPOCH_MS + 1000


def test_attach_refuses_an_account_without_a_client() -> None:
    world = SimWorld(seed=3, duration_s=60.0)
    clock = VirtualServerClock(world.runtime)
    with pytest.raises(ValueError, match="no VenueClient for accounts"):
        ServerState.attach(ServerConfig(), venue=world.venue, log=world.log, clock=clock, clients={})
    world.close()
