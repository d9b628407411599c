"""`record_market` against the loopback server writes the replay format, and the file replays."""

from __future__ import annotations

import asyncio
from pathlib import Path

from exchange_sim.engine.types import Side
from exchange_sim.eventlog import EventLog
from exchange_sim.replay.market import ReplayMarket
from exchange_sim.replay.recorder import RecordResult, record_market
from exchange_sim.replay.records import DepthRecord, SnapshotRecord, TradeRecord, read_records
from exchange_sim.replay.source import ReplayConfig, ReplaySource
from exchange_sim.runtime import SimRuntime
from exchange_sim.venue import SimVenue
from tests.server_support import running_server


async def _record(out: Path) -> RecordResult:
    async with running_server() as server:
        return await record_market(rest_base=server.base, ws_base=server.ws_base, symbols=["BTCUSDT"],
                                   seconds=3.0, out=out)


def test_a_recording_of_the_loopback_server_replays(tmp_path: Path) -> None:
    out = tmp_path / "local.gz"
    result = asyncio.run(_record(out))  # the replay below runs its own (virtual-time) loop
    assert result.snapshots == 1
    records = list(read_records(out))
    kinds = {type(r) for r in records}
    assert {DepthRecord, SnapshotRecord, TradeRecord} <= kinds
    assert [r.symbol for r in records if isinstance(r, SnapshotRecord)] == ["BTCUSDT"]

    source = ReplaySource(ReplayConfig(paths=(str(out),)))
    assert source.symbols == ("BTCUSDT",)
    runtime = SimRuntime()
    venue = SimVenue(runtime, [source.spec("BTCUSDT")], EventLog(None), seed=1)
    market = ReplayMarket(runtime.env, venue.engine, source, on_level=venue.on_book_level)
    market.start()
    runtime.run_until(source.duration_s + 0.001)
    assert market.done
    venue.engine.audit()
    bid, ask = venue.engine.best_bid("BTCUSDT"), venue.engine.best_ask("BTCUSDT")
    assert bid is not None and ask is not None and bid[0] < ask[0]
    assert venue.engine.book("BTCUSDT").level_qty(Side.BUY, bid[0]) == bid[1]
