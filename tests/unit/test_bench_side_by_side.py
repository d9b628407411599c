"""The side-by-side benchmark (bench/side_by_side): shared workload, our side's behaviour, and parity with Nautilus.

Our side runs in-process on small workloads; the NautilusTrader tests skip unless the optional
``bench-nautilus`` extra is installed, so the suite never depends on it.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import bench.__main__ as cli
from bench.side_by_side import runner
from bench.side_by_side.ours import run_ours
from bench.side_by_side.result import SideResult
from bench.side_by_side.workload import (
    TopOfBook,
    WorkloadConfig,
    expected_orders,
    requote_due,
    top_of_book_updates,
)

SMALL = WorkloadConfig(updates=2_000, requote_every=10, seed=7)


def test_workload_is_the_same_stream_for_the_same_seed() -> None:
    assert list(top_of_book_updates(SMALL)) == list(top_of_book_updates(SMALL))


def test_workload_differs_between_seeds() -> None:
    other = SMALL.model_copy(update={"seed": 8})
    assert list(top_of_book_updates(SMALL)) != list(top_of_book_updates(other))


def test_every_update_is_an_uncrossed_book_with_sizes_in_range() -> None:
    for update in top_of_book_updates(SMALL):
        assert 0 < update.bid_ticks < update.ask_ticks
        assert SMALL.size_lots_min <= min(update.bid_lots, update.ask_lots)
        assert max(update.bid_lots, update.ask_lots) <= SMALL.size_lots_max


def test_requote_falls_on_every_nth_update_and_never_when_disabled() -> None:
    assert [n for n in range(1, 31) if requote_due(n, 10)] == [10, 20, 30]
    assert not any(requote_due(n, 0) for n in range(1, 31))
    assert expected_orders(SMALL) == 400


def test_workload_config_rejects_unknown_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        WorkloadConfig.model_validate({"updates": 10, "requotes": 3})


@pytest.fixture(scope="module")
def ours_small() -> SideResult:
    return run_ours(SMALL)


def test_ours_submits_two_quotes_per_requote(ours_small: SideResult) -> None:
    assert ours_small.updates == SMALL.updates
    assert ours_small.orders == expected_orders(SMALL)
    assert ours_small.checks["rejected"] == 0


def test_ours_every_quote_ends_cancelled_filled_or_still_open(ours_small: SideResult) -> None:
    assert ours_small.open_at_end == 2
    assert ours_small.cancels + ours_small.fills + ours_small.open_at_end == ours_small.orders


def test_ours_quotes_fill_when_the_book_moves_through_them(ours_small: SideResult) -> None:
    assert ours_small.fills > 0
    assert ours_small.fills == ours_small.checks["venue_trades"]
    assert ours_small.checks["duplicate_fills"] == 0


def test_ours_is_deterministic(ours_small: SideResult) -> None:
    again = run_ours(SMALL)
    assert again.checks["event_log_digest"] == ours_small.checks["event_log_digest"]
    assert (again.orders, again.cancels, again.fills) == (ours_small.orders, ours_small.cancels, ours_small.fills)


def _book(bid: int, ask: int) -> TopOfBook:
    return TopOfBook(bid, 50_000, ask, 50_000)


def test_a_resting_bid_fills_when_the_ask_falls_to_it() -> None:
    # requote on update 2 at 50,000.00 / 50,000.01; update 3's ask of 50,000.00 reaches the bid
    stream = [_book(5_000_000, 5_000_001), _book(5_000_000, 5_000_001), _book(4_999_999, 5_000_000)]
    result = run_ours(WorkloadConfig(updates=3, requote_every=2), stream)
    assert (result.orders, result.fills, result.cancels, result.open_at_end) == (2, 1, 0, 1)
    assert result.checks["position_lots"] > 0


def test_a_quote_does_not_fill_while_the_book_stays_away() -> None:
    stream = [_book(5_000_000, 5_000_001), _book(5_000_000, 5_000_001), _book(4_999_999, 5_000_002),
              _book(4_999_999, 5_000_002)]
    result = run_ours(WorkloadConfig(updates=4, requote_every=2), stream)
    assert (result.orders, result.fills, result.cancels, result.open_at_end) == (4, 0, 2, 2)


def test_side_result_survives_json() -> None:
    result = SideResult(side="ours", engine="x", updates=1, wall_s=0.5, cpu_s=0.4, setup_s=0.0, orders=2, cancels=0,
                        fills=1, open_at_end=1, rss_before_run_mb=1.0, peak_rss_mb=2.0, checks={"k": 1})
    assert SideResult.from_json(result.to_json()) == result
    assert result.events_per_s == 2.0


def test_command_without_nautilus_runs_ours_and_saves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "nautilus_available", lambda: False)
    monkeypatch.setattr(cli, "_save", lambda *_: pytest.fail("a run without Nautilus must not save"))
    out = CliRunner().invoke(cli.app, ["nautilus", "--updates", "200"])
    assert out.exit_code == 0, out.output
    assert "[bench-nautilus]" in out.output


def test_nautilus_side_counts_match_ours_on_the_same_workload(ours_small: SideResult) -> None:
    pytest.importorskip("nautilus_trader")
    theirs = runner.run_side("nautilus", SMALL, timeout_s=300)  # a child process: no Nautilus state in pytest's
    assert (theirs.side, theirs.updates) == ("nautilus", SMALL.updates)
    mine = (ours_small.orders, ours_small.cancels, ours_small.fills, ours_small.open_at_end)
    assert (theirs.orders, theirs.cancels, theirs.fills, theirs.open_at_end) == mine


def test_both_order_stores_run_the_same_session(ours_small: SideResult) -> None:
    """The store is bookkeeping only: the SQLite store gives the same orders, fills and venue event log."""
    sqlite = run_ours(SMALL.model_copy(update={"store": "sqlite"}))
    assert SMALL.store == "memory"
    assert (sqlite.orders, sqlite.cancels, sqlite.fills, sqlite.open_at_end) == (
        ours_small.orders, ours_small.cancels, ours_small.fills, ours_small.open_at_end)
    assert sqlite.checks["event_log_digest"] == ours_small.checks["event_log_digest"]
