"""Binance's public daily dumps (trades / aggTrades, bookTicker) convert into a recording that replays."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange_sim.eventlog import EventLog
from exchange_sim.replay.convert import convert, main
from exchange_sim.replay.market import ReplayMarket
from exchange_sim.replay.records import DepthRecord, SnapshotRecord, TradeRecord, read_records
from exchange_sim.replay.source import TRADE, ReplayConfig, ReplaySource
from exchange_sim.runtime import SimRuntime
from exchange_sim.venue import SimVenue

BOOK = """update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time
1,60000.00,1.50000,60000.01,2.00000,1723161600000,1723161600000
2,60000.00,1.20000,60000.01,2.00000,1723161600400,1723161600400
3,60000.01,0.30000,60000.02,1.00000,1723161601000,1723161601000
"""
TRADES = """1,60000.00,0.30000,18000.0,1723161600100,true,true
2,60000.01,0.10000,6000.001,1723161600700,false,true
3,60000.01,0.05000,3000.0005,1723161601500000,true,true
"""  # the last time is in microseconds (Binance's spot dumps since 2025)
AGG = """10,60000.00,0.30000,1,1,1723161600100,true,true
11,60000.01,0.15000,2,3,1723161600700,false,true
"""


def test_trades_and_book_ticker_become_a_touch_book_recording_that_replays(tmp_path: Path) -> None:
    (tmp_path / "book.csv").write_text(BOOK)
    (tmp_path / "trades.csv").write_text(TRADES)
    out = tmp_path / "conv.gz"
    assert convert(symbol="BTCUSDT", trades=tmp_path / "trades.csv", book_ticker=tmp_path / "book.csv", out=out) == 7
    records = list(read_records(out))
    assert [type(r).__name__ for r in records] == ["SnapshotRecord", "DepthRecord", "TradeRecord", "DepthRecord",
                                                   "TradeRecord", "DepthRecord", "TradeRecord"]
    last_diff = [r for r in records if isinstance(r, DepthRecord)][-1]
    assert last_diff.bids == (("60000.00", "0"), ("60000.01", "0.30000"))
    assert isinstance(records[0], SnapshotRecord) and records[0].symbol == "BTCUSDT"
    assert [r.trade_ms for r in records if isinstance(r, TradeRecord)][-1] == 1723161601500

    source = ReplaySource(ReplayConfig(paths=(str(out),)))
    assert [e.qty_lots for e in source.events if e.kind == TRADE] == [30_000, 10_000, 5_000]
    runtime = SimRuntime()
    try:
        venue = SimVenue(runtime, [source.spec("BTCUSDT")], EventLog(None), seed=1)
        market = ReplayMarket(runtime.env, venue.engine, source, on_level=venue.on_book_level)
        market.start()
        runtime.run_until(source.duration_s + 0.001)
        assert venue.trades == 3
        assert venue.engine.best_bid("BTCUSDT") == (6_000_001, 25_000)  # 0.3 recorded, 0.05 traded since
        assert venue.engine.best_ask("BTCUSDT") == (6_000_002, 100_000)
    finally:
        runtime.close()


def test_agg_trades_convert_too(tmp_path: Path) -> None:
    (tmp_path / "book.csv").write_text(BOOK)
    (tmp_path / "agg.csv").write_text(AGG)
    out = tmp_path / "agg.txt"
    main(["--symbol", "btcusdt", "--trades", str(tmp_path / "agg.csv"), "--agg-trades",
          "--book-ticker", str(tmp_path / "book.csv"), "--out", str(out)])
    trades = [r for r in read_records(out) if isinstance(r, TradeRecord)]
    assert [(r.trade_id, r.qty, r.buyer_is_maker) for r in trades] == [(10, "0.30000", True), (11, "0.15000", False)]


def test_without_a_book_there_is_nothing_to_replay(tmp_path: Path) -> None:
    (tmp_path / "book.csv").write_text(BOOK.splitlines()[0] + "\n")
    (tmp_path / "trades.csv").write_text(TRADES)
    with pytest.raises(ValueError, match="the replay needs a book"):
        convert(symbol="BTCUSDT", trades=tmp_path / "trades.csv", book_ticker=tmp_path / "book.csv",
                out=tmp_path / "x.gz")


def test_a_malformed_row_is_named(tmp_path: Path) -> None:
    (tmp_path / "book.csv").write_text(BOOK)
    (tmp_path / "trades.csv").write_text("1,60000.00,0.3,18000,notatime,true\n")
    with pytest.raises(ValueError, match=r"trades\.csv:1: not a trades row"):
        convert(symbol="BTCUSDT", trades=tmp_path / "trades.csv", book_ticker=tmp_path / "book.csv",
                out=tmp_path / "x.gz")
