"""The replay's fill report: queue position at entry, time waited, markouts against the recorded mid."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange_sim.engine.types import ATOMS_PER_UNIT, OrderType, PlaceRequest, Side
from exchange_sim.eventlog import EventLog, read_events
from exchange_sim.replay.fills import fill_report, payload, report_rows, summarise
from exchange_sim.replay.market import ReplayMarket
from exchange_sim.replay.source import ReplayConfig, ReplaySource
from exchange_sim.runtime import SimRuntime
from exchange_sim.venue import SimVenue
from tests.unit.test_replay_market import ASK, BID, BOT, SPEC, Tape


def test_a_fill_reports_its_queue_at_entry_its_wait_and_its_markouts(tmp_path: Path) -> None:
    tape = Tape(tmp_path / "t.gz", bids=[(BID, 500)], asks=[(ASK, 500)])
    tape.trade(1.0, BID, 600, buyer_is_maker=True)  # 500 ahead of us, then 100 of ours
    tape.depth(1.5, bids=[(BID + 2, 100)], asks=[(ASK, 0), (ASK + 4, 100)])  # mid up 2.5 ticks
    tape.depth(20.0)
    tape.writer.close()
    source = ReplaySource(ReplayConfig(paths=(str(tape.path),)))
    runtime = SimRuntime()
    log = EventLog(tmp_path / "events.jsonl")
    try:
        venue = SimVenue(runtime, [SPEC], log, seed=1)
        venue.open_account(BOT, {"USDT": 10**6 * ATOMS_PER_UNIT})
        ReplayMarket(runtime.env, venue.engine, source, on_level=venue.on_book_level).start()
        runtime.run_until(0.25)
        venue.engine.place(PlaceRequest(account=BOT, symbol="BTCUSDT", side=Side.BUY, type=OrderType.LIMIT,
                                        qty_lots=200, price_ticks=BID))
        runtime.run_until(21.0)
    finally:
        log.close()
        runtime.close()
    (row,) = fill_report(read_events(tmp_path / "events.jsonl"), BOT, source)
    assert (row.side, row.price_ticks, row.qty_lots, row.maker) == ("BUY", BID, 100, True)
    assert row.queue_ahead_lots == 500
    assert row.wait_s == pytest.approx(0.75)
    mid_after = (BID + 2 + ASK + 4) / 2
    assert row.markout_bps[0] == pytest.approx((mid_after - BID) / BID * 1e4)  # 1 s later: after the move
    assert row.markout_bps[2] is None  # 60 s later is past the recording
    summary = summarise([row])
    assert summary["queue_ahead_lots_mean"] == 500 and summary["fills"] == 1
    data = payload(read_events(tmp_path / "events.jsonl"), BOT, source)
    assert data["fills"][0]["queue_ahead_lots"] == 500 and data["summary"]["fills"] == 1
    rows = dict(report_rows(read_events(tmp_path / "events.jsonl"), BOT, source))
    assert rows["our fills (maker / taker)"] == "1 / 0"
    assert rows["markout 60 s (qty-weighted)"] == "n/a"
