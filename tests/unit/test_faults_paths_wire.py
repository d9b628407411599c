"""Completeness of the fault catalogue on the wire server: every kind has an effect on every path it claims that
the wire carries (``paths.TRANSPORT_PATHS``: request, response, stream).

Request and response paths: one real HTTP request to a running server on 127.0.0.1, the effect asserted on what
the client gets (status, Binance code, a dropped connection) and on the venue (executed or not). Windows on the
wire are wall-clock seconds since the server started, so the faults are armed for a minute and fire on the
first order (``trigger=next_order``) where their length matters. Stream path: one message pushed through a
``FeedGate`` (the wire's delivery of ``frames.FramePipe``) or one socket asking ``ServerFaults`` how it must end
or whether its frame is cut, on a fixed clock. No assertion reads the wall clock: latency is asserted on the
delays the server asks for, and a delayed frame only on its order (not at once, then delivered)."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Any

import aiohttp
import pytest
import simpy

import exchange_sim.server.faults as server_faults
from exchange_sim.eventlog import EventLog
from exchange_sim.faults import CATALOGUE, Fault, FaultKind, Scenario
from exchange_sim.faults.paths import APPLIES, WIRE, Path, transports
from exchange_sim.server.faults import ServerFaults
from exchange_sim.server.feed_gate import FeedGate
from tests.server_support import Server, now_ms, running_server

K = FaultKind
RARE = 0.0001  # toxicity: the fault's first order request is hit, the status query after it (a read) is not


def _limit(server: Server, cid: str, below: int = 200) -> dict[str, Any]:
    engine = server.state.engine
    bid = engine.best_bid("BTCUSDT")
    assert bid is not None
    price = engine.spec("BTCUSDT").ticks_to_price(bid[0]) - Decimal(below)
    return {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
            "price": str(price), "newClientOrderId": cid}


async def _order_status(server: Server, cid: str) -> str | None:
    status, body, _ = await server.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": cid})
    return str(body["status"]) if status == 200 else None  # type: ignore[index]


Check = Callable[[Server], Awaitable[None]]


def _rest(fault: Fault, check: Check) -> Callable[[FilePath], None]:
    """Run ``check`` against a server with ``fault``; a partitioned request hangs 0.2 s (not until the fault
    heals) before its connection is dropped."""
    def probe(log: FilePath) -> None:
        async def run() -> None:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(server_faults, "MAX_HANG_S", 0.2)
                async with running_server(scenario=Scenario((fault,)), log_path=log) as server:
                    await check(server)
                    assert server.state.faults.hits[0] > 0
        asyncio.run(run())
    return probe


async def _dropped(server: Server, cid: str) -> None:
    """The order request gets no answer: the connection is dropped."""
    with pytest.raises(aiohttp.ClientError):
        await server.signed("POST", "/api/v3/order", _limit(server, cid))


async def _partition_request(server: Server) -> None:
    await _dropped(server, "w-1")
    assert await _order_status(server, "w-1") is None  # never executed


async def _partition_response(server: Server) -> None:
    await _dropped(server, "w-1")
    assert await _order_status(server, "w-1") == "NEW"  # executed, the reply lost


async def _truncated_reply(server: Server) -> None:
    await _partition_response(server)


def _latency(path: Path) -> Callable[[FilePath], None]:
    """The server sleeps the fault's delay before executing (request) and after (response)."""
    def probe(log: FilePath) -> None:
        asked: list[float] = []

        async def sleep(delay_s: float) -> None:
            asked.append(delay_s)
            await asyncio.sleep(0)

        async def run() -> None:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(server_faults, "asyncio", types.SimpleNamespace(sleep=sleep))
                fault = Fault(K.LATENCY, "rest", 0.0, 60.0, {"latency_ms": 250.0})
                async with running_server(scenario=Scenario((fault,)), log_path=log) as server:
                    status, _, _ = await server.signed("POST", "/api/v3/order", _limit(server, "w-1"))
                    assert status == 200
        asyncio.run(run())
        assert len(asked) == 2
        assert asked[0 if path is Path.REQUEST else 1] >= 0.25
    return probe


def _answers(status: int, code: int, *, executed: bool | None = None) -> Check:
    async def check(server: Server) -> None:
        got, body, headers = await server.signed("POST", "/api/v3/order", _limit(server, "w-1"))
        assert (got, body["code"]) == (status, code)  # type: ignore[index]
        if status == 429:
            assert int(headers["Retry-After"]) >= 1
        if executed is not None:
            assert (await _order_status(server, "w-1") is not None) == executed
    return check


