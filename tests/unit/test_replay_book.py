"""The recorded book is rebuilt the way Binance documents, and a recording that cannot be trusted says where."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange_sim.replay.book import BookRebuild, ReplayGapError
from exchange_sim.replay.records import DepthRecord, RecordingError, SnapshotRecord, units
from exchange_sim.replay.source import RECORDED_SYMBOLS, ReplayConfig, ReplaySource
from exchange_sim.replay.writer import RecordingWriter, depth_message, snapshot_message

SPEC = RECORDED_SYMBOLS["BTCUSDT"]


def diff(line: int, first: int, last: int, bids: tuple[tuple[str, str], ...] = (),
         asks: tuple[tuple[str, str], ...] = (), event_ms: int = 1000) -> DepthRecord:
    return DepthRecord(line, 0, "BTCUSDT", event_ms, first, last, bids, asks)


def snapshot(last_update_id: int) -> SnapshotRecord:
    return SnapshotRecord(3, 0, "BTCUSDT", last_update_id, (("60000.00", "1.00000"), ("59999.99", "0.50000")),
                          (("60000.01", "2.00000"),))


def test_diffs_wait_for_the_snapshot_and_those_it_covers_are_dropped() -> None:
    book = BookRebuild("f.gz", SPEC)
    assert book.on_depth(diff(1, 90, 95, bids=(("60000.00", "9.00000"),))) is None
    assert book.on_depth(diff(2, 96, 102, bids=(("59999.99", "0"),))) is None
    applied = book.on_snapshot(snapshot(100))
    assert [d.line for d, _ in applied] == [2]  # u=95 <= lastUpdateId: dropped; 96..102 straddles 101
    assert book.dropped == 1
    assert book.bids == {6_000_000: 100_000}  # the straddling diff removed 59999.99
    assert book.asks == {6_000_001: 200_000}
    assert book.on_depth(diff(4, 103, 110, asks=(("60000.02", "0.10000"),))) == [(False, 6_000_002, 10_000)]


def test_a_gap_between_diffs_is_an_error_naming_the_line() -> None:
    book = BookRebuild("f.gz", SPEC)
    book.on_snapshot(snapshot(100))
    book.on_depth(diff(4, 101, 105))
    with pytest.raises(ReplayGapError, match=r"f\.gz:5: BTCUSDT depth update U=107 does not follow u=105"):
        book.on_depth(diff(5, 107, 110))


def test_a_first_diff_that_does_not_straddle_the_snapshot_is_a_gap() -> None:
    book = BookRebuild("f.gz", SPEC)
    book.on_snapshot(snapshot(100))
    with pytest.raises(ReplayGapError, match=r"f\.gz:7: .*does not straddle the snapshot's lastUpdateId 100"):
        book.on_depth(diff(7, 103, 110))


def test_quantities_finer_than_the_lot_round_to_it_but_never_to_nothing() -> None:
    grid = BookRebuild("f", SPEC).grid
    assert grid.lots("25.42618900") == 2_542_619
    assert grid.lots("0.00000100") == 1
    assert grid.lots("0.00000000") == 0
    assert units("61837.63000000", 1_000_000) == 6_183_763
    with pytest.raises(ValueError, match="not a multiple"):
        units("61837.635", 1_000_000)


def test_a_gap_in_a_recording_file_fails_the_load_with_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "gap.gz"
    with RecordingWriter(path) as writer:
        writer.write(1, depth_message("BTCUSDT", 1000, 95, 101, [], []))
        writer.write(2, snapshot_message(None, 100, [("60000.00", "1")], [("60000.01", "1")]))
        writer.write(3, depth_message("BTCUSDT", 1100, 102, 104, [], []))
        writer.write(4, depth_message("BTCUSDT", 1200, 106, 108, [], []))
    with pytest.raises(ReplayGapError, match=rf"{path}:4: BTCUSDT depth update U=106 does not follow u=104"):
        ReplaySource(ReplayConfig(paths=(str(path),)))


def test_a_malformed_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text('1 {"stream":"btcusdt@trade","data":{"e":"trade"}}\n2 not json\n')
    with pytest.raises(RecordingError, match=rf"{path}:1: KeyError"):
        ReplaySource(ReplayConfig(paths=(str(path),)))


def test_a_symbol_that_never_syncs_cannot_be_replayed(tmp_path: Path) -> None:
    path = tmp_path / "nosnap.txt"
    with RecordingWriter(path) as writer:
        writer.write(1, depth_message("BTCUSDT", 1000, 95, 101, [], []))
    with pytest.raises(RecordingError, match="BTCUSDT never synced"):
        ReplaySource(ReplayConfig(paths=(str(path),)))


def recordings_dir() -> Path:
    """``shared/data/binance-spot`` beside this checkout or one of its parents (the project's data folder)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "binance-spot"
        if candidate.is_dir():
            return candidate
    pytest.skip("the recorded Binance data (../shared/data/binance-spot) is not available")


def test_the_bundled_recordings_rebuild_without_a_gap() -> None:
    data = recordings_dir()
    source = ReplaySource(ReplayConfig(paths=(str(data / "btcusdt_20240808.gz"), str(data / "ethusdt_20240808.gz"))))
    assert source.symbols == ("BTCUSDT", "ETHUSDT")
    assert 345.0 < source.duration_s < 347.0
    for symbol in source.symbols:
        bids, asks = source.initial[symbol]
        assert max(bids) < min(asks)
