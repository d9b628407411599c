"""LocalBook: Binance's snapshot + diff procedure, gaps and crossings force a resync, qty 0 removes a level."""

from __future__ import annotations

import pytest

from bot.core.errors import BotError, ErrorCode
from bot.core.types import BookLevel, BookSnapshot, DepthUpdate, Side
from bot.market.book import LocalBook

SYMBOL = "BTCUSDT"


def snap(last_id: int, bids: dict[int, int] | None = None, asks: dict[int, int] | None = None) -> BookSnapshot:
    bids = {100: 5, 99: 3} if bids is None else bids
    asks = {101: 4, 102: 7} if asks is None else asks
    return BookSnapshot(symbol=SYMBOL, last_update_id=last_id,
                        bids=tuple(BookLevel(p, q) for p, q in sorted(bids.items(), reverse=True)),
                        asks=tuple(BookLevel(p, q) for p, q in sorted(asks.items())))


def diff(first: int, last: int, bids: dict[int, int] | None = None, asks: dict[int, int] | None = None,
         time_ms: int = 0) -> DepthUpdate:
    return DepthUpdate(symbol=SYMBOL, first_update_id=first, last_update_id=last,
                       bids=tuple(BookLevel(p, q) for p, q in (bids or {}).items()),
                       asks=tuple(BookLevel(p, q) for p, q in (asks or {}).items()), time_ms=time_ms)


def synced(last_id: int = 10) -> LocalBook:
    book = LocalBook(SYMBOL)
    book.apply_snapshot(snap(last_id))
    return book


def test_new_book_needs_a_snapshot_and_refuses_to_serve() -> None:
    book = LocalBook(SYMBOL)
    assert book.needs_resync and not book.is_synced
    with pytest.raises(BotError) as raised:
        book.best_bid()
    assert raised.value.code is ErrorCode.SEQUENCE_GAP


def test_snapshot_serves_levels_best_first() -> None:
    book = synced()
    assert book.best_bid() == BookLevel(100, 5)
    assert book.best_ask() == BookLevel(101, 4)
    assert book.mid_ticks() == 100.5
    assert book.levels(Side.BUY, 5) == [BookLevel(100, 5), BookLevel(99, 3)]
    assert book.levels(Side.SELL, 1) == [BookLevel(101, 4)]
    assert book.qty_at(Side.SELL, 102) == 7
    assert book.qty_at(Side.SELL, 103) == 0
    assert book.last_update_id == 10


def test_diffs_buffered_before_the_snapshot_are_replayed_and_old_ones_dropped() -> None:
    book = LocalBook(SYMBOL)
    assert not book.apply(diff(5, 8, bids={100: 999}))  # u <= lastUpdateId: dropped
    assert not book.apply(diff(9, 12, bids={98: 1}))  # straddles lastUpdateId + 1 = 11
    assert not book.apply(diff(13, 13, asks={101: 0}))
    assert book.buffered == 3
    book.apply_snapshot(snap(10))
    assert book.is_synced
    assert book.last_update_id == 13
    assert book.qty_at(Side.BUY, 100) == 5
    assert book.qty_at(Side.BUY, 98) == 1
    assert book.best_ask() == BookLevel(102, 7)


def test_first_diff_must_straddle_the_snapshot_id() -> None:
    book = synced(10)
    assert not book.apply(diff(12, 14, bids={98: 1}))  # U > lastUpdateId + 1: an update is missing
    assert book.needs_resync
    assert book.gaps == 1


def test_later_diffs_must_be_contiguous() -> None:
    book = synced(10)
    assert book.apply(diff(11, 12, bids={98: 1}))
    assert not book.apply(diff(14, 15, bids={97: 1}))
    assert book.needs_resync
    assert book.gaps == 1


def test_overlapping_later_diff_is_a_gap() -> None:
    book = synced(10)
    assert book.apply(diff(11, 12))
    assert not book.apply(diff(12, 13))
    assert book.gaps == 1


def test_duplicate_diff_is_ignored() -> None:
    book = synced(10)
    assert book.apply(diff(11, 12, bids={98: 1}))
    assert not book.apply(diff(11, 12, bids={98: 50}))
    assert book.is_synced
    assert book.qty_at(Side.BUY, 98) == 1
    assert book.gaps == 0


def test_qty_zero_removes_a_level() -> None:
    book = synced(10)
    assert book.apply(diff(11, 11, bids={100: 0}))
    assert book.best_bid() == BookLevel(99, 3)
    assert book.depth(Side.BUY) == 1


def test_removing_an_absent_level_is_harmless() -> None:
    book = synced(10)
    assert book.apply(diff(11, 11, asks={150: 0}))
    assert book.depth(Side.SELL) == 2


def test_diff_that_would_cross_the_book_forces_a_resync() -> None:
    book = synced(10)
    assert not book.apply(diff(11, 11, bids={101: 1}))
    assert book.needs_resync
    assert book.crossings == 1
    with pytest.raises(BotError):
        book.levels(Side.BUY, 1)


def test_crossed_snapshot_is_rejected() -> None:
    book = LocalBook(SYMBOL)
    book.apply_snapshot(snap(10, bids={101: 1}, asks={101: 1}))
    assert book.needs_resync
    assert book.crossings == 1


def test_gap_then_new_snapshot_resyncs_with_the_buffered_diffs() -> None:
    book = synced(10)
    book.apply(diff(11, 11, bids={98: 1}))
    book.apply(diff(13, 13, bids={97: 2}))  # 12 lost
    book.apply(diff(14, 14, bids={96: 3}))
    assert book.needs_resync
    book.apply_snapshot(snap(13, bids={100: 5, 97: 2}))
    assert book.is_synced
    assert book.last_update_id == 14
    assert book.levels(Side.BUY, 5) == [BookLevel(100, 5), BookLevel(97, 2), BookLevel(96, 3)]


def test_snapshot_older_than_the_buffer_is_a_gap() -> None:
    book = LocalBook(SYMBOL)
    book.apply(diff(20, 21))
    book.apply_snapshot(snap(10))
    assert book.needs_resync
    assert book.gaps == 1
    assert book.buffered == 1  # kept for the next snapshot
    book.apply_snapshot(snap(20))
    assert book.is_synced
    assert book.last_update_id == 21


def test_buffer_is_bounded() -> None:
    book = LocalBook(SYMBOL, max_buffered=3)
    for i in range(10):
        book.apply(diff(i, i))
    assert book.buffered == 3


def test_last_event_ms_is_the_last_applied_diff_time() -> None:
    book = synced(10)
    assert book.last_event_ms is None
    book.apply(diff(11, 11, time_ms=1234))
    assert book.last_event_ms == 1234


def test_data_for_another_symbol_is_a_bug() -> None:
    book = LocalBook("ETHUSDT")
    with pytest.raises(ValueError, match="BTCUSDT"):
        book.apply_snapshot(snap(1))