async def _clock_skew(server: Server) -> None:
    got, body, _ = await server.signed("POST", "/api/v3/order", _limit(server, "w-1"))
    assert (got, body["code"]) == (400, -1021)  # type: ignore[index]  # 60 s ahead of the server's clock
    _, time_body, _ = await server.get("/api/v3/time")
    assert time_body["serverTime"] < now_ms() - 50_000  # type: ignore[index]


async def _cancel_replace_half(server: Server) -> None:
    status, old, _ = await server.signed("POST", "/api/v3/order", _limit(server, "w-old"))
    assert status == 200
    new = {**_limit(server, "w-new", 300), "cancelReplaceMode": "STOP_ON_FAILURE",
           "cancelOrderId": old["orderId"]}  # type: ignore[index]
    status, half, _ = await server.signed("POST", "/api/v3/order/cancelReplace", new)
    assert (status, half["code"]) == (409, -2021)  # type: ignore[index]
    assert await _order_status(server, "w-old") == "CANCELED" and await _order_status(server, "w-new") is None


# -- streams: a FeedGate and the socket's questions to ServerFaults, on a fixed clock --
class FixedClock:
    """A ``ServerClock`` standing at ``elapsed`` seconds."""

    def __init__(self, elapsed: float = 1.0) -> None:
        self.env = simpy.Environment()
        self.elapsed = elapsed
        self.skew_ms: Callable[[float], float] = lambda _now_s: 0.0

    def now(self) -> float:
        return self.elapsed

    def now_us(self) -> int:
        return round(self.elapsed * 1e6)

    def elapsed_s(self) -> float:
        return self.elapsed

    def epoch_ms(self) -> int:
        return round(self.elapsed * 1000)

    def epoch_ms_of(self, sim_us: int) -> int:
        return sim_us // 1000

    def sync(self) -> None:
        """Nothing to advance."""


def _wire_faults(fault: Fault, log: FilePath) -> ServerFaults:
    return ServerFaults(Scenario((fault,)), seed=3, driver=FixedClock(), log=EventLog(log))


DEPTH = b'{"e":"depthUpdate","U":1,"u":2}'
TRADE_REPORT = {"e": "executionReport", "x": "TRADE", "c": "w-1", "t": 5}


def _gate(kind: FaultKind, target: str, params: dict[str, Any], *, expect: Callable[[list[Any]], bool],
          wait_s: float = 0.0) -> Callable[[FilePath], None]:
    """Push one message through a FeedGate (depth, or a user trade report for target ``user``): nothing may reach
    the sockets at once unless ``wait_s`` is 0; ``expect`` judges what reached them after ``wait_s``."""
    def probe(log: FilePath) -> None:
        faults = _wire_faults(Fault(kind, target, 0.0, 60.0, params), log)
        sent: list[Any] = []

        async def run() -> None:
            user = target == "user"
            gate = FeedGate(faults, "user" if user else "ws", None if user else "BTCUSDT", sent.append,
                            depth=not user)
            gate.push(TRADE_REPORT if user else DEPTH)
            if wait_s:
                assert sent == [], f"{kind.value}: delivered at once"
                await asyncio.sleep(wait_s)
        asyncio.run(run())
        assert expect(sent), f"{kind.value}: the sockets got {sent}"
        assert faults.hits[0] > 0 or kind in (K.LATENCY, K.SLICER, K.BANDWIDTH)  # a lone delay is not a hit
    return probe


def _ends(kind: FaultKind, params: dict[str, Any], effect: str) -> Callable[[FilePath], None]:
    """A socket opened before the fault is told how to end (``ServerFaults.stream_end``)."""
    def probe(log: FilePath) -> None:
        faults = _wire_faults(Fault(kind, "ws", 0.5, 30.0, params), log)
        end = faults.stream_end("ws", 0.0)
        assert end is not None and end[:2] == (0, effect)
        assert faults.stream_end("ws", 0.8) is None  # a socket opened after the fault acted is left alone
    return probe


def _cut(log: FilePath) -> None:
    faults = _wire_faults(Fault(K.TRUNCATED_FRAME, "ws", 0.0, 60.0), log)
    assert faults.truncates("ws")


def _nothing(sent: list[Any]) -> bool:
    return sent == []


def _once(sent: list[Any]) -> bool:
    return sent == [DEPTH]


