"""Coverage figures: quoting time is measured from the venue's order records outside fault windows, and a fault
counts as hitting the bot only when its effect landed on the bot's own traffic."""

from __future__ import annotations

from typing import Any

import pytest

from chaos.coverage import Coverage, median_quoting_fraction, read_coverage_records, session_coverage
from chaos.report import as_json, below_hit_target, by_fault, coverage_line
from chaos.runner import SessionResult
from chaos.spec import SessionSpec

S = 1_000_000  # µs per simulated second


def order(t_s: float, oid: int, status: str, account: str = "bot") -> dict[str, Any]:
    return {"t": int(t_s * S), "k": "order", "a": account, "s": "BTCUSDT", "id": oid, "X": status}


def fault(t_s: float, fid: int, kind: str, phase: str, hits: int = 0) -> dict[str, Any]:
    record: dict[str, Any] = {"t": int(t_s * S), "k": "fault", "id": fid, "f": kind, "ph": phase}
    if phase == "end":
        record["hits"] = hits
    return record


def test_quoting_time_counts_only_when_an_order_rests_and_only_outside_fault_windows() -> None:
    records = [
        order(10, 1, "NEW"), order(20, 2, "NEW"), order(30, 1, "CANCELED"),  # resting 10..40 (two orders overlap)
        fault(35, 0, "partition", "start"), order(40, 2, "FILLED"), fault(45, 0, "partition", "end"),
        order(60, 3, "PARTIALLY_FILLED"), order(70, 3, "CANCELED"),  # resting 60..70
    ]
    coverage = session_coverage(records, account="bot", duration_s=100.0)
    assert coverage.fault_s == pytest.approx(10.0)
    assert coverage.quoting_s == pytest.approx(25.0 + 10.0)  # 10..35 and 60..70; 35..40 was fault time
    assert coverage.quoting_fraction == pytest.approx(35.0 / 90.0)


def test_orders_of_other_accounts_are_not_the_bot_quoting() -> None:
    records = [order(0, 1, "NEW", account="mkt.lp"), order(50, 2, "NEW"), order(60, 2, "CANCELED")]
    assert session_coverage(records, account="bot", duration_s=100.0).quoting_s == pytest.approx(10.0)


def test_an_order_still_resting_at_the_end_counts_until_the_session_ends() -> None:
    coverage = session_coverage([order(90, 1, "NEW")], account="bot", duration_s=100.0)
    assert coverage.quoting_s == pytest.approx(10.0)


def test_a_crash_is_fault_time_until_the_next_instance_starts() -> None:
    records = [fault(20, 0, "crash", "start"), fault(20, 0, "crash", "end"),
               {"t": 35 * S, "k": "bot.restart", "a": "bot"}]
    coverage = session_coverage(records, account="bot", duration_s=100.0)
    assert coverage.fault_s == pytest.approx(15.0)
    assert coverage.hit == ("crash",)


def test_an_order_level_fault_hits_only_with_a_fault_hit_on_the_bots_account() -> None:
    records = [
        fault(1, 0, "reject", "start"), fault(9, 0, "reject", "end", hits=3),  # hits counted, none on the bot
        {"t": 5 * S, "k": "fault_hit", "id": 0, "f": "reject", "e": "reject", "a": "other"},
        fault(1, 1, "outage", "start"), fault(9, 1, "outage", "end", hits=1),
        {"t": 5 * S, "k": "fault_hit", "id": 1, "f": "outage", "e": "http_503", "a": "bot"},
        fault(1, 2, "feed_gap", "start"), fault(9, 2, "feed_gap", "end", hits=4),  # a stream fault: its count
        fault(1, 3, "slicer", "start"), fault(9, 3, "slicer", "end", hits=0),
    ]
    assert session_coverage(records, account="bot", duration_s=10.0).hit == ("feed_gap", "outage")


def test_faults_covering_the_whole_session_leave_no_quoting_fraction() -> None:
    records = [fault(0, 0, "outage", "start")]  # never healed within the log: lasts to the end
    coverage = session_coverage(records, account="bot", duration_s=10.0)
    assert coverage.quoting_fraction is None
    assert median_quoting_fraction([coverage, Coverage(10.0, 0.0, 4.0), Coverage(10.0, 0.0, 8.0), None]) == \
        pytest.approx(0.6)


def test_the_log_reader_keeps_exactly_the_records_coverage_needs(tmp_path: Any) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text('{"t":0,"k":"book","s":"BTCUSDT","S":"BUY","p":1,"q":2,"u":1}\n'
                   '{"t":1,"k":"order","a":"bot","s":"BTCUSDT","id":7,"X":"NEW"}\n'
                   '{"t":2,"k":"bot.order_final","a":"bot","c":"mmb-1","X":"CANCELED"}\n'
                   '{"t":3,"k":"fault","id":0,"f":"crash","ph":"start"}\n')
    kinds = [r["k"] for r in read_coverage_records(log)]
    assert "order" in kinds and "fault" in kinds and "book" not in kinds


def result(seed: int, kinds: tuple[str, ...], hit: tuple[str, ...], fraction: float, ok: bool = True) -> SessionResult:
    schedule = tuple({"fault": k} for k in kinds)
    violations = () if ok else ({"invariant": "6.inventory", "t_s": 1.0, "orders": [], "detail": "x"},)
    return SessionResult(spec=SessionSpec(seed=seed, minutes=1.0), schedule=schedule, scenario_yaml="", digest="d",
                         violations=violations, coverage=Coverage(100.0, 0.0, 100.0 * fraction, hit),
                         fingerprint="f" * 64)


def test_the_swarm_table_counts_drawn_hit_and_broken_sessions_per_kind_and_flags_low_hit_rates() -> None:
    results = [result(0, ("reject", "latency"), ("reject",), 0.9), result(1, ("reject",), (), 0.5, ok=False),
               result(2, ("stp",), (), 0.8), result(3, ("stp",), (), 0.2)]
    rows = by_fault(results)
    assert (rows["reject"]["sessions"], rows["reject"]["hit"], rows["reject"]["failed"]) == (2, 1, 1)
    assert below_hit_target(rows) == ["stp"]  # reject: 1 of 2 meets 50 %; latency is not order-level
    assert "median session 65.0%" in coverage_line(results)
    payload = as_json(results, [], command="mmbot chaos", minutes=1.0, wall_s=1.0, fingerprint="f" * 64)
    assert payload["fingerprint"] == "f" * 64
    assert payload["coverage"]["median_quoting_fraction"] == pytest.approx(0.65)
    assert payload["results"][0]["coverage"]["hit"] == ["reject"]
