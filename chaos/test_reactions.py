"""One fault kind at a time: the bot's specific reaction (DESIGN section 3, right column), and no broken invariant."""

from __future__ import annotations

import pytest

from chaos.runner import SessionResult, run_spec
from chaos.spec import SessionSpec
from exchange_sim.faults import Fault, FaultKind, Scenario, to_yaml

pytestmark = pytest.mark.chaos


def run(*faults: Fault, seed: int = 5, minutes: float = 6.0) -> SessionResult:
    return run_spec(SessionSpec(seed=seed, minutes=minutes, scenario_yaml=to_yaml(Scenario(faults))))


def test_partition_heal_is_followed_by_a_reconcile_and_quoting_again() -> None:
    result = run(Fault(FaultKind.PARTITION, "rest", 60.0, 40.0))
    assert result.ok, result.violations
    assert result.reactions["reconciles"] >= 3
    assert result.reactions["unknown_outcomes"] + result.reactions["retries"] > 0


def test_clock_skew_is_resynced_not_stormed() -> None:
    result = run(Fault(FaultKind.CLOCK_SKEW, "rest", 60.0, 120.0, {"offset_ms": 30_000.0}))
    assert result.ok, result.violations
    assert result.reactions["time_syncs"] >= 2
    assert result.reactions["timestamp_rejects"] <= 5  # a resync after the first -1021s, never a storm


def test_rate_limit_sends_nothing_before_retry_after_and_is_never_banned() -> None:
    result = run(Fault(FaultKind.RATE_LIMIT, "rest", 30.0, 200.0, {"weight_limit": 20.0, "window_s": 10.0,
                                                                   "ban_after": 2.0}))
    assert not {"9.rate_and_taker"} & set(result.invariants), result.violations
    assert result.reactions["banned"] == 0
    assert result.reactions["held_back"] > 0  # the gate refused to send during Retry-After


def test_timeout_after_processing_is_queried_never_booked_as_failure() -> None:
    result = run(Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", 30.0, 120.0, {"reply": "error"}))
    assert result.ok, result.violations
    assert result.reactions["unknown_outcomes"] > 0


def test_feed_gap_resyncs_from_a_snapshot() -> None:
    result = run(Fault(FaultKind.FEED_GAP, "ws", 30.0, 60.0, {"mode": "drop"}, toxicity=0.2))
    assert result.ok, result.violations
    assert result.reactions["book_resyncs"] > 0


def test_missed_user_stream_reports_are_backfilled_and_booked_once() -> None:
    result = run(Fault(FaultKind.USER_STREAM, "user", 30.0, 180.0, {"mode": "mixed"}),
                 Fault(FaultKind.PARTIAL_FILL, "both", 30.0, 180.0, {"rate_per_s": 0.5}))
    assert result.ok, result.violations


def test_stale_feed_pulls_quotes() -> None:
    result = run(Fault(FaultKind.STALE_FEED, "ws", 60.0, 30.0))
    assert result.ok, result.violations
    assert result.reactions["quote_pulls"] > 0


def test_crash_restarts_on_the_same_state_and_reconciles_first() -> None:
    result = run(Fault(FaultKind.CRASH, "bot", 90.0, 0.0, {"restart_after_s": 10.0}))
    assert result.ok, result.violations
    assert result.reactions["restarts"] == 1


def test_memory_pressure_sheds_stale_market_data_never_order_state_and_stays_under_the_limit() -> None:
    """Bursts of 12,000 stale depth updates a second overflow the 10,000-message buffers (the venue's per
    connection, the connector's per stream): the oldest are shed or the stream resyncs, the book and the ledger
    stay right (every invariant holds) and the process stays under the limit."""
    result = run(Fault(FaultKind.MEMORY_PRESSURE, "bot", 60.0, 10.0, {"message_rate_per_s": 12_000.0,
                                                                      "limit_mb": 128.0}),
                 Fault(FaultKind.PARTIAL_FILL, "both", 60.0, 30.0, {"rate_per_s": 1.0}))
    assert result.ok, result.violations
    assert result.reactions["feed_shed"] > 0


def test_a_flood_the_stream_buffer_holds_is_read_not_shed() -> None:
    result = run(Fault(FaultKind.MEMORY_PRESSURE, "bot", 60.0, 30.0, {"message_rate_per_s": 500.0}))
    assert result.ok, result.violations
    assert result.reactions["feed_shed"] == 0
