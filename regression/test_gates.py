"""The reference strategy passes the gates in every regime and matches the baseline; a degraded setup fails."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import load_config
from harness.lab import run_point
from harness.tools.regress import REGIMES, RegimeResult, degraded_config, degraded_strategy_config, run_regression
from reports.baseline import AUDIT_GATES, load_baseline

pytestmark = pytest.mark.regression

BASELINE = load_baseline()


def reference_raw() -> dict[str, Any]:
    return load_config(None).model_dump(mode="json")


# The gates judge the mean over the baseline's seeds, as `mmbot regress` does. One seed alone can lose where the
# mean passes: on the market of issue 19, flash_crash seed 1 (0.2 h) ends at -2.24 net bps while the three seeds'
# mean is +1.27 (and the degraded strategy's -11.15).
@pytest.fixture(scope="module")
def reference() -> list[RegimeResult]:
    assert BASELINE is not None, "reports/baseline.json is missing: run `mmbot regress --update-baseline`"
    return run_regression(run_point, reference_raw(), seeds=BASELINE.seeds, regimes=REGIMES,
                          hours=BASELINE.hours, baseline=BASELINE, workers=2)


def test_baseline_covers_every_regime() -> None:
    assert BASELINE is not None and set(REGIMES) <= set(BASELINE.regimes)  # plus any replay:<file> entries


@pytest.mark.parametrize("regime", REGIMES)
def test_reference_passes_every_gate(reference: list[RegimeResult], regime: str) -> None:
    (result,) = [r for r in reference if r.regime == regime]
    failed = [g for g in result.gates if not g.passed]
    assert not failed, failed


@pytest.mark.parametrize("regime", REGIMES)
def test_reference_matches_the_baseline_within_tolerance(reference: list[RegimeResult], regime: str) -> None:
    (result,) = [r for r in reference if r.regime == regime]
    assert result.flagged == []


def test_latency_and_slippage_gates_are_the_audit_limits() -> None:
    assert BASELINE is not None
    assert BASELINE.gates["latency_p95_ms_max"] == AUDIT_GATES["latency_p95_ms_max"] == 200.0
    assert BASELINE.gates["slippage_bps_max"] == AUDIT_GATES["slippage_bps_max"] == 2.5


def test_degraded_setup_fails_the_net_bps_gate_on_calm() -> None:
    assert BASELINE is not None
    (result,) = run_regression(run_point, degraded_config(reference_raw()), seeds=BASELINE.seeds,
                               regimes=("calm",), hours=BASELINE.hours, baseline=BASELINE, workers=1)
    gate = next(g for g in result.gates if g.name == "net_bps")
    assert not gate.passed, gate
    assert any(d.metric == "net_bps" and d.status == "regressed" for _, d in result.flagged)


def test_a_strategy_without_its_risk_shaping_fails_the_gate_in_a_flash_crash() -> None:
    """A purely strategic degradation (no fee change): the gate fails it where the reference passes."""
    assert BASELINE is not None
    (result,) = run_regression(run_point, degraded_strategy_config(reference_raw()), seeds=BASELINE.seeds,
                               regimes=("flash_crash",), hours=BASELINE.hours, baseline=BASELINE, workers=1)
    gate = next(g for g in result.gates if g.name == "net_bps")
    assert not gate.passed, gate
