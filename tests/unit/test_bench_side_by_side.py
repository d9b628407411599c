"""The side-by-side benchmark (bench/side_by_side): the standard workload, the maker rule and its inventory cap,
every engine against a plain-Python reference of that rule, and the interleaved runner.

Our sides run in-process on small workloads; the NautilusTrader and hftbacktest tests skip unless their optional
extras are installed (``bench-nautilus``, ``bench-hftbacktest``), so the suite never depends on them.
"""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

import bench.__main__ as cli
from bench.side_by_side import runner
from bench.side_by_side.ours import run_ours
from bench.side_by_side.ours_full import run_ours_full
from bench.side_by_side.result import SideResult
from bench.side_by_side.workload import (
    MAKER_QTY_LOTS,
    Counts,
    TopOfBook,
    WorkloadConfig,
    quote_sides,
    reference_run,
    requote_due,
    top_of_book_updates,
)

np = pytest.importorskip("numpy")  # the standard stream is numpy's walk (in the dev extra)

SMALL = WorkloadConfig(updates=20_000)  # the standard workload, 20k updates
LEGACY = WorkloadConfig(workload="legacy", updates=2_000, seed=7)


def _counts(result: SideResult) -> Counts:
    return runner.counts_of(result)


# -- the stream --
def test_the_standard_stream_is_numpys_walk_in_whole_ticks_with_a_one_tick_spread() -> None:
    config = WorkloadConfig(updates=5_000, seed=42)
    steps = np.random.default_rng(42).integers(-1, 2, 5_000)
    expected_bids = (config.start_bid_ticks + np.cumsum(steps)).tolist()
    updates = list(top_of_book_updates(config))
    assert [u.bid_ticks for u in updates] == expected_bids
    assert all(u.ask_ticks == u.bid_ticks + 1 for u in updates)
    assert {(u.bid_lots, u.ask_lots) for u in updates} == {(config.size_lots_min, config.size_lots_min)}


def test_the_standard_workload_is_the_default() -> None:
    config = WorkloadConfig()
    assert (config.workload, config.updates, config.requote_every, config.inventory_cap_quotes, config.seed) == (
        "standard", 1_000_000, 10, 10, 42)


def test_the_legacy_stream_stays_selectable_and_valid() -> None:
    updates = list(top_of_book_updates(LEGACY))
    assert updates == list(top_of_book_updates(LEGACY))
    assert {u.ask_ticks - u.bid_ticks for u in updates} == {1, 2, 3}
    for update in updates:
        assert LEGACY.size_lots_min <= min(update.bid_lots, update.ask_lots)
        assert max(update.bid_lots, update.ask_lots) <= LEGACY.size_lots_max


def test_workload_config_rejects_unknown_fields_and_workloads() -> None:
    with pytest.raises(ValueError, match="extra"):
        WorkloadConfig.model_validate({"updates": 10, "requotes": 3})
    with pytest.raises(ValueError, match="workload"):
        WorkloadConfig.model_validate({"workload": "fancy"})


# -- the maker rule --
def test_requote_falls_on_every_nth_update_and_never_when_disabled() -> None:
    assert [n for n in range(1, 31) if requote_due(n, 10)] == [10, 20, 30]
    assert not any(requote_due(n, 0) for n in range(1, 31))


def test_the_cap_stops_adding_on_a_side_at_ten_quotes() -> None:
    assert quote_sides(9, 10) == (True, True)
    assert quote_sides(10, 10) == (False, True)
    assert quote_sides(14, 10) == (False, True)
    assert quote_sides(-9, 10) == (True, True)
    assert quote_sides(-10, 10) == (True, False)
    assert quote_sides(500, 0) == (True, True)  # 0: no cap (the legacy maker)


def _book(bid: int, ask: int) -> TopOfBook:
    return TopOfBook(bid, 50_000, ask, 50_000)


def _falling(updates: int) -> list[TopOfBook]:
    """A book that falls one tick on every update: every resting bid fills on the next one."""
    return [_book(5_000_000 - n, 5_000_001 - n) for n in range(updates)]


def test_the_reference_maker_stops_buying_at_the_cap() -> None:
    config = WorkloadConfig(updates=300, requote_every=2)
    capped = reference_run(config, _falling(300))
    assert (capped.fills, capped.position_quotes) == (10, 10)
    assert capped.orders == 150 + 10  # an ask on every requote, a bid only until ten bids have filled
    uncapped = reference_run(config.model_copy(update={"inventory_cap_quotes": 0}), _falling(300))
    assert (uncapped.fills, uncapped.position_quotes) == (149, 149)


def test_the_reference_maker_makes_138142_fills_on_the_standard_million() -> None:
    """The figure the issue gives for every engine (DESIGN.md section 6)."""
    assert reference_run(WorkloadConfig()) == Counts(orders=195_784, cancels=57_640, fills=138_142, open_at_end=2,
                                                     position_quotes=8)


# -- ours (execution path) --
@pytest.fixture(scope="module")
def ours_small() -> SideResult:
    return run_ours(SMALL)


def test_ours_gives_the_reference_counts_on_20k_standard_updates(ours_small: SideResult) -> None:
    assert ours_small.updates == SMALL.updates
    assert _counts(ours_small) == reference_run(SMALL)
    assert ours_small.fills == ours_small.checks["venue_trades"]
    assert (ours_small.checks["rejected"], ours_small.checks["duplicate_fills"]) == (0, 0)


def test_ours_stops_buying_at_the_cap() -> None:
    config = WorkloadConfig(updates=300, requote_every=2)
    result = run_ours(config, _falling(300))
    assert _counts(result) == reference_run(config, _falling(300))
    assert result.checks["position_lots"] == 10 * MAKER_QTY_LOTS


