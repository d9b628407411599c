"""Completeness of the fault catalogue, in process: every kind has an effect on every path it claims
(``exchange_sim.faults.paths.APPLIES``). Each (kind, path) drives one request, one message or one stretch of
market through a ``SimVenue`` with the ``FaultInjector`` installed - the venue client the in-process transport
hands every request to - and asserts the effect. A kind whose path has no probe here fails; so does a probe that
sees no effect. ``test_faults_paths_wire.py`` does the same for the wire server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path as FilePath
from typing import Any

import pytest

from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    ClientOrderId,
    EngineError,
    ErrorCode,
    OrderStatus,
    OrderType,
    PlaceRequest,
    Side,
)
from exchange_sim.eventlog import read_events
from exchange_sim.faults import CATALOGUE, Fault, FaultInjector, FaultKind, Scenario, VenueHttpError
from exchange_sim.faults.paths import APPLIES, IN_PROCESS, TRANSPORT_PATHS, WIRE, Path, transports
from exchange_sim.feeds import DepthDiff, ExecutionReport, Subscription
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.venue import VenueClient
from exchange_sim.world import SimWorld

BOT = AccountId("bot")
SYMBOL = "BTCUSDT"
FIXED = LatencyConfig(request_floor_ms=5, request_median_ms=0, feed_floor_ms=2, feed_median_ms=0)
K = FaultKind


class Sim:
    """One world with one fault (from t=1 s unless given) and the bot's venue client."""

    def __init__(self, log: FilePath, fault: Fault) -> None:
        self.log = log
        self.world = SimWorld(seed=5, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), latency=FIXED,
                              log_path=log)
        self.world.venue.open_account(BOT, {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 1_000_000 * ATOMS_PER_UNIT})
        self.injector = FaultInjector.for_world(self.world, Scenario((fault,)))
        self.harness: list[bool] = []
        self.injector.on_harness(lambda _fault, started: self.harness.append(started))
        self.world.start()
        self.client: VenueClient = self.world.venue.connect(BOT)

    def at(self, t: float, call: Coroutine[Any, Any, Any]) -> Any:
        async def run() -> Any:
            await asyncio.sleep(max(t - self.world.runtime.now(), 0.0))
            return await call
        return self.world.run(run())

    def effects(self) -> list[str]:
        self.world.close()
        return [str(e["e"]) for e in read_events(self.log) if e["k"] == "fault_hit"]

    def order(self, cid: str) -> Any:
        return self.world.engine.get_order(BOT, SYMBOL, client_order_id=ClientOrderId(cid))

    def bid(self, cid: str, *, depth_ticks: int = 50, kind: OrderType = OrderType.LIMIT) -> PlaceRequest:
        best = self.world.engine.best_bid(SYMBOL)
        assert best is not None
        return PlaceRequest(account=BOT, symbol=SYMBOL, side=Side.BUY, type=kind, qty_lots=10_000,
                            price_ticks=best[0] - depth_ticks, client_order_id=ClientOrderId(cid))

    def taker(self, cid: str) -> PlaceRequest:
        return PlaceRequest(account=BOT, symbol=SYMBOL, side=Side.BUY, type=OrderType.MARKET, qty_lots=1000,
                            client_order_id=ClientOrderId(cid))

    def collect(self, sub: Subscription[Any], until_s: float) -> tuple[list[tuple[float, Any]], BaseException | None]:
        """(arrival, message) of what ``sub`` delivers until ``until_s``, and the error that ended it, if any."""
        got: list[tuple[float, Any]] = []

        async def read() -> BaseException | None:
            try:
                async with asyncio.timeout(until_s - self.world.runtime.now()):
                    while True:
                        got.append((self.world.runtime.now(), await sub.get()))
            except TimeoutError:
                return None
            except ConnectionError as error:
                return error
        return got, self.world.run(read())


async def vanishes(call: Coroutine[Any, Any, Any], timeout_s: float = 3.0) -> bool:
    """Whether ``call`` never answers (the client's timeout fires)."""
    try:
        async with asyncio.timeout(timeout_s):
            await call
    except TimeoutError:
        return True
    return False


async def error_of(call: Coroutine[Any, Any, Any]) -> EngineError | None:
    try:
        await call
    except EngineError as error:
        return error
    return None


Probe = Callable[[FilePath], None]


def _partition_request(log: FilePath) -> None:
    sim = Sim(log, Fault(K.PARTITION, "rest", 1.0, 30.0, {"direction": "upstream"}))
    assert sim.at(2.0, vanishes(sim.client.place(sim.bid("c1"))))
    with pytest.raises(EngineError):
        sim.order("c1")  # never executed
    assert sim.effects() == ["request_lost"]


