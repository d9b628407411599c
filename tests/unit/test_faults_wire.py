"""Venue/wire-level faults of issue 16: stable random streams, activity triggers, request targeting, new kinds."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.connectors.binance.connector import BinanceConnector
from bot.core.errors import BotError
from bot.core.errors import ErrorCode as BotCode
from bot.core.types import ClientOrderId as BotClientId
from bot.core.types import NewOrder
from bot.core.types import OrderType as BotOrderType
from bot.core.types import Side as BotSide
from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    ClientOrderId,
    EngineError,
    OrderStatus,
    OrderType,
    PlaceRequest,
    Side,
)
from exchange_sim.engine.types import ErrorCode as SimCode
from exchange_sim.eventlog import read_events
from exchange_sim.faults import Fault, FaultInjector, FaultKind, Scenario
from exchange_sim.faults.model import closing_s, latest_end_s, stable_id, stream_ids
from exchange_sim.faults.scenario import QUIET_TAIL_FRACTION, draw_scenario
from exchange_sim.feeds import ExecutionReport, Subscription
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.venue import VenueClient
from exchange_sim.world import SimWorld
from harness.session_venue import sim_connector

T = TypeVar("T")
BOT = AccountId("bot")
SYMBOL = "BTCUSDT"


def world_for(tmp_path: Path) -> SimWorld:
    world = SimWorld(seed=3, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), log_path=tmp_path / "log.jsonl")
    world.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT})
    return world


SCHEDULE = (
    Fault(FaultKind.LATENCY, "rest", 5.0, 30.0, {"jitter_ms": 50.0}, toxicity=0.5),
    Fault(FaultKind.PARTIAL_FILL, "both", 10.0, 60.0),
    Fault(FaultKind.USER_STREAM, "user", 20.0, 30.0, {"mode": "mixed"}, toxicity=0.2),
    Fault(FaultKind.LATENCY, "rest", 5.0, 30.0, {"jitter_ms": 50.0}, toxicity=0.5),  # identical to the first
    Fault(FaultKind.OUTAGE, "rest", 40.0, 10.0, {"executes_probability": 0.5}),
)


def draws(injector: FaultInjector, index: int) -> list[float]:
    rng = injector.rng(index)
    return [rng.random() for _ in range(5)]


def test_dropping_one_fault_leaves_every_other_faults_draws_identical(tmp_path: Path) -> None:
    world = world_for(tmp_path)
    full = FaultInjector(Scenario(SCHEDULE), venue=world.venue, seed=7)
    reference = {i: draws(full, i) for i in range(len(SCHEDULE))}
    assert len({tuple(d) for d in reference.values()}) == len(SCHEDULE)  # identical faults still draw apart
    for k in (0, 1, 2, 4):  # dropping the first of two identical faults renames the second: not stable, by design
        kept = [i for i in range(len(SCHEDULE)) if i != k]
        smaller = FaultInjector(Scenario(tuple(SCHEDULE[i] for i in kept)), venue=world.venue, seed=7)
        for position, original in enumerate(kept):
            if k == 0 and original == 3:
                continue
            assert draws(smaller, position) == reference[original], (k, original)
    world.close()


def test_a_stable_id_depends_on_the_fault_not_on_its_position() -> None:
    a, b = SCHEDULE[1], SCHEDULE[4]
    assert stream_ids(Scenario((a, b))) == tuple(reversed(stream_ids(Scenario((b, a)))))
    moved = Fault(FaultKind.PARTIAL_FILL, "both", 10.5, 60.0)
    assert stable_id(moved) != stable_id(a)
    assert stream_ids(Scenario((SCHEDULE[0], SCHEDULE[3])))[1] == stable_id(SCHEDULE[0]) + "#1"


# -- the request path: triggers, request targeting, the first hit, cancel-replace half success, truncated replies --
FIXED = LatencyConfig(request_floor_ms=5, request_median_ms=0, feed_floor_ms=2, feed_median_ms=0)


def faulty(tmp_path: Path, *faults: Fault) -> tuple[SimWorld, VenueClient]:
    world = SimWorld(seed=3, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), latency=FIXED,
                     log_path=tmp_path / "log.jsonl")
    world.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT})
    FaultInjector.for_world(world, Scenario(faults))
    world.start()
    return world, world.venue.connect(BOT)


def deep_bid(world: SimWorld, cid: str) -> PlaceRequest:
    best = world.engine.best_bid(SYMBOL)
    assert best is not None
    return PlaceRequest(account=BOT, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT, qty_lots=1000,
                        price_ticks=best[0] - 50, client_order_id=ClientOrderId(cid))


def events(world: SimWorld, tmp_path: Path, *kinds: str) -> list[dict[str, Any]]:
    world.close()
    return [e for e in read_events(tmp_path / "log.jsonl") if e["k"] in kinds]


async def outcome(call: Coroutine[Any, Any, Any]) -> str:
    try:
        async with asyncio.timeout(2.0):
            await call
    except TimeoutError:
        return "timeout"
    except EngineError as error:
        return str(int(error.code))
    return "ok"


def test_a_next_cancel_trigger_waits_for_the_cancel_and_hits_it_whatever_the_toxicity(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", 1.0, 30.0,
                                           {"trigger": "next_cancel", "request": "any", "ops": "all"},
                                           toxicity=0.0001))

    async def main() -> list[str]:
        await asyncio.sleep(2.0)
        placed = await outcome(client.place(deep_bid(world, "c1")))  # armed, not fired: a place passes
        cancelled = await outcome(client.cancel(SYMBOL, client_order_id=ClientOrderId("c1")))  # fires: hit
        return [placed, cancelled]

    assert world.run(main()) == ["ok", str(int(SimCode.TIMEOUT))]
    faults = events(world, tmp_path, "fault", "fault_hit")
    assert [(e["k"], e.get("ph") or e.get("e")) for e in faults][:3] == [
        ("fault", "start"), ("fault", "trigger"), ("fault_hit", "processed_error")]
    assert faults[1]["op"] == "cancel" and faults[2]["a"] == "bot"


def test_a_fault_whose_trigger_never_comes_does_nothing_and_ends_with_its_window(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.REJECT, "rest", 1.0, 5.0, {"trigger": "next_cancel"}))
    assert world.run(outcome(client.place(deep_bid(world, "c1")))) == "ok"
    world.run_until(20.0)
    faults = events(world, tmp_path, "fault", "fault_hit")
    assert [(e["t"], e["ph"], e.get("fired")) for e in faults] == [(1_000_000, "start", None),
                                                                    (6_000_000, "end", False)]


def test_timeout_after_processing_aimed_at_cancels_leaves_orders_alone(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", 0.0, 30.0,
                                           {"request": "cancel"}))

    async def main() -> list[str]:
        await asyncio.sleep(1.0)
        return [await outcome(client.place(deep_bid(world, "c1"))),
                await outcome(client.open_orders(SYMBOL)),
                await outcome(client.cancel(SYMBOL, client_order_id=ClientOrderId("c1")))]

    assert world.run(main()) == ["ok", "ok", str(int(SimCode.TIMEOUT))]
    assert world.engine.get_order(BOT, SYMBOL, client_order_id=ClientOrderId("c1")).status is OrderStatus.CANCELED


def test_timeout_after_processing_aimed_at_queries_hits_get_order_only(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", 0.0, 30.0,
                                           {"request": "query", "reply": "lost"}))

    async def main() -> list[str]:
        await asyncio.sleep(1.0)
        return [await outcome(client.place(deep_bid(world, "c1"))),
                await outcome(client.get_order(SYMBOL, client_order_id=ClientOrderId("c1")))]

    assert world.run(main()) == ["ok", "timeout"]


def test_the_first_eligible_request_is_always_hit_then_toxicity_rules(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.REJECT, "rest", 0.0, 60.0, toxicity=0.0001))

    async def main() -> list[str]:
        await asyncio.sleep(1.0)
        return [await outcome(client.place(deep_bid(world, f"c{i}"))) for i in range(4)]

    assert world.run(main()) == [str(int(SimCode.NEW_ORDER_REJECTED)), "ok", "ok", "ok"]


def test_toxicity_zero_never_hits(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.REJECT, "rest", 0.0, 60.0, toxicity=0.0))
    assert world.run(at(1.0, outcome(client.place(deep_bid(world, "c1"))))) == "ok"


def at(t: float, main: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T]:
    async def run() -> T:
        await asyncio.sleep(t)
        return await main
    return run()


def test_cancel_replace_half_success_cancels_the_old_order_and_refuses_the_new(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.CANCEL_REPLACE_HALF, SYMBOL, 0.0, 30.0))
    connector: BinanceConnector = sim_connector(world, BOT, client, request_timeout_s=2.0)

    async def main() -> Any:
        await asyncio.sleep(1.0)
        await client.place(deep_bid(world, "old"))
        new = NewOrder(symbol=SYMBOL, side=BotSide.BUY, type=BotOrderType.LIMIT, qty_lots=1000,
                       price_ticks=deep_bid(world, "x").price_ticks - 1, client_order_id=BotClientId("new"))
        return await connector.cancel_replace(SYMBOL, BotClientId("old"), new)

    result = world.run(main())
    assert not isinstance(result.cancel, Exception) and result.cancel.status.value == "CANCELED"
    assert isinstance(result.new, BotError) and result.new.venue_code == int(SimCode.NEW_ORDER_REJECTED)
    assert world.engine.get_order(BOT, SYMBOL, client_order_id=ClientOrderId("old")).status is OrderStatus.CANCELED
    with pytest.raises(EngineError):
        world.engine.get_order(BOT, SYMBOL, client_order_id=ClientOrderId("new"))
    assert [e["e"] for e in events(world, tmp_path, "fault_hit")] == ["cancel_replace_half"]


def test_a_truncated_reply_executes_the_request_and_the_client_never_gets_an_answer(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.TRUNCATED_FRAME, "rest", 0.5, 30.0))
    connector: BinanceConnector = sim_connector(world, BOT, client, request_timeout_s=1.0)
    world.run(connector.symbols())  # rules and server time known before the fault starts
    new = NewOrder(symbol=SYMBOL, side=BotSide.BUY, type=BotOrderType.LIMIT, qty_lots=1000,
                   price_ticks=deep_bid(world, "x").price_ticks, client_order_id=BotClientId("c1"))
    with pytest.raises(BotError) as caught:
        world.run(at(1.0, connector.place(new)))
    assert caught.value.code is BotCode.UNKNOWN_OUTCOME
    assert world.engine.get_order(BOT, SYMBOL, client_order_id=ClientOrderId("c1")).status is OrderStatus.NEW
    assert [e["e"] for e in events(world, tmp_path, "fault_hit")] == ["reply_truncated"]


# -- streams: truncated frames, slow close, server disconnects, redelivered reports --
def read_all(world: SimWorld, sub: Subscription[Any], until_s: float) -> tuple[list[tuple[float, Any]], str | None]:
    """(arrival time, message) delivered until ``until_s``, and the error that ended the stream (if any)."""
    got: list[tuple[float, Any]] = []
    ended: list[str] = []

    async def reader() -> None:
        try:
            while True:
                message = await sub.get()
                got.append((world.runtime.now(), message))
        except ConnectionError as error:
            ended.append(f"{world.runtime.now():.3f} {error}")

    async def main() -> None:
        task = asyncio.ensure_future(reader())
        await asyncio.sleep(until_s - world.runtime.now())
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    world.run(main())
    return got, ended[0] if ended else None


def test_a_truncated_frame_is_never_delivered_and_the_stream_closes(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.TRUNCATED_FRAME, "ws", 2.0, 10.0))
    got, ended = read_all(world, client.subscribe_depth(SYMBOL), 5.0)
    assert got and all(t < 2.01 for t, _ in got)  # nothing after the cut, not even part of it
    assert ended is not None and "truncated" in ended
    assert [e["e"] for e in events(world, tmp_path, "fault_hit")] == ["frame_truncated"]


def test_a_slow_close_silences_the_stream_then_closes_it_close_s_later(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.SLOW_CLOSE, "ws", 2.0, 0.0, {"close_s": 4.0}))
    got, ended = read_all(world, client.subscribe_depth(SYMBOL), 10.0)
    assert got and max(t for t, _ in got) < 2.01
    assert ended is not None and ended.startswith("6.000") and "slow_close" in ended


def test_a_server_shutdown_closes_after_its_grace_and_a_missed_pong_at_once(tmp_path: Path) -> None:
    world, client = faulty(tmp_path,
                           Fault(FaultKind.SERVER_DISCONNECT, "user", 1.0, 0.0, {"reason": "server_shutdown",
                                                                                 "grace_s": 2.0}),
                           Fault(FaultKind.SERVER_DISCONNECT, "ws", 1.0, 0.0, {"reason": "missed_pong"}))
    user, depth = client.subscribe_user(), client.subscribe_depth(SYMBOL)
    _, user_end = read_all(world, user, 5.0)
    assert user_end is not None and user_end.startswith("3.000") and "server_shutdown" in user_end
    _, depth_end = read_all(world, depth, 6.0)
    assert depth_end is not None and "missed_pong" in depth_end
    assert sorted(e["e"] for e in events(world, tmp_path, "fault_hit")) == ["missed_pong", "server_shutdown"]


def test_a_redelivered_report_carries_the_same_fill_under_a_new_trade_id(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.REPORT_REDELIVERED, "user", 0.0, 60.0))
    sub = client.subscribe_user()
    best = world.engine.best_ask(SYMBOL)
    assert best is not None
    world.run(at(1.0, client.place(PlaceRequest(account=BOT, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT,
                                                qty_lots=10, price_ticks=best[0],
                                                client_order_id=ClientOrderId("taker")))))
    got, _ = read_all(world, sub, 3.0)
    trades = [m for _, m in got if isinstance(m, ExecutionReport) and m.trade is not None]
    assert len(trades) == 2
    first, again = trades
    assert first.order == again.order and first.trade is not None and again.trade is not None
    assert again.trade.trade_id != first.trade.trade_id and again.trade.qty_lots == first.trade.qty_lots
    hit = events(world, tmp_path, "fault_hit")
    assert [(e["e"], e["a"], e["c"]) for e in hit] == [("report_redelivered", "bot", "taker")]


def test_drawn_faults_heal_before_the_quiet_tail_counting_triggers_and_slow_closes() -> None:
    triggered = closing = 0
    for seed in range(60):
        for fault in draw_scenario(seed, 600.0).faults:
            assert latest_end_s(fault) <= (1 - QUIET_TAIL_FRACTION) * 600.0 + 1e-6, (seed, fault)
            triggered += fault.params.get("trigger", "time") != "time"
            closing += closing_s(fault) > 0
            # a cancelReplace trigger only for the cancel-replace fault (such sessions move quotes by cancelReplace)
            assert fault.params.get("trigger") != "next_replace" or fault.kind is FaultKind.CANCEL_REPLACE_HALF
            assert fault.params.get("request") != "cancel_replace"
    assert triggered > 50 and closing > 5  # the swarm does draw them


def test_a_read_never_takes_the_sure_first_hit_the_next_order_does(tmp_path: Path) -> None:
    world, client = faulty(tmp_path, Fault(FaultKind.OUTAGE, "rest", 0.0, 60.0, toxicity=0.0001))

    async def main() -> list[str]:
        await asyncio.sleep(1.0)
        return [await outcome(client.open_orders(SYMBOL)), await outcome(client.place(deep_bid(world, "c1"))),
                await outcome(client.place(deep_bid(world, "c2")))]

    assert world.run(main()) == ["ok", str(int(SimCode.TIMEOUT)), "ok"]  # a 503'd write: -1007
