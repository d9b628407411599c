"""Listener reports and history: causal event order, book levels, balances, tracked vs untracked accounts."""

from __future__ import annotations

from typing import Any

import pytest

from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import (
    AccountId,
    EngineError,
    ErrorCode,
    ExecType,
    Order,
    OrderId,
    OrderStatus,
    Side,
    TimeInForce,
    Trade,
    TradeId,
)
from tests.engine_support import SPEC, START, SYM, A, B, K, limit, make_engine, market


class Recorder:
    """Records every listener call as a tuple, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_execution(self, order: Order, exec_type: ExecType, trade: Trade | None, reason: str) -> None:
        self.events.append(
            ("exec", order.order_id, exec_type, order.status, None if trade is None else trade.trade_id)
        )

    def on_book_level(
        self, symbol: str, side: Side, price_ticks: int, level_qty_lots: int, update_id: int
    ) -> None:
        self.events.append(("level", side, price_ticks, level_qty_lots, update_id))

    def on_trade(self, trade: Trade) -> None:
        self.events.append(("trade", trade.trade_id))

    def on_balance(self, account: AccountId, asset: str, free_atoms: int, locked_atoms: int) -> None:
        self.events.append(("balance", account, asset, free_atoms, locked_atoms))


def _no_balances(events: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [e for e in events if e[0] != "balance"]


def test_resting_order_reports_new_then_its_level() -> None:
    recorder = Recorder()
    engine = make_engine(recorder)
    recorder.events.clear()
    engine.place(limit(A, Side.BUY, 10_000, 10))
    assert _no_balances(recorder.events) == [
        ("exec", 1, ExecType.NEW, OrderStatus.NEW, None),
        ("level", Side.BUY, 10_000, 10, 1),
    ]


def test_match_reports_new_level_trade_maker_then_taker_then_terminal() -> None:
    recorder = Recorder()
    engine = make_engine(recorder)
    engine.place(limit(A, Side.SELL, 10_000, 4))
    recorder.events.clear()
    engine.place(limit(B, Side.BUY, 10_000, 10, time_in_force=TimeInForce.IOC))
    assert _no_balances(recorder.events) == [
        ("exec", 2, ExecType.NEW, OrderStatus.NEW, None),
        ("level", Side.SELL, 10_000, 0, 2),
        ("trade", 1),
        ("exec", 1, ExecType.TRADE, OrderStatus.FILLED, 1),
        ("exec", 2, ExecType.TRADE, OrderStatus.PARTIALLY_FILLED, 1),
        ("exec", 2, ExecType.EXPIRED, OrderStatus.EXPIRED, None),
    ]


def test_balance_reports_follow_the_executions_with_final_values() -> None:
    recorder = Recorder()
    engine = make_engine(recorder)
    recorder.events.clear()
    engine.place(limit(A, Side.BUY, 10_000, 10))
    assert recorder.events[-1] == ("balance", A, "USDT", START["USDT"] - 10_000 * 10 * K, 10_000 * 10 * K)


def test_cancel_reports_level_then_canceled() -> None:
    recorder = Recorder()
    engine = make_engine(recorder)
    order = engine.place(limit(A, Side.SELL, 10_000, 4)).order
    recorder.events.clear()
    engine.cancel(A, SYM, order_id=order.order_id)
    assert _no_balances(recorder.events) == [
        ("level", Side.SELL, 10_000, 0, 2),
        ("exec", 1, ExecType.CANCELED, OrderStatus.CANCELED, None),
    ]


def test_update_id_counts_every_level_change(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 4))
    engine.place(limit(A, Side.SELL, 10_001, 4))
    engine.place(market(B, Side.BUY, qty=6))
    assert engine.update_id(SYM) == 4
    assert engine.depth(SYM, 10) == ([], [(10_001, 2)], 4)


def test_rejected_requests_report_nothing() -> None:
    recorder = Recorder()
    engine = make_engine(recorder)
    recorder.events.clear()
    with pytest.raises(EngineError):
        engine.place(limit(A, Side.BUY, 0, 10))
    assert recorder.events == []


def test_untracked_accounts_get_no_balance_reports() -> None:
    recorder = Recorder()
    engine = MatchingEngine([SPEC], clock_us=lambda: 0, listener=recorder)
    engine.open_account(A, START, tracked=False)
    engine.place(limit(A, Side.BUY, 10_000, 10))
    assert [e for e in recorder.events if e[0] == "balance"] == []


def test_untracked_accounts_get_no_execution_reports_but_the_book_and_trades_are_public() -> None:
    recorder = Recorder()
    engine = MatchingEngine([SPEC], clock_us=lambda: 0, listener=recorder)
    engine.open_account(A, START, tracked=False)
    engine.open_account(B, START)
    resting = engine.place(limit(A, Side.BUY, 10_000, 10)).order
    taker = engine.place(market(B, Side.SELL, qty=4)).order
    engine.cancel(A, SYM, order_id=resting.order_id)
    reported = {e[1] for e in recorder.events if e[0] == "exec"}
    assert reported == {taker.order_id}
    assert [e[0] for e in recorder.events if e[0] in ("level", "trade")] == ["level", "level", "trade", "level"]


def test_tracked_accounts_keep_terminal_orders_and_trades(engine: MatchingEngine) -> None:
    maker = engine.place(limit(A, Side.SELL, 10_000, 4)).order
    engine.place(limit(B, Side.BUY, 10_000, 4))
    assert engine.get_order(A, SYM, order_id=maker.order_id).status is OrderStatus.FILLED
    assert engine.get_order(A, SYM, client_order_id=maker.client_order_id).order_id == maker.order_id
    assert [t.trade_id for t in engine.trades(A, SYM)] == [1]
    assert [t.trade_id for t in engine.trades(B, SYM, from_id=TradeId(1))] == [1]
    assert engine.trades(B, SYM, from_id=TradeId(2)) == []


def test_untracked_accounts_keep_no_history() -> None:
    engine = MatchingEngine([SPEC], clock_us=lambda: 0)
    bot = AccountId("agent")
    engine.open_account(bot, START, tracked=False)
    engine.open_account(B, START)
    maker = engine.place(limit(bot, Side.SELL, 10_000, 4)).order
    engine.place(limit(B, Side.BUY, 10_000, 4))
    with pytest.raises(EngineError) as err:
        engine.get_order(bot, SYM, order_id=maker.order_id)
    assert err.value.code is ErrorCode.NO_SUCH_ORDER
    assert engine.trades(bot, SYM) == []
    assert engine.trades(B, SYM)[0].maker_account == bot


def test_history_of_a_tracked_account_is_bounded() -> None:
    engine = MatchingEngine([SPEC], clock_us=lambda: 0, history_limit=2)
    engine.open_account(A, START)
    ids = []
    for _ in range(3):
        order = engine.place(limit(A, Side.BUY, 10_000, 1)).order
        engine.cancel(A, SYM, order_id=order.order_id)
        ids.append(order.order_id)
    with pytest.raises(EngineError):
        engine.get_order(A, SYM, order_id=ids[0])
    assert engine.get_order(A, SYM, order_id=ids[2]).status is OrderStatus.CANCELED


def test_trades_without_from_id_returns_the_latest(engine: MatchingEngine) -> None:
    for _ in range(3):
        engine.place(limit(A, Side.SELL, 10_000, 1))
        engine.place(limit(B, Side.BUY, 10_000, 1))
    assert [t.trade_id for t in engine.trades(A, SYM, limit=2)] == [2, 3]


def test_open_orders_are_sorted_by_order_id_and_are_copies(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.BUY, 10_000, 1))
    engine.place(limit(A, Side.SELL, 10_100, 1))
    orders = engine.open_orders(A)
    assert [o.order_id for o in orders] == [1, 2]
    orders[0].executed_qty_lots = 99
    assert engine.open_orders(A, SYM)[0].executed_qty_lots == 0


def test_timestamps_come_from_the_injected_clock() -> None:
    now = [5_000]
    engine = MatchingEngine([SPEC], clock_us=lambda: now[0])
    engine.open_account(A, START)
    engine.open_account(B, START)
    engine.place(limit(A, Side.SELL, 10_000, 1))
    now[0] = 7_000
    result = engine.place(limit(B, Side.BUY, 10_000, 1))
    assert result.trades[0].time_us == 7_000
    assert engine.get_order(A, SYM, order_id=OrderId(1)).created_us == 5_000
    assert engine.get_order(A, SYM, order_id=OrderId(1)).updated_us == 7_000
