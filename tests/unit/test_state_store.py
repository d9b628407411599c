"""StateStore: round trips, a client-id counter that never repeats, exactly-once fills, atomic writes, refusal
of files it cannot trust."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, Fill, OrderStatus, OrderType, Side, TradeId, VenueOrderId
from bot.execution.memory_store import MemoryStateStore
from bot.execution.state import SCHEMA_VERSION, OrderRecord, OrderStore, StateStore


def record(cid: str, *, symbol: str = "BTCUSDT", status: OrderStatus = OrderStatus.NEW, updated_ms: int = 1_000,
           **fields: object) -> OrderRecord:
    base = OrderRecord(
        client_order_id=ClientOrderId(cid), symbol=symbol, side=Side.BUY, type=OrderType.LIMIT_MAKER,
        price_ticks=100_000, qty_lots=5, status=status, created_ms=1_000, updated_ms=updated_ms,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def fill(trade_id: int, *, symbol: str = "BTCUSDT", side: Side = Side.BUY, qty_lots: int = 2,
         cid: str = "mmb-1") -> Fill:
    return Fill(
        symbol=symbol, trade_id=TradeId(trade_id), order_id=VenueOrderId(7), client_order_id=ClientOrderId(cid),
        side=side, price_ticks=100_000, qty_lots=qty_lots, quote_atoms=123_456, fee_atoms=12, fee_asset="USDT",
        is_maker=True, time_ms=2_000 + trade_id,
    )


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[OrderStore]:
    """Every behaviour below holds for the SQLite store and for the simulation's in-memory one."""
    s: OrderStore = StateStore(":memory:") if request.param == "sqlite" else MemoryStateStore()
    try:
        yield s
    finally:
        s.close()


# -- orders --
def test_order_round_trips_every_field(store: StateStore) -> None:
    saved = record("mmb-1", venue_order_id=VenueOrderId(42), filled_lots=3, cum_quote_atoms=99, unknown_queries=2,
                   status=OrderStatus.PARTIALLY_FILLED, updated_ms=1_500)
    store.save_order(saved)
    assert store.order(ClientOrderId("mmb-1")) == saved


def test_market_order_without_price_round_trips(store: StateStore) -> None:
    saved = record("mmb-1", type=OrderType.MARKET, price_ticks=None)
    store.save_order(saved)
    assert store.order(ClientOrderId("mmb-1")) == saved


def test_unknown_order_is_none(store: StateStore) -> None:
    assert store.order(ClientOrderId("nope-1")) is None


def test_save_replaces_by_client_id_and_keeps_creation_order(store: StateStore) -> None:
    store.save_orders([record("a-1"), record("a-2")])
    store.save_order(record("a-1", status=OrderStatus.PENDING_CANCEL, updated_ms=5_000))
    assert [(r.client_order_id, r.status) for r in store.open_orders()] == [
        ("a-1", OrderStatus.PENDING_CANCEL), ("a-2", OrderStatus.NEW)
    ]


def test_open_orders_include_pending_unknown_and_lost_and_exclude_terminal(store: StateStore) -> None:
    store.save_orders(record(f"s-{i}", status=status) for i, status in enumerate(OrderStatus))
    assert {r.status for r in store.open_orders()} == {s for s in OrderStatus if not s.is_terminal}
    assert {OrderStatus.PENDING_NEW, OrderStatus.UNKNOWN, OrderStatus.LOST} <= {r.status for r in store.open_orders()}


def test_open_orders_filter_by_symbol(store: StateStore) -> None:
    store.save_orders([record("x-1", symbol="BTCUSDT"), record("x-2", symbol="ETHUSDT"), record("x-3")])
    assert [r.client_order_id for r in store.open_orders("BTCUSDT")] == ["x-1", "x-3"]
    assert [r.client_order_id for r in store.open_orders("ETHUSDT")] == ["x-2"]


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="filled_lots"):
        record("n-1", filled_lots=-1)


