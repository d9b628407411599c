"""The analysis tools on small hand-made inputs: soak anomalies, hot spots, edge drift, calibration, baseline."""

from __future__ import annotations

from typing import Any

from harness.tools.calibrate import grid_search, pooled_bps, successive_halving, with_params
from harness.tools.drift import detect_drift
from harness.tools.profile import hot_spots, profile_session
from harness.tools.soak import analyse_soak
from reports.baseline import NET_BPS_FLOOR, build_baseline, check_gates, compare, session_metrics
from reports.chaos import chaos_table

LATENCY = {"decision_us": {"count": 100.0, "mean": 30.0, "p50": 28.0, "p95": 40.0, "p99": 400.0, "max": 500.0},
           "ladder_us": {"count": 100.0, "mean": 18.0, "p50": 17.0, "p95": 24.0, "p99": 30.0, "max": 40.0},
           "band_us": {"count": 100.0, "mean": 1.0, "p50": 1.0, "p95": 1.0, "p99": 1.0, "max": 2.0},
           "rest_ms": {"count": 50.0, "mean": 30.0, "p50": 26.0, "p95": 250.0, "p99": 300.0, "max": 310.0}}


def summary(**over: Any) -> dict[str, Any]:
    base = {"seed": 1, "hours": 1.0, "regime": "calm", "net_bps": 3.0, "net_pnl_quote": 3.0, "maker_fills": 10,
            "taker_fills": 0, "orders_placed": 100, "guard_triggers": {}, "errors": {}, "stop_verified": True,
            "traded_notional_quote": 10_000.0, "latency": LATENCY,
            "symbols": [{"symbol": "BTCUSDT", "slippage_bps": 0.0, "max_abs_inventory_lots": 10,
                         "hard_limit_lots": 100, "final_inventory_lots": 0, "venue_position_lots": 0}]}
    return {**base, **over}


def book(t: int, bid: int, ask: int) -> list[dict[str, Any]]:
    return [{"t": t, "k": "book", "s": "BTCUSDT", "S": "BUY", "p": bid, "q": 10, "u": 1},
            {"t": t, "k": "book", "s": "BTCUSDT", "S": "SELL", "p": ask, "q": 10, "u": 2}]


def test_soak_flags_a_ledger_mismatch_and_a_quoting_gap() -> None:
    s = summary(symbols=[{"symbol": "BTCUSDT", "final_inventory_lots": 5, "venue_position_lots": 4}], hours=0.5)
    events = [{"t": 1_000_000, "k": "order", "a": "bot", "x": "NEW"}]  # only in the first window
    kinds = {a.kind for a in analyse_soak(s, events, window_s=600)}
    assert {"ledger_mismatch", "quoting_gap", "latency_gate"} <= kinds


def test_soak_of_a_clean_summary_without_events_is_quiet() -> None:
    clean = summary(latency={})
    assert analyse_soak(clean, None) == []


def test_hot_spots_rank_stages_by_cpu_share_and_flag_tails_and_io_budget() -> None:
    spots = hot_spots(LATENCY)
    assert spots[0].component == "ladder_us" and spots[0].share is not None and spots[0].share > 0.9
    decision = next(h for h in spots if h.component == "decision_us")
    assert any("tail" in f for f in decision.flags)
    assert any("200" in f for f in next(h for h in spots if h.component == "rest_ms").flags)


def test_profile_session_groups_own_time_by_package() -> None:
    packages = profile_session(lambda: sum(i * i for i in range(10_000)))
    assert packages and abs(sum(p.share for p in packages) - 1.0) < 1e-6


def test_drift_alarms_when_fills_start_losing() -> None:
    events: list[dict[str, Any]] = [*book(0, 12000, 12001)]
    t = 1_000_000
    for i in range(120):  # 20 fills per 600 s window for 2 h: earning first, losing after 1 h
        t = i * 60_000_000 + 1_000_000
        late = i >= 60
        bid, ask = (11990, 11991) if late and i % 2 else (12000, 12001)
        events += book(t - 1, bid, ask)
        side = "SELL" if i % 2 else "BUY"
        price = (12000 if side == "BUY" else 12001) if not late else (12001 if side == "BUY" else 11990)
        events.append({"t": t, "k": "trade", "s": "BTCUSDT", "id": i, "p": price, "q": 100, "S": side,
                       "mo": 1, "to": 2, "ma": "x", "ta": "bot", "mf": 0, "tf": 0})
    report = detect_drift(iter(events), duration_s=7200, window_s=600, min_fills=3, account="bot")
    assert report.reference_bps is not None and report.drifting


