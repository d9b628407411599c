"""Our orders in a replayed book: queue position, partial fills, trades through our price, taking liquidity."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    Order,
    OrderStatus,
    OrderType,
    PlaceRequest,
    Side,
)
from exchange_sim.eventlog import EventLog
from exchange_sim.replay.liquidity import REPLAY_MAKER
from exchange_sim.replay.market import ReplayMarket
from exchange_sim.replay.queue import QueueModelConfig
from exchange_sim.replay.source import RECORDED_SYMBOLS, ReplayConfig, ReplaySource
from exchange_sim.replay.writer import RecordingWriter, depth_message, snapshot_message, trade_message
from exchange_sim.runtime import SimRuntime
from exchange_sim.venue import SimVenue

SPEC = RECORDED_SYMBOLS["BTCUSDT"]
BOT = AccountId("bot")
BID, ASK = 6_000_000, 6_000_001  # 60000.00 / 60000.01
Levels = Sequence[tuple[int, int]]
_OPEN: list[World] = []


@pytest.fixture(autouse=True)
def _close_worlds() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def px(ticks: int) -> str:
    return str(SPEC.ticks_to_price(ticks))


def qty(lots: int) -> str:
    return str(SPEC.lots_to_qty(lots))


class Tape:
    """A hand-made recording in the real format: a snapshot at t0, then diffs and trades at given seconds."""

    def __init__(self, path: Path, bids: Levels, asks: Levels) -> None:
        self.path = path
        self.writer = RecordingWriter(path)
        self.update_id = 100
        self.trade_id = 0
        self.writer.write(1, snapshot_message(None, 100, [(px(p), qty(q)) for p, q in bids],
                                              [(px(p), qty(q)) for p, q in asks]))
        self.depth(0.0)  # the first diff straddles the snapshot: time 0 is its E

    def depth(self, t_s: float, bids: Levels = (), asks: Levels = ()) -> Tape:
        self.update_id += 1
        self.writer.write(2, depth_message("BTCUSDT", 1_000 + round(t_s * 1000), self.update_id, self.update_id,
                                           [(px(p), qty(q)) for p, q in bids], [(px(p), qty(q)) for p, q in asks]))
        return self

    def trade(self, t_s: float, price: int, lots: int, *, buyer_is_maker: bool) -> Tape:
        self.trade_id += 1
        self.writer.write(3, trade_message("BTCUSDT", 1_000 + round(t_s * 1000), self.trade_id, px(price), qty(lots),
                                           buyer_is_maker))
        return self

    def world(self, queue: str = "risk_averse") -> World:
        self.writer.close()
        return World(ReplaySource(ReplayConfig(paths=(str(self.path),),
                                               queue=QueueModelConfig.model_validate({"kind": queue}))))


class World:
    """A venue replaying a tape, with the bot's account; close it (``close``, or the module's fixture does)."""

    def __init__(self, source: ReplaySource) -> None:
        self.runtime = SimRuntime()
        _OPEN.append(self)
        self.venue = SimVenue(self.runtime, [SPEC], EventLog(None), seed=1)
        self.engine = self.venue.engine
        self.venue.open_account(BOT, {"BTC": 10 * ATOMS_PER_UNIT, "USDT": 10**6 * ATOMS_PER_UNIT})
        self.market = ReplayMarket(self.runtime.env, self.engine, source, on_level=self.venue.on_book_level)
        self.market.start()

    def place(self, side: Side, price: int | None, lots: int) -> Order:
        order_type = OrderType.MARKET if price is None else OrderType.LIMIT
        result = self.engine.place(PlaceRequest(account=BOT, symbol="BTCUSDT", side=side, type=order_type,
                                                qty_lots=lots, price_ticks=price))
        return result.order

    def order(self, order: Order) -> Order:
        return self.engine.get_order(BOT, "BTCUSDT", order_id=order.order_id)

    def queue(self, side: Side, price: int) -> tuple[int, int]:
        """(market lots ahead of our order, market lots behind it) at a level."""
        ahead, behind, _ = self.market.liquidity.split("BTCUSDT", side, price)
        return sum(o.remaining_lots for o in ahead), sum(o.remaining_lots for o in behind)

    def close(self) -> None:
        self.runtime.close()

    def run(self, t_s: float) -> None:
        self.runtime.run_until(t_s)
        self.engine.audit()
        assert not self.engine.book("BTCUSDT").is_crossed()


def test_our_order_joins_behind_the_recorded_quantity_and_only_trades_at_our_price_advance_it(tmp_path: Path) -> None:
    tape = Tape(tmp_path / "t.gz", bids=[(BID, 500), (BID - 1, 500)], asks=[(ASK, 500)])
    tape.trade(1.0, BID, 300, buyer_is_maker=True).trade(2.0, BID - 1, 100, buyer_is_maker=True)
    world = tape.world()
    ours = world.place(Side.BUY, BID, 200)
    assert world.queue(Side.BUY, BID) == (500, 0)
    world.run(1.5)
    assert world.queue(Side.BUY, BID) == (200, 0)
    assert world.order(ours).executed_qty_lots == 0


def test_a_trade_larger_than_the_queue_ahead_fills_us_partially(tmp_path: Path) -> None:
    tape = Tape(tmp_path / "t.gz", bids=[(BID, 500)], asks=[(ASK, 500)])
    tape.depth(0.5, bids=[(BID, 900)])  # 400 arrive behind us
    tape.trade(1.0, BID, 600, buyer_is_maker=True)  # 500 ahead, then 100 of our 200
    world = tape.world()
    ours = world.place(Side.BUY, BID, 200)
    world.run(0.7)
    assert world.queue(Side.BUY, BID) == (500, 400)
    world.run(1.5)
    order = world.order(ours)
    assert order.executed_qty_lots == 100
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert world.queue(Side.BUY, BID) == (0, 400)


def test_risk_averse_model_leaves_our_place_when_the_level_shrinks_without_trades(tmp_path: Path) -> None:
    tape = Tape(tmp_path / "t.gz", bids=[(BID, 500)], asks=[(ASK, 500)])
    tape.depth(0.5, bids=[(BID, 800)]).depth(1.0, bids=[(BID, 600)])  # +300 behind us, then a cancel of 200
    world = tape.world("risk_averse")
    world.place(Side.BUY, BID, 200)
    world.run(1.5)
    assert world.queue(Side.BUY, BID) == (500, 100)


def test_power_model_places_part_of_a_cancel_ahead_of_us(tmp_path: Path) -> None:
    tape = Tape(tmp_path / "t.gz", bids=[(BID, 500)], asks=[(ASK, 500)])
    tape.depth(0.5, bids=[(BID, 800)]).depth(1.0, bids=[(BID, 600)])
    world = tape.world("power")
    world.place(Side.BUY, BID, 200)
    world.run(1.5)
    # share behind p = 300^2 / (300^2 + 500^2); behind = round(200 p) = 53, ahead = 147
    assert world.queue(Side.BUY, BID) == (353, 247)


def test_a_recorded_trade_through_our_price_fills_us_first(tmp_path: Path) -> None:
    tape = Tape(tmp_path / "t.gz", bids=[(BID, 500)], asks=[(ASK + 5, 500)])
    tape.trade(1.0, BID, 150, buyer_is_maker=True)  # a seller hit 60000.00 while we bid 60000.02
    world = tape.world()
    ours = world.place(Side.BUY, BID + 2, 100)
    world.run(1.5)
    order = world.order(ours)
    assert order.status is OrderStatus.FILLED
    assert world.queue(Side.BUY, BID) == (450, 0)  # the trade's other 50 came from the recorded level


def test_a_recorded_touch_moving_through_our_price_fills_us(tmp_path: Path) -> None:
    tape = Tape(tmp_path / "t.gz", bids=[(BID, 500)], asks=[(ASK, 500), (ASK + 1, 500)])
    tape.depth(1.0, bids=[(BID + 3, 300)], asks=[(ASK, 0), (ASK + 1, 0), (ASK + 4, 100)])  # the market jumps up
    world = tape.world()
    ours = world.place(Side.SELL, ASK + 2, 200)  # our ask at 60000.03, now below the recorded bid 60000.03
    world.run(1.5)
    order = world.order(ours)
    assert order.status is OrderStatus.FILLED
    assert order.cum_quote_atoms == (ASK + 2) * 200 * SPEC.quote_atoms_per_tick_lot  # at our price
    assert world.engine.best_bid("BTCUSDT") == (BID + 3, 100)  # what did not trade with us rests


def test_a_taker_order_walks_the_recorded_levels_and_the_recording_does_not_react(tmp_path: Path) -> None:
    tape = Tape(tmp_path / "t.gz", bids=[(BID, 500)], asks=[(ASK, 100), (ASK + 1, 100), (ASK + 4, 500)])
    tape.depth(1.0, asks=[(ASK, 100)])
    world = tape.world()
    ours = world.place(Side.BUY, None, 250)
    order = world.order(ours)
    assert order.executed_qty_lots == 250
    k = SPEC.quote_atoms_per_tick_lot
    assert order.cum_quote_atoms == (ASK * 100 + (ASK + 1) * 100 + (ASK + 4) * 50) * k
    assert world.engine.best_ask("BTCUSDT") == (ASK + 4, 450)
    world.run(1.5)
    assert world.engine.best_ask("BTCUSDT") == (ASK, 100)  # the next diff lists the level again


def test_the_replay_liquidity_belongs_to_the_replay_account(tmp_path: Path) -> None:
    world = Tape(tmp_path / "t.gz", bids=[(BID, 1)], asks=[(ASK, 3)]).world()
    orders = world.engine.book("BTCUSDT").orders_at(Side.BUY, BID)
    assert [(o.account, o.remaining_lots) for o in orders] == [(REPLAY_MAKER, 1)]  # below min notional: kept