@given(
    price=st.none() | st.integers(1, 2**62), qty=st.integers(0, 2**62), filled=st.integers(0, 2**62),
    quote=st.integers(0, 2**62), venue_id=st.none() | st.integers(0, 2**62).map(VenueOrderId),
    status=st.sampled_from(OrderStatus), side=st.sampled_from(Side), otype=st.sampled_from(OrderType),
    times=st.tuples(st.integers(0, 2**50), st.integers(0, 2**50)), unknown=st.integers(0, 1000),
)
def test_any_record_round_trips(price: int | None, qty: int, filled: int, quote: int, venue_id: VenueOrderId | None,
                                status: OrderStatus, side: Side, otype: OrderType, times: tuple[int, int],
                                unknown: int) -> None:
    saved = OrderRecord(
        client_order_id=ClientOrderId("p_q-1"), symbol="ETHUSDT", side=side, type=otype, price_ticks=price,
        qty_lots=qty, status=status, venue_order_id=venue_id, filled_lots=filled, cum_quote_atoms=quote,
        created_ms=times[0], updated_ms=times[1], unknown_queries=unknown,
    )
    with StateStore(":memory:") as s:
        s.save_order(saved)
        assert s.order(saved.client_order_id) == saved


# -- atomicity --
def test_failure_mid_batch_writes_nothing(store: StateStore) -> None:
    store.save_order(record("b-1"))

    def batch() -> Iterator[OrderRecord]:
        yield record("b-1", status=OrderStatus.CANCELED)
        yield record("b-2")
        raise RuntimeError("crash mid-batch")

    with pytest.raises(RuntimeError, match="crash mid-batch"):
        store.save_orders(batch())
    assert store.order(ClientOrderId("b-1")) == record("b-1")
    assert store.order(ClientOrderId("b-2")) is None


def test_process_killed_mid_batch_leaves_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with StateStore(path) as s:
        s.save_order(record("k-1"))
    child = textwrap.dedent(f"""
        import os
        from dataclasses import replace
        from bot.core.types import ClientOrderId, OrderStatus
        from bot.execution.state import StateStore
        store = StateStore({str(path)!r})
        old = store.order(ClientOrderId("k-1"))
        def batch():
            yield replace(old, status=OrderStatus.CANCELED)
            yield replace(old, client_order_id=ClientOrderId("k-2"))
            os._exit(9)  # no rollback, no close: as if the process were killed
        store.save_orders(batch())
    """)
    result = subprocess.run([sys.executable, "-c", child], cwd=Path(__file__).parents[2], check=False, timeout=60)
    assert result.returncode == 9
    with StateStore(path) as s:
        assert s.order(ClientOrderId("k-1")) == record("k-1")
        assert s.order(ClientOrderId("k-2")) is None


def test_fill_and_its_order_are_written_together(store: StateStore) -> None:
    updated = record("mmb-1", filled_lots=2, status=OrderStatus.PARTIALLY_FILLED)
    assert store.record_fill(fill(1), order=updated)
    assert store.order(ClientOrderId("mmb-1")) == updated
    assert not store.record_fill(fill(1), order=record("mmb-1", status=OrderStatus.FILLED))
    assert store.order(ClientOrderId("mmb-1")) == updated  # a repeated fill changes nothing


# -- client order ids --
def test_client_ids_have_the_venue_format(store: StateStore) -> None:
    assert [store.next_client_order_id("mmb") for _ in range(3)] == ["mmb-1", "mmb-2", "mmb-3"]


