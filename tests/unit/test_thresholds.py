"""One source of thresholds: the net_bps gate, ``mmbot tools drift`` and the alerts read ``reports.baseline``;
baseline comparisons scale counts per hour and per symbol."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import yaml

from harness.tools.drift import detect_drift
from reports.baseline import (
    AUDIT_GATES,
    NET_BPS_FLOOR,
    Baseline,
    RegimeBaseline,
    check_gates,
    compare,
    count_scale,
    load_baseline,
    session_metrics,
)

ALERTS = Path(__file__).parents[2] / "docs" / "ops" / "alerts.yml"


def alert_threshold(name: str) -> float:
    rules = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    expr = next(r["expr"] for r in rules if r.get("alert") == name)
    match = re.search(r"[<>]=?\s*(-?[0-9.]+)", expr)
    assert match is not None, expr
    return float(match.group(1))


def test_the_net_bps_alert_fires_below_the_gate_floor() -> None:
    assert alert_threshold("MMBotNetBpsDegraded") == NET_BPS_FLOOR == AUDIT_GATES["net_bps_min"]


def test_the_slippage_and_latency_alerts_use_the_gate_limits() -> None:
    assert alert_threshold("MMBotTakerSlippageHigh") == AUDIT_GATES["slippage_bps_max"]
    assert alert_threshold("MMBotQuoteCycleLatencyP95High") == AUDIT_GATES["latency_p95_ms_max"]


def test_drift_floor_defaults_to_the_gate_floor() -> None:
    assert inspect.signature(detect_drift).parameters["floor_bps"].default == NET_BPS_FLOOR


def test_a_losing_session_fails_the_gate_in_every_regime_of_the_stored_baseline() -> None:
    baseline = load_baseline()
    assert baseline is not None
    losing = session_metrics({"net_bps": -0.1, "symbols": [], "latency": {}})
    for regime in baseline.regimes:
        gate = next(g for g in check_gates(losing, regime=regime, baseline=baseline) if g.name == "net_bps")
        assert not gate.passed and gate.limit >= NET_BPS_FLOOR, (regime, gate)


def baseline_of(metrics: dict[str, float], *, hours: float = 0.2, symbols: int = 1) -> Baseline:
    return Baseline(hours=hours, seeds=[1], symbols=["BTCUSDT", "ETHUSDT"][:symbols], mode="sim",
                    gates=dict(AUDIT_GATES), regimes={"calm": RegimeBaseline(metrics=metrics, net_bps_floor=0.0)})


def demo_metrics(scale: float) -> dict[str, Any]:
    return {"net_bps": 0.7, "slippage_bps": 0.0, "latency_p95_ms": 40.0, "maker_fills": 57.0 * scale,
            "taker_fills": 0.0, "orders_placed": 960.0 * scale, "guard_triggers": 0.0, "max_inventory_frac": 0.002}


def test_counts_of_a_longer_run_on_more_symbols_are_compared_per_symbol_hour() -> None:
    baseline = baseline_of(demo_metrics(1.0))
    run = demo_metrics(10.0)  # 1 h on two symbols: ten times the 0.2 h one-symbol baseline's counts
    drifts = {d.metric: d for d in compare(run, baseline, "calm", seed=7, hours=1.0, symbols=2)}
    assert [d for d in drifts.values() if d.flagged] == []
    assert drifts["maker_fills"].scale == count_scale(baseline, 1.0, 2) == 0.1
    assert drifts["maker_fills"].value == 57.0
    assert drifts["net_bps"].scale == 1.0  # a ratio is not scaled


def test_a_count_that_really_moved_per_symbol_hour_is_still_flagged() -> None:
    baseline = baseline_of(demo_metrics(1.0))
    run = demo_metrics(30.0)  # three times as many orders per symbol-hour
    flagged = {d.metric for d in compare(run, baseline, "calm", hours=1.0, symbols=2) if d.flagged}
    assert flagged == {"maker_fills", "orders_placed"}


def test_without_scaling_the_same_run_would_be_flagged() -> None:
    baseline = baseline_of(demo_metrics(1.0))
    flagged = {d.metric for d in compare(demo_metrics(10.0), baseline, "calm", hours=0.2, symbols=1) if d.flagged}
    assert flagged == {"maker_fills", "orders_placed"}