def _partition_response(log: FilePath) -> None:
    sim = Sim(log, Fault(K.PARTITION, "rest", 1.0, 30.0, {"direction": "downstream"}))
    assert sim.at(2.0, vanishes(sim.client.place(sim.bid("c1"))))
    assert sim.order("c1").status is OrderStatus.NEW  # executed, the reply lost
    assert sim.effects() == ["reply_lost"]


def _silenced(kind: FaultKind, params: dict[str, Any] | None = None) -> Probe:
    """A depth stream carries nothing while the fault is active (and did before it)."""
    def probe(log: FilePath) -> None:
        sim = Sim(log, Fault(kind, "ws", 3.0, 30.0, params or {}))
        sub = sim.client.subscribe_depth(SYMBOL)
        before, _ = sim.collect(sub, 3.0)
        during, _ = sim.collect(sub, 8.0)
        assert before and not [m for t, m in during if t > 3.1], f"{kind}: depth diffs still flow"
        assert sim.injector.hits[0] > 0
    return probe


def _latency_request(log: FilePath) -> None:
    sim = Sim(log, Fault(K.LATENCY, "rest", 1.0, 30.0, {"latency_ms": 400.0}))
    sent = 2.0
    server_us = sim.at(sent, sim.client.server_time_us())
    assert server_us / 1e6 - sent >= 0.4  # the request took the added delay on its way in


def _latency_response(log: FilePath) -> None:
    sim = Sim(log, Fault(K.LATENCY, "rest", 1.0, 30.0, {"latency_ms": 400.0}))
    server_us = sim.at(2.0, sim.client.server_time_us())
    assert sim.world.runtime.now() - server_us / 1e6 >= 0.4  # and on the reply's way back