def _redelivered(sent: list[Any]) -> bool:
    return [m["t"] for m in sent][:1] == [5] and len(sent) == 2 and sent[1]["t"] != 5


PROBES: dict[tuple[FaultKind, Path], Callable[[FilePath], None]] = {
    (K.PARTITION, Path.REQUEST): _rest(Fault(K.PARTITION, "rest", 0.0, 60.0, {"direction": "upstream"}, RARE),
                                       _partition_request),
    (K.PARTITION, Path.RESPONSE): _rest(Fault(K.PARTITION, "rest", 0.0, 60.0, {"direction": "downstream"}, RARE),
                                        _partition_response),
    (K.PARTITION, Path.STREAM): _gate(K.PARTITION, "ws", {}, expect=_nothing),
    (K.LATENCY, Path.REQUEST): _latency(Path.REQUEST),
    (K.LATENCY, Path.RESPONSE): _latency(Path.RESPONSE),
    (K.LATENCY, Path.STREAM): _gate(K.LATENCY, "ws", {"latency_ms": 40.0}, expect=_once, wait_s=0.2),
    (K.BANDWIDTH, Path.STREAM): _gate(K.BANDWIDTH, "ws", {}, expect=_once, wait_s=0.2),
    (K.SLICER, Path.STREAM): _gate(K.SLICER, "ws", {"delay_us": 10_000.0}, expect=_once, wait_s=0.2),
    (K.TIMEOUT_AFTER_PROCESSING, Path.RESPONSE): _rest(Fault(K.TIMEOUT_AFTER_PROCESSING, "rest", 0.0, 60.0),
                                                       _answers(503, -1007, executed=True)),
    (K.RESET_PEER, Path.STREAM): _ends(K.RESET_PEER, {}, "reset"),
    (K.CLOCK_SKEW, Path.REQUEST): _rest(Fault(K.CLOCK_SKEW, "rest", 0.0, 60.0, {"offset_ms": -60_000.0}),
                                        _clock_skew),
    (K.RATE_LIMIT, Path.REQUEST): _rest(Fault(K.RATE_LIMIT, "rest", 0.0, 60.0, {"weight_limit": 0.0}),
                                        _answers(429, -1003, executed=False)),
    (K.OUTAGE, Path.REQUEST): _rest(Fault(K.OUTAGE, "rest", 0.0, 60.0), _answers(503, -1007)),
    (K.REJECT, Path.REQUEST): _rest(Fault(K.REJECT, "rest", 0.0, 60.0), _answers(400, -2010, executed=False)),
    (K.FEED_GAP, Path.STREAM): _gate(K.FEED_GAP, "ws", {"mode": "drop"}, expect=_nothing),
    (K.USER_STREAM, Path.STREAM): _gate(K.USER_STREAM, "user", {"mode": "missed"}, expect=_nothing),
    (K.STALE_FEED, Path.STREAM): _gate(K.STALE_FEED, "ws", {}, expect=_nothing),
    (K.TRUNCATED_FRAME, Path.RESPONSE): _rest(Fault(K.TRUNCATED_FRAME, "rest", 0.0, 60.0, {}, RARE),
                                               _truncated_reply),
    (K.TRUNCATED_FRAME, Path.STREAM): _cut,
    (K.SLOW_CLOSE, Path.STREAM): _ends(K.SLOW_CLOSE, {"close_s": 2.0}, "slow_close"),
    (K.SERVER_DISCONNECT, Path.STREAM): _ends(K.SERVER_DISCONNECT, {"reason": "missed_pong"}, "missed_pong"),
    (K.CANCEL_REPLACE_HALF, Path.REQUEST): _rest(Fault(K.CANCEL_REPLACE_HALF, "rest", 0.0, 60.0),
                                                 _cancel_replace_half),
    (K.REPORT_REDELIVERED, Path.STREAM): _gate(K.REPORT_REDELIVERED, "user", {}, expect=_redelivered),
}
CASES = [(kind, path) for kind in CATALOGUE for path in sorted(APPLIES[kind]) if WIRE in transports(kind, path)]


@pytest.mark.parametrize(("kind", "path"), CASES, ids=[f"{k.value}-{p.value}" for k, p in CASES])
def test_every_kind_acts_on_every_path_it_claims_on_the_wire(kind: FaultKind, path: Path, tmp_path: FilePath) -> None:
    probe = PROBES.get((kind, path))
    assert probe is not None, f"{kind.value} claims the {path.value} path but nothing shows its effect on the wire"
    probe(tmp_path / "log.jsonl")
