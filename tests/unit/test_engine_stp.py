"""Self-trade prevention: EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH and NONE when an account meets itself."""

from __future__ import annotations

from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import (
    AccountId,
    ExecType,
    Order,
    OrderId,
    OrderStatus,
    Side,
    StpMode,
    TimeInForce,
    Trade,
)
from tests.engine_support import SYM, A, B, limit, make_engine, market


class Recorder:
    def __init__(self) -> None:
        self.executions: list[tuple[OrderId, ExecType, OrderStatus]] = []

    def on_execution(self, order: Order, exec_type: ExecType, trade: Trade | None, reason: str) -> None:
        self.executions.append((order.order_id, exec_type, order.status))

    def on_book_level(
        self, symbol: str, side: Side, price_ticks: int, level_qty_lots: int, update_id: int
    ) -> None:
        pass

    def on_trade(self, trade: Trade) -> None:
        pass

    def on_balance(self, account: AccountId, asset: str, free_atoms: int, locked_atoms: int) -> None:
        pass


def test_expire_taker_stops_the_taker_at_its_own_order(engine: MatchingEngine) -> None:
    engine.place(limit(B, Side.SELL, 10_000, 2))
    own = engine.place(limit(A, Side.SELL, 10_000, 5)).order
    result = engine.place(limit(A, Side.BUY, 10_000, 10, stp_mode=StpMode.EXPIRE_TAKER))
    assert result.order.status is OrderStatus.EXPIRED_IN_MATCH
    assert result.order.executed_qty_lots == 2
    assert engine.get_order(A, SYM, order_id=own.order_id).status is OrderStatus.NEW
    assert engine.balance(A, "USDT").locked_atoms == 0
    engine.audit()


def test_expire_maker_expires_own_resting_orders_and_keeps_matching(engine: MatchingEngine) -> None:
    own = engine.place(limit(A, Side.SELL, 10_000, 5)).order
    engine.place(limit(B, Side.SELL, 10_000, 4))
    result = engine.place(limit(A, Side.BUY, 10_000, 4, stp_mode=StpMode.EXPIRE_MAKER))
    assert result.order.status is OrderStatus.FILLED
    assert [t.maker_account for t in result.trades] == [B]
    assert engine.get_order(A, SYM, order_id=own.order_id).status is OrderStatus.EXPIRED_IN_MATCH
    assert engine.balance(A, "BTC").locked_atoms == 0
    engine.audit()


def test_expire_both_expires_the_maker_and_the_taker(engine: MatchingEngine) -> None:
    own = engine.place(limit(A, Side.SELL, 10_000, 5)).order
    engine.place(limit(B, Side.SELL, 10_000, 4))
    result = engine.place(limit(A, Side.BUY, 10_000, 4, stp_mode=StpMode.EXPIRE_BOTH))
    assert result.order.status is OrderStatus.EXPIRED_IN_MATCH
    assert result.trades == ()
    assert engine.get_order(A, SYM, order_id=own.order_id).status is OrderStatus.EXPIRED_IN_MATCH
    assert engine.best_ask(SYM) == (10_000, 4)


def test_stp_none_lets_an_account_trade_with_itself(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 5))
    result = engine.place(limit(A, Side.BUY, 10_000, 5, stp_mode=StpMode.NONE))
    assert result.order.status is OrderStatus.FILLED
    assert result.trades[0].maker_account == result.trades[0].taker_account == A
    engine.audit()


def test_stp_reports_trade_prevention_for_the_expired_orders() -> None:
    recorder = Recorder()
    engine = make_engine(recorder)
    own = engine.place(limit(A, Side.SELL, 10_000, 5)).order
    taker = engine.place(limit(A, Side.BUY, 10_000, 5, stp_mode=StpMode.EXPIRE_BOTH)).order
    assert recorder.executions[-3:] == [
        (taker.order_id, ExecType.NEW, OrderStatus.NEW),
        (own.order_id, ExecType.TRADE_PREVENTION, OrderStatus.EXPIRED_IN_MATCH),
        (taker.order_id, ExecType.TRADE_PREVENTION, OrderStatus.EXPIRED_IN_MATCH),
    ]


def test_market_order_with_expire_taker_stops_at_own_order(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.BUY, 10_000, 5))
    result = engine.place(market(A, Side.SELL, qty=5, stp_mode=StpMode.EXPIRE_TAKER))
    assert result.order.status is OrderStatus.EXPIRED_IN_MATCH
    assert engine.balance(A, "BTC").locked_atoms == 0


def test_fok_counts_only_liquidity_that_stp_lets_it_take(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 5))
    engine.place(limit(B, Side.SELL, 10_000, 3))
    req = limit(A, Side.BUY, 10_000, 5, time_in_force=TimeInForce.FOK, stp_mode=StpMode.EXPIRE_MAKER)
    result = engine.place(req)
    assert result.order.status is OrderStatus.EXPIRED
    assert result.trades == ()
    assert engine.best_ask(SYM) == (10_000, 8)
