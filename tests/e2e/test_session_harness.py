"""Harness faults in a checked simulated session: crash while down, pause, operator stop, cold restart, latch resets.

Each session runs the gate's bot config on seed 5 under one scenario and keeps its event log; the tests read the
harness's own records (``harness.*``, ``bot.restart``) and the checker's verdict, never the bot's accounting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chaos.spec import chaos_config
from exchange_sim.eventlog import read_events
from exchange_sim.faults import Fault, FaultKind, Scenario
from harness.session import SessionSummary, run_sim_session
from harness.session_harness import OPERATOR_RESET_S

pytestmark = pytest.mark.e2e

Events = list[dict[str, Any]]


def session(tmp_path: Path, *faults: Fault, minutes: float = 5.0, name: str = "events.jsonl",
            **kwargs: Any) -> tuple[SessionSummary, Events]:
    log = tmp_path / name
    summary = run_sim_session(chaos_config(), seed=5, hours=minutes / 60, scenario=Scenario(faults), check=True,
                              log_path=log, **kwargs)
    return summary, list(read_events(log))


def of(events: Events, kind: str) -> Events:
    return [e for e in events if e["k"] == kind]


def operator(events: Events) -> list[str]:
    return [e["action"] for e in of(events, "harness.operator")]


def test_a_crash_while_the_bot_is_down_is_a_no_op_not_a_kill_of_the_next_instance(tmp_path: Path) -> None:
    """Chaos seed 5 at 5 minutes: the second crash fired during the first one's restart pause and killed the
    next instance as it started (two restarts, a liveness failure in the full swarm)."""
    summary, events = session(tmp_path, Fault(FaultKind.CRASH, "bot", 19.328, 0.0, {"restart_after_s": 57.043}),
                              Fault(FaultKind.CRASH, "bot", 55.388, 0.0, {"restart_after_s": 52.689}))
    assert summary.violations == ()
    assert summary.reactions["restarts"] == 1
    assert [(e["t"], e["f"], e["why"]) for e in of(events, "harness.ignored")] == [(55_388_000, "crash", "down")]
    assert [e["t"] for e in of(events, "bot.restart")][1] == pytest.approx(76.4e6, abs=0.1e6)


def test_a_pause_freezes_the_bot_while_the_market_goes_on_and_everything_due_fires_late(tmp_path: Path) -> None:
    summary, events = session(tmp_path, Fault(FaultKind.PAUSE, "bot", 60.0, 20.0), minutes=3.0)
    assert summary.violations == ()
    assert summary.reactions["restarts"] == 0  # the bot was not killed
    bot_times = sorted(e["t"] for e in events if e["k"].startswith("bot."))
    assert not [t for t in bot_times if 60_000_000 < t < 80_000_000]  # none of its code ran
    assert 80_000_000 in bot_times  # its timers fired at the resume, late
    assert len([e for e in of(events, "trade") if 60_000_000 < e["t"] < 80_000_000]) > 10  # the market went on


@pytest.mark.parametrize("how", ["sigint", "sigterm"])
def test_an_operator_signal_stops_the_bot_the_orderly_way_and_the_operator_starts_it_again(
        tmp_path: Path, how: str) -> None:
    summary, events = session(tmp_path, Fault(FaultKind.OPERATOR_STOP, "bot", 60.0, 0.0,
                                              {"how": how, "restart_after_s": 20.0}), minutes=3.0)
    assert summary.violations == ()
    assert operator(events) == [how, "stopped", "start"]
    stopped = of(events, "harness.operator")[1]
    assert stopped["verified"] is True and stopped["remaining"] == 0
    starts = [e["t"] for e in of(events, "bot.restart")]
    assert len(starts) == 2 and starts[1] >= stopped["t"] + 20_000_000


def test_an_operator_kill_switch_latches_and_the_operator_resets_it_after_a_drawn_delay(tmp_path: Path) -> None:
    summary, events = session(tmp_path, Fault(FaultKind.OPERATOR_STOP, "bot", 60.0, 0.0,
                                              {"how": "kill_switch", "restart_after_s": 20.0}), minutes=4.0)
    assert summary.violations == ()
    assert operator(events) == ["kill_switch", "stopped", "start", "reset"]
    start = next(e for e in of(events, "harness.operator") if e["action"] == "start")
    restored = next(e for e in of(events, "bot.guard")  # the new instance starts latched
                    if e["level"] == "HARD" and e["t"] >= start["t"])
    reset = of(events, "harness.operator")[-1]
    assert reset["latch"] == "KILL_SWITCH"
    low, high = OPERATOR_RESET_S
    assert low * 1e6 <= reset["t"] - restored["t"] <= high * 1e6
    assert summary.orders_placed > 0  # the instance quotes again after the reset


def test_without_an_operator_a_latch_holds_to_the_end(tmp_path: Path) -> None:
    summary, events = session(tmp_path, Fault(FaultKind.OPERATOR_STOP, "bot", 60.0, 0.0,
                                              {"how": "kill_switch", "restart_after_s": 20.0}),
                              minutes=4.0, operator_reset_s=None)
    assert "reset" not in operator(events)
    assert summary.orders_placed == 0


def test_an_operator_stop_at_the_next_order_lands_on_a_new_order(tmp_path: Path) -> None:
    _, events = session(tmp_path, Fault(FaultKind.OPERATOR_STOP, "bot", 60.0, 0.0,
                                        {"how": "sigterm", "when": "next_order", "restart_after_s": 20.0}),
                        minutes=3.0)
    signal = of(events, "harness.operator")[0]
    assert signal["action"] == "sigterm" and signal["when"] == "next_order"
    first_intent = min(e["t"] for e in of(events, "bot.intent") if e["t"] >= 60_000_000)
    assert signal["t"] == first_intent > 60_000_000


def test_an_operator_stop_as_the_last_event_leaves_the_bot_stopped(tmp_path: Path) -> None:
    summary, events = session(tmp_path, Fault(FaultKind.OPERATOR_STOP, "bot", 150.0, 0.0,
                                              {"how": "sigint", "restart_after_s": 60.0}), minutes=3.0)
    assert summary.violations == ()
    assert operator(events) == ["sigint", "stopped"]
    assert len(of(events, "bot.restart")) == 1
    assert not [e for e in of(events, "bot.intent") if e["t"] > 150_000_000]
    assert summary.stop_verified


def test_a_cold_restart_starts_an_instance_on_an_empty_store_beside_the_old_orders(tmp_path: Path) -> None:
    summary, events = session(tmp_path, Fault(FaultKind.COLD_RESTART, "bot", 60.0, 0.0, {"restart_after_s": 10.0}),
                              minutes=3.0)
    restarts = of(events, "bot.restart")
    assert [e.get("cold", False) for e in restarts] == [False, True]
    assert summary.reactions["adopted"] > 0  # the venue still held the old instance's orders; the store did not


def test_a_cold_restart_passes_the_checker(tmp_path: Path) -> None:
    summary, _ = session(tmp_path, Fault(FaultKind.COLD_RESTART, "bot", 60.0, 0.0, {"restart_after_s": 10.0}),
                         minutes=3.0)
    assert summary.violations == ()


def test_harness_faults_replay_to_the_same_digest(tmp_path: Path) -> None:
    faults = (Fault(FaultKind.PAUSE, "bot", 30.0, 15.0),
              Fault(FaultKind.OPERATOR_STOP, "bot", 60.0, 0.0, {"how": "kill_switch", "restart_after_s": 5.0}),
              Fault(FaultKind.CRASH, "bot", 100.0, 0.0, {"restart_after_s": 5.0}),
              Fault(FaultKind.COLD_RESTART, "bot", 140.0, 0.0, {"restart_after_s": 5.0}))
    first, _ = session(tmp_path, *faults, minutes=3.0, name="a.jsonl")
    second, _ = session(tmp_path, *faults, minutes=3.0, name="b.jsonl")
    assert first.digest == second.digest


def test_a_book_that_cannot_stay_synced_is_stale_data_for_the_guards(tmp_path: Path) -> None:
    """Chaos seeds 259, 493, 862: reordered depth diffs kept the book resyncing for half a minute; the quoter pulled
    its quotes but its data age froze at the last synced value, so no guard said why the bot had stopped quoting
    (and, past SOFT inventory, invariant 22 found no reducing order). The age now counts from the newest usable
    data."""
    gap = Fault(FaultKind.FEED_GAP, "BTCUSDT", 60.0, 40.0, {"mode": "reorder"}, toxicity=1.0)
    summary, events = session(tmp_path, gap, minutes=3.0)
    stale = [g for g in of(events, "bot.guard") if "STALE_DATA" in str(g["reason"]) and 60e6 <= g["t"] <= 105e6]
    assert stale, [(g["t"], g["level"], g["reason"]) for g in of(events, "bot.guard")]
    assert not summary.violations