def test_ours_gives_the_reference_counts_on_the_legacy_stream() -> None:
    assert _counts(run_ours(LEGACY)) == reference_run(LEGACY)


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


def test_ours_is_deterministic_and_both_stores_run_the_same_session() -> None:
    config = WorkloadConfig(updates=2_000)
    memory, again = run_ours(config), run_ours(config)
    sqlite = run_ours(config.model_copy(update={"store": "sqlite"}))
    assert memory.checks["event_log_digest"] == again.checks["event_log_digest"] == sqlite.checks["event_log_digest"]
    assert _counts(memory) == _counts(again) == _counts(sqlite)


# -- ours (full bot path) --
def test_the_full_bot_gives_the_reference_counts_on_20k_standard_updates() -> None:
    result = run_ours_full(SMALL)
    assert _counts(result) == reference_run(SMALL)
    assert result.checks["decisions"] == SMALL.updates // SMALL.requote_every  # one quote cycle per requote
    assert (result.checks["halts"], result.checks["pulls"], result.checks["guard_level"]) == ({}, {}, "OK")


# -- the other engines (optional extras, child processes) --
@pytest.mark.parametrize(("side", "module"), [("nautilus", "nautilus_trader"), ("hftbacktest", "hftbacktest")])
def test_other_engines_give_the_reference_counts_on_20k_standard_updates(side: str, module: str) -> None:
    pytest.importorskip(module)
    theirs = runner.run_side(side, SMALL, timeout_s=900)
    assert (theirs.side, theirs.updates) == (side, SMALL.updates)
    assert _counts(theirs) == reference_run(SMALL)


# -- the runner --
def _result(side: str, cpu_s: float, fills: int = 5) -> SideResult:
    return SideResult(side=side, engine=side, updates=100, wall_s=cpu_s * 2, cpu_s=cpu_s, setup_s=0.0, orders=10,
                      cancels=3, fills=fills, open_at_end=2, rss_before_run_mb=1.0, peak_rss_mb=cpu_s,
                      checks={"position_quotes": 1})


def test_rounds_are_interleaved_and_the_headline_is_the_median() -> None:
    calls: list[str] = []
    cpu = iter([3.0, 1.0, 9.0, 2.0, 1.0, 4.0])

    def fake(side: str, _config: WorkloadConfig) -> SideResult:
        calls.append(side)
        return _result(side, next(cpu))

    results = runner.run_interleaved(SMALL, ["ours", "nautilus"], 3, fake)
    assert calls == ["ours", "nautilus"] * 3
    ours = runner.summarize(results["ours"])
    assert (ours.cpu_s, ours.cpu_s_min, ours.cpu_s_max, ours.peak_rss_mb) == (3.0, 1.0, 9.0, 9.0)
    assert ours.events_per_cpu_s == pytest.approx(100 / 3.0)


def test_a_count_that_differs_from_the_reference_is_reported() -> None:
    reference = Counts(orders=10, cancels=3, fills=5, open_at_end=2, position_quotes=1)
    good, bad = runner.summarize([_result("ours", 1.0)]), runner.summarize([_result("nautilus", 1.0, fills=6)])
    assert runner.mismatches([good], reference) == []
    [line] = runner.mismatches([good, bad], reference)
    assert line.startswith("nautilus:") and "fills 6" in line
    unstable = runner.summarize([_result("ours", 1.0), _result("ours", 1.0, fills=6)])
    assert any("between its own runs" in line for line in runner.mismatches([unstable], reference))


def test_side_result_survives_json() -> None:
    result = _result("ours", 0.5)
    assert SideResult.from_json(result.to_json()) == result
    assert dataclasses.replace(result, cpu_s=0.25).events_per_cpu_s == 400.0


def test_command_without_nautilus_runs_ours_and_saves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "available", lambda side: side.startswith("ours"))
    monkeypatch.setattr(cli, "_save", lambda *_: pytest.fail("a run without Nautilus must not save"))
    out = CliRunner().invoke(cli.app, ["nautilus", "--updates", "200", "--repeat", "1"])
    assert out.exit_code == 0, out.output
    assert "[bench-nautilus]" in out.output


def test_command_reports_a_count_mismatch_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "available", lambda side: side.startswith("ours"))
    monkeypatch.setattr(runner, "run_side", lambda side, config: _result(side, 1.0))
    out = CliRunner().invoke(cli.app, ["nautilus", "--updates", "200", "--repeat", "2", "--engines", "none"])
    assert out.exit_code == 1, out.output
    assert "COUNT MISMATCH" in out.output


def test_command_runs_hftbacktest_on_the_standard_workload_only(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(runner, "available", lambda side: True)
    monkeypatch.setattr(cli, "_save", lambda *_: None)
    monkeypatch.setattr(cli, "_write_block", lambda *_: None)

    def fake(side: str, config: WorkloadConfig) -> SideResult:
        ran.append(side)
        counts = reference_run(config)
        return dataclasses.replace(_result(side, 1.0), updates=config.updates, orders=counts.orders,
                                   cancels=counts.cancels, fills=counts.fills, open_at_end=counts.open_at_end,
                                   checks={"position_quotes": counts.position_quotes})

    monkeypatch.setattr(runner, "run_side", fake)
    out = CliRunner().invoke(cli.app, ["nautilus", "--workload", "legacy", "--updates", "300", "--repeat", "1"])
    assert out.exit_code == 0, out.output
    assert ran == ["ours", "nautilus"]
    ran.clear()
    out = CliRunner().invoke(cli.app, ["nautilus", "--updates", "300", "--repeat", "1"])
    assert out.exit_code == 0, out.output
    assert ran == ["ours", "nautilus", "hftbacktest"]