def test_pooled_bps_weights_by_notional() -> None:
    score, pnl, notional = pooled_bps([{"net_pnl_quote": 1.0, "traded_notional_quote": 10_000.0},
                                       {"net_pnl_quote": -1.0, "traded_notional_quote": 10.0}])
    assert pnl == 0.0 and notional == 10_010.0 and score == 0.0


def fake_runner(raw: Any, seed: int, regime: str, hours: float) -> dict[str, Any]:
    """Edge peaks at vol 1.2, liq 0.4; no noise."""
    a = raw["strategy"]["adaptive_spread"]
    edge = 3.0 - (a.get("vol_sensitivity", 0.6) - 1.2) ** 2 - (a.get("liq_sensitivity", 0.4) - 0.4) ** 2
    return {"net_pnl_quote": edge, "traded_notional_quote": 1e4, "net_bps": edge}


def test_grid_search_finds_the_peak_of_the_surface() -> None:
    surface = {"vol_sensitivity": (0.0, 0.6, 1.2, 2.4), "liq_sensitivity": (0.0, 0.4, 0.8, 1.6)}
    grid = grid_search(fake_runner, {"strategy": {}}, grid=surface, seeds=[1], regimes=["calm"], hours=0.1,
                       workers=1)
    assert grid[0].params == {"vol_sensitivity": 1.2, "liq_sensitivity": 0.4}


def test_successive_halving_narrows_to_one_candidate_on_more_seeds() -> None:
    rungs = successive_halving(fake_runner, {"strategy": {}}, seeds=[1, 2, 3], regimes=["calm"], hours=0.1, n=9,
                               workers=1)
    assert [len(r) for r in rungs] == [9, 3] and rungs[-1][0].sessions == 3
    assert rungs[-1][0].score_bps >= max(e.score_bps for e in rungs[0] if e is rungs[0][-1])


def test_with_params_leaves_the_base_untouched() -> None:
    base: dict[str, Any] = {"strategy": {"adaptive_spread": {"vol_sensitivity": 0.6}}}
    assert with_params(base, {"vol_sensitivity": 1.0})["strategy"]["adaptive_spread"]["vol_sensitivity"] == 1.0
    assert base["strategy"]["adaptive_spread"]["vol_sensitivity"] == 0.6


def test_a_regime_floor_is_the_reference_worst_minus_tolerance_never_below_the_loss_floor() -> None:
    good = build_baseline({"calm": [summary(net_bps=2.5), summary(seed=2, net_bps=3.5)]}, hours=1, seeds=[1, 2],
                          symbols=["BTCUSDT"])
    poor = build_baseline({"calm": [summary(net_bps=0.5), summary(seed=2, net_bps=1.0)]}, hours=1, seeds=[1, 2],
                          symbols=["BTCUSDT"])
    assert good.floor("calm") == 1.0 and poor.floor("calm") == NET_BPS_FLOOR == 0.0


def test_gates_fail_on_slippage_and_compare_flags_the_regressed_metric() -> None:
    baseline = build_baseline({"calm": [summary()]}, hours=1.0, seeds=[1], symbols=["BTCUSDT"])
    bad = summary(net_bps=0.0, symbols=[{"symbol": "BTCUSDT", "slippage_bps": 4.0}])
    metrics = session_metrics(bad)
    failed = {g.name for g in check_gates(metrics, regime="calm", baseline=baseline) if not g.passed}
    assert failed == {"net_bps", "slippage_bps", "latency_p95_ms"}
    drift = {d.metric: d.status for d in compare(metrics, baseline, "calm", seed=1, hours=1.0)}
    assert drift["net_bps"] == "regressed" and drift["slippage_bps"] == "regressed"


def test_chaos_table_reads_violations_and_results_shapes() -> None:
    flat = chaos_table({"violations": [{"seed": 3, "invariant": "2 fill-once", "schedule": "partition 10-20s"}]})
    nested = chaos_table({"results": [{"seed": 4, "ok": False, "replay": "r4",
                                       "violations": [{"invariant": "7 no-crossing"}]}, {"seed": 5, "ok": True}]})
    assert flat.rows[0].replay == "mmbot chaos --replay 3"
    assert nested.rows[0].invariant == "7 no-crossing" and nested.rows[0].replay == "r4"
    assert (nested.sessions, nested.passed) == (2, 1)