def test_client_id_counter_survives_reopen_and_never_repeats(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    seen: list[str] = []
    for _ in range(3):
        with StateStore(path) as s:
            seen += [s.next_client_order_id("mmb") for _ in range(4)]
    child = textwrap.dedent(f"""
        import os
        from bot.execution.state import StateStore
        print(StateStore({str(path)!r}).next_client_order_id("mmb"), flush=True)
        os._exit(9)  # never closed, as after a crash: the OS drops the lock
    """)
    crashed = subprocess.run([sys.executable, "-c", child], cwd=Path(__file__).parents[2], check=False, timeout=60,
                             capture_output=True, text=True)
    assert crashed.returncode == 9
    seen.append(crashed.stdout.strip())
    with StateStore(path) as s:
        seen.append(s.next_client_order_id("mmb"))
    assert len(set(seen)) == len(seen) == 14
    assert seen[-1] == "mmb-14"


def test_client_id_counter_is_shared_by_all_prefixes(store: StateStore) -> None:
    assert [store.next_client_order_id(p) for p in ("a", "b_c", "a")] == ["a-1", "b_c-2", "a-3"]


@pytest.mark.parametrize("prefix", ["", "has space", "dot.ted", "ünï", "x" * 40])
def test_bad_client_id_prefix_is_rejected(store: StateStore, prefix: str) -> None:
    with pytest.raises(BotError) as raised:
        store.next_client_order_id(prefix)
    assert raised.value.code is ErrorCode.CONFIG_INVALID


def test_client_ids_are_at_most_36_characters(store: StateStore) -> None:
    assert store.next_client_order_id("p" * 34) == "p" * 34 + "-1"
    with pytest.raises(BotError, match="longer than 36"):
        store.next_client_order_id("p" * 35)


# -- fills --
def test_duplicate_fill_is_rejected(store: StateStore) -> None:
    assert store.record_fill(fill(1))
    assert not store.record_fill(fill(1))
    assert store.fills() == [fill(1)]


def test_same_trade_id_on_another_symbol_is_a_different_fill(store: StateStore) -> None:
    assert store.record_fill(fill(1, symbol="BTCUSDT"))
    assert store.record_fill(fill(1, symbol="ETHUSDT"))
    assert len(store.fills()) == 2


def test_fills_are_in_trade_id_order_per_symbol(store: StateStore) -> None:
    for trade_id, symbol in [(3, "ETHUSDT"), (10, "BTCUSDT"), (2, "BTCUSDT"), (1, "ETHUSDT")]:
        store.record_fill(fill(trade_id, symbol=symbol))
    assert [(f.symbol, f.trade_id) for f in store.fills()] == [
        ("BTCUSDT", 2), ("BTCUSDT", 10), ("ETHUSDT", 1), ("ETHUSDT", 3)
    ]
    assert [f.trade_id for f in store.fills("BTCUSDT")] == [2, 10]


def test_last_trade_id(store: StateStore) -> None:
    assert store.last_trade_id("BTCUSDT") is None
    store.record_fill(fill(10))
    store.record_fill(fill(4))
    assert store.last_trade_id("BTCUSDT") == 10
    assert store.last_trade_id("ETHUSDT") is None


def test_position_is_the_signed_sum_of_fills(store: StateStore) -> None:
    store.record_fill(fill(1, side=Side.BUY, qty_lots=5))
    store.record_fill(fill(2, side=Side.SELL, qty_lots=8))
    store.record_fill(fill(2, side=Side.SELL, qty_lots=8))  # duplicate: not counted twice
    store.record_fill(fill(3, side=Side.BUY, qty_lots=1, symbol="ETHUSDT"))
    assert store.position_lots("BTCUSDT") == -3
    assert store.position_lots("ETHUSDT") == 1
    assert store.position_lots("SOLUSDT") == 0


def test_fills_and_orders_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with StateStore(path) as s:
        s.save_order(record("mmb-1"))
        s.record_fill(fill(1))
    with StateStore(path) as s:
        assert s.order(ClientOrderId("mmb-1")) == record("mmb-1")
        assert s.fills() == [fill(1)]
        assert s.position_lots("BTCUSDT") == 2


# -- meta, pruning --
def test_meta_round_trips_and_store_keys_are_reserved(store: StateStore) -> None:
    assert store.get_meta("listen_key") is None
    store.set_meta("listen_key", "abc")
    store.set_meta("listen_key", "def")
    assert store.get_meta("listen_key") == "def"
    assert store.get_meta("store.schema_version") == str(SCHEMA_VERSION)
    with pytest.raises(ValueError, match="reserved"):
        store.set_meta("store.client_seq", "0")


def test_prune_drops_old_terminal_orders_and_keeps_open_ones(store: StateStore) -> None:
    store.save_orders([
        record("o-1", status=OrderStatus.FILLED, updated_ms=100),
        record("o-2", status=OrderStatus.CANCELED, updated_ms=900),
        record("o-3", status=OrderStatus.NEW, updated_ms=100),
        record("o-4", status=OrderStatus.LOST, updated_ms=100),
        record("o-5", status=OrderStatus.UNKNOWN, updated_ms=100),
    ])
    store.record_fill(fill(1, cid="o-1"))
    assert store.prune_terminal(older_than_ms=500) == 1
    assert store.order(ClientOrderId("o-1")) is None
    assert store.order(ClientOrderId("o-2")) is not None  # terminal, but recent
    assert [r.client_order_id for r in store.open_orders()] == ["o-3", "o-4", "o-5"]
    assert store.fills() == [fill(1, cid="o-1")]  # fills (the position) are never pruned


# -- files it must refuse --
def test_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not an SQLite file, it is a shopping list\n" * 100)
    with pytest.raises(BotError, match="not a readable state database") as raised:
        StateStore(path)
    assert raised.value.code is ErrorCode.STATE_INVALID
    assert str(path) in raised.value.message


def test_corrupt_pages_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with StateStore(path) as s:
        s.save_orders(record(f"c-{i}") for i in range(500))
    data = bytearray(path.read_bytes())
    data[4096 * 2 : 4096 * 4] = b"\xa5" * (4096 * 2)  # overwrite two pages in the middle of the file
    path.write_bytes(bytes(data))
    with pytest.raises(BotError) as raised:
        StateStore(path)
    assert raised.value.code is ErrorCode.STATE_INVALID


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    before = path.read_bytes()
    with pytest.raises(BotError, match="not an mmbot state file") as raised:
        StateStore(path)
    assert raised.value.code is ErrorCode.STATE_INVALID
    assert path.read_bytes() == before  # refused untouched: not even switched to WAL journaling


@pytest.mark.parametrize(("version", "message"), [(str(SCHEMA_VERSION + 1), "newer than"), ("v2", "unreadable")])
def test_newer_or_unknown_schema_version_is_refused(tmp_path: Path, version: str, message: str) -> None:
    path = tmp_path / "state.sqlite3"
    StateStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value=? WHERE key='store.schema_version'", (version,))
    db.close()
    with pytest.raises(BotError, match=message) as raised:
        StateStore(path)
    assert raised.value.code is ErrorCode.STATE_INVALID


def test_file_uses_wal_journaling(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with StateStore(path):
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        db.close()


def test_fill_totals_reads_an_index_also_in_files_written_before_it_existed(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    StateStore(path).close()
    with sqlite3.connect(path) as db:  # a file from before the index
        db.execute("DROP INDEX fills_by_order")
    StateStore(path).close()
    with sqlite3.connect(path) as db:
        plan = " ".join(str(row) for row in db.execute(
            "EXPLAIN QUERY PLAN SELECT SUM(qty_lots) FROM fills WHERE client_order_id=?", ("x",)))
    assert "fills_by_order" in plan


# -- one instance per state file --
def test_a_second_open_of_a_held_state_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with StateStore(path) as first:
        first.save_order(record("mmb-1"))
        with pytest.raises(BotError) as refused:
            StateStore(path)
        assert refused.value.code is ErrorCode.STATE_INVALID
        assert str(path) in refused.value.message and "in use by another mmbot instance" in refused.value.message
        assert "\n" not in refused.value.message
        assert first.order(ClientOrderId("mmb-1")) == record("mmb-1")  # the holder is unharmed


def test_closing_a_state_file_releases_it(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    StateStore(path).close()
    with StateStore(path) as again:
        assert again.open_orders() == []


def test_a_refused_open_leaves_the_holders_lock_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with StateStore(path):
        for _ in range(2):  # a refusal must not release the lock it does not own
            with pytest.raises(BotError):
                StateStore(path)


def test_memory_stores_take_no_lock() -> None:
    with StateStore(":memory:"), StateStore(":memory:") as second:
        assert second.open_orders() == []


def test_advancing_the_counter_skips_the_adopted_numbers_and_never_goes_back(store: OrderStore) -> None:
    store.advance_client_seq(7)
    assert store.next_client_order_id("mmb") == "mmb-8"
    store.advance_client_seq(3)  # lower: no effect
    assert store.next_client_order_id("mmb") == "mmb-9"