def _delayed_stream(kind: FaultKind, params: dict[str, Any], at_least_s: float) -> Probe:
    """Depth diffs lag their event time by ``at_least_s`` more once the fault is active (simulated time; the
    median lag of the diffs sent during the fault against those delivered before it)."""
    def probe(log: FilePath) -> None:
        sim = Sim(log, Fault(kind, "ws", 4.0, 60.0, params))
        got, _ = sim.collect(sim.client.subscribe_depth(SYMBOL), 12.0)
        diffs = [(t, t - m.event_time_us / 1e6, m.event_time_us / 1e6) for t, m in got if isinstance(m, DepthDiff)]
        before = sorted(lag for t, lag, _ in diffs if t < 4.0)
        during = sorted(lag for _, lag, sent in diffs if sent > 4.5)
        assert before and during, f"{kind}: no diffs to compare"
        added = during[len(during) // 2] - before[len(before) // 2]
        assert added >= at_least_s - 1e-6, f"{kind}: diffs lag {added:.3f}s more, expected {at_least_s}s"
    return probe


def _timeout_after_processing(log: FilePath) -> None:
    sim = Sim(log, Fault(K.TIMEOUT_AFTER_PROCESSING, "rest", 1.0, 30.0))
    error = sim.at(2.0, error_of(sim.client.place(sim.bid("c1"))))
    assert error is not None and error.code is ErrorCode.TIMEOUT
    assert sim.order("c1").status is OrderStatus.NEW
    assert sim.effects() == ["processed_error"]


def _stream_closed(kind: FaultKind, params: dict[str, Any], effect: str) -> Probe:
    """An open depth stream is ended by the venue (ConnectionResetError), the end logged as ``effect``."""
    def probe(log: FilePath) -> None:
        sim = Sim(log, Fault(kind, "ws", 2.0, 10.0, params))
        _, error = sim.collect(sim.client.subscribe_depth(SYMBOL), 12.0)
        assert isinstance(error, ConnectionResetError)
        assert effect in sim.effects()
    return probe


def _http_error(kind: FaultKind, params: dict[str, Any], status: int) -> Probe:
    def probe(log: FilePath) -> None:
        sim = Sim(log, Fault(kind, "rest", 1.0, 30.0, params))
        error = sim.at(2.0, error_of(sim.client.place(sim.bid("c1"))))
        assert isinstance(error, VenueHttpError) and error.http_status == status
    return probe


def _clock_skew(log: FilePath) -> None:
    sim = Sim(log, Fault(K.CLOCK_SKEW, "rest", 1.0, 30.0, {"offset_ms": -60_000.0}))
    error = sim.at(2.0, error_of(sim.client.place(sim.bid("c1"))))
    assert error is not None and error.code is ErrorCode.INVALID_TIMESTAMP  # 60 s ahead of the server's clock
    assert sim.effects() == ["timestamp"]


def _reject(log: FilePath) -> None:
    sim = Sim(log, Fault(K.REJECT, "rest", 1.0, 30.0, {"reason": "insufficient_balance"}))
    error = sim.at(2.0, error_of(sim.client.place(sim.bid("c1"))))
    assert error is not None and error.code is ErrorCode.NEW_ORDER_REJECTED
    with pytest.raises(EngineError):
        sim.order("c1")


def _cancel_replace_half(log: FilePath) -> None:
    sim = Sim(log, Fault(K.CANCEL_REPLACE_HALF, "rest", 3.0, 30.0))
    sim.at(1.0, sim.client.place(sim.bid("c1")))
    new = sim.bid("c2", depth_ticks=60)
    result = sim.at(4.0, sim.client.cancel_replace(SYMBOL, new, cancel_client_order_id=ClientOrderId("c1")))
    assert isinstance(result.new, EngineError) and result.new.code is ErrorCode.NEW_ORDER_REJECTED
    assert sim.order("c1").status is OrderStatus.CANCELED
    with pytest.raises(EngineError):
        sim.order("c2")


def _user_missed(log: FilePath) -> None:
    sim = Sim(log, Fault(K.USER_STREAM, "user", 0.0, 60.0, {"mode": "missed"}))
    sub = sim.client.subscribe_user()
    sim.at(1.0, sim.client.place(sim.bid("c1")))
    got, _ = sim.collect(sub, 5.0)
    assert not [m for _, m in got if isinstance(m, ExecutionReport)]
    assert "report_missed" in sim.effects()


def _redelivered(log: FilePath) -> None:
    sim = Sim(log, Fault(K.REPORT_REDELIVERED, "user", 0.0, 60.0))
    sub = sim.client.subscribe_user()
    sim.at(1.0, sim.client.place(sim.taker("t1")))
    got, _ = sim.collect(sub, 5.0)
    trades = [m.trade.trade_id for _, m in got if isinstance(m, ExecutionReport) and m.trade is not None]
    assert len(trades) >= 2 and len(set(trades)) == len(trades)  # the same fill again under a new trade id
    assert "report_redelivered" in sim.effects()


def _truncated_reply(log: FilePath) -> None:
    sim = Sim(log, Fault(K.TRUNCATED_FRAME, "rest", 1.0, 30.0))
    assert sim.at(2.0, vanishes(sim.client.place(sim.bid("c1"))))
    assert sim.order("c1").status is OrderStatus.NEW
    assert sim.effects() == ["reply_truncated"]


def _market(kind: FaultKind, params: dict[str, Any], effect: str) -> Probe:
    """The fault acts on the book: a bid resting at the touch (or the book itself) is hit, logged ``effect``."""
    def probe(log: FilePath) -> None:
        sim = Sim(log, Fault(kind, "BTCUSDT", 2.0, 10.0, params))
        bid, ask = sim.world.engine.best_bid(SYMBOL), sim.world.engine.best_ask(SYMBOL)
        assert bid is not None and ask is not None
        ahead = -1 if ask[0] - bid[0] > 1 else 0  # alone at the front of the touch when the spread allows
        sim.world.run(sim.client.place(sim.bid("c1", depth_ticks=ahead, kind=OrderType.LIMIT_MAKER)))
        if kind is K.CANCEL_FILL_RACE:
            error = sim.at(3.0, error_of(sim.client.cancel(SYMBOL, client_order_id=ClientOrderId("c1"))))
            assert error is not None and sim.order("c1").status is OrderStatus.FILLED
        sim.world.run_until(12.0)
        assert effect in sim.effects()
    return probe


def _process(kind: FaultKind) -> Probe:
    """A process fault is handed to the harness (``harness.session_harness``) when it starts and when it heals."""
    def probe(log: FilePath) -> None:
        duration_s = CATALOGUE[kind].duration_s[0]
        sim = Sim(log, Fault(kind, "bot", 1.0, duration_s))
        sim.world.run_until(duration_s + 2.0)
        assert sim.harness[:1] == [True] and sim.harness[-1] is False
    return probe


PROBES: dict[tuple[FaultKind, Path], Probe] = {
    (K.PARTITION, Path.REQUEST): _partition_request,
    (K.PARTITION, Path.RESPONSE): _partition_response,
    (K.PARTITION, Path.STREAM): _silenced(K.PARTITION),
    (K.LATENCY, Path.REQUEST): _latency_request,
    (K.LATENCY, Path.RESPONSE): _latency_response,
    (K.LATENCY, Path.STREAM): _delayed_stream(K.LATENCY, {"latency_ms": 300.0}, 0.3),
    (K.BANDWIDTH, Path.STREAM): _delayed_stream(K.BANDWIDTH, {"rate_kbps": 8.0, "message_bytes": 1000.0}, 1.0),
    (K.SLICER, Path.STREAM): _delayed_stream(K.SLICER, {"average_size_bytes": 64.0, "delay_us": 100_000.0}, 0.7),
    (K.TIMEOUT_AFTER_PROCESSING, Path.RESPONSE): _timeout_after_processing,
    (K.RESET_PEER, Path.STREAM): _stream_closed(K.RESET_PEER, {}, "stream_reset"),
    (K.PARTIAL_FILL, Path.MARKET): _market(K.PARTIAL_FILL, {"rate_per_s": 5.0}, "partial_fill"),
    (K.CLOCK_SKEW, Path.REQUEST): _clock_skew,
    (K.RATE_LIMIT, Path.REQUEST): _http_error(K.RATE_LIMIT, {"weight_limit": 0.0}, 429),
    (K.OUTAGE, Path.REQUEST): _http_error(K.OUTAGE, {}, 503),
    (K.REJECT, Path.REQUEST): _reject,
    (K.FEED_GAP, Path.STREAM): _silenced(K.FEED_GAP, {"mode": "drop"}),
    (K.USER_STREAM, Path.STREAM): _user_missed,
    (K.STALE_FEED, Path.STREAM): _silenced(K.STALE_FEED),
    (K.CANCEL_FILL_RACE, Path.MARKET): _market(K.CANCEL_FILL_RACE, {}, "filled_before_cancel"),
    (K.STP, Path.MARKET): _market(K.STP, {"rate_per_s": 5.0}, "stp_expire"),
    (K.MARKET_SHOCK, Path.MARKET): _market(K.MARKET_SHOCK, {"size_bps": -300.0}, "shock"),
    (K.CRASH, Path.PROCESS): _process(K.CRASH),
    (K.MEMORY_PRESSURE, Path.PROCESS): _process(K.MEMORY_PRESSURE),
    (K.PAUSE, Path.PROCESS): _process(K.PAUSE),
    (K.OPERATOR_STOP, Path.PROCESS): _process(K.OPERATOR_STOP),
    (K.COLD_RESTART, Path.PROCESS): _process(K.COLD_RESTART),
    (K.TRUNCATED_FRAME, Path.RESPONSE): _truncated_reply,
    (K.TRUNCATED_FRAME, Path.STREAM): _stream_closed(K.TRUNCATED_FRAME, {}, "frame_truncated"),
    (K.SLOW_CLOSE, Path.STREAM): _stream_closed(K.SLOW_CLOSE, {"close_s": 2.0}, "slow_close"),
    (K.SERVER_DISCONNECT, Path.STREAM): _stream_closed(K.SERVER_DISCONNECT, {"reason": "24h"}, "24h"),
    (K.CANCEL_REPLACE_HALF, Path.REQUEST): _cancel_replace_half,
    (K.REPORT_REDELIVERED, Path.STREAM): _redelivered,
}
CASES = [(kind, path) for kind in CATALOGUE for path in sorted(APPLIES[kind]) if IN_PROCESS in transports(kind, path)]


@pytest.mark.parametrize(("kind", "path"), CASES, ids=[f"{k.value}-{p.value}" for k, p in CASES])
def test_every_kind_acts_on_every_path_it_claims_in_process(kind: FaultKind, path: Path, tmp_path: FilePath) -> None:
    probe = PROBES.get((kind, path))
    assert probe is not None, f"{kind.value} claims the {path.value} path but nothing shows its effect in process"
    probe(tmp_path / "log.jsonl")


def test_every_kind_says_where_it_applies_and_process_kinds_are_the_harness_ones() -> None:
    assert set(APPLIES) == set(CATALOGUE)
    assert all(APPLIES[kind] for kind in CATALOGUE)
    assert {k for k, spec in CATALOGUE.items() if spec.harness} == {k for k, p in APPLIES.items() if Path.PROCESS in p}
    assert TRANSPORT_PATHS[WIRE] < TRANSPORT_PATHS[IN_PROCESS]
    assert transports(K.MARKET_SHOCK, Path.MARKET) == (IN_PROCESS,)
    assert transports(K.PARTITION, Path.STREAM) == (IN_PROCESS, WIRE)
    assert transports(K.REJECT, Path.STREAM) == ()  # a path the kind does not claim
