"""``mmbot regress --market replay:...``: the gates on a recording, keyed by its file name in the baseline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.config import load_config
from harness.lab import run_point
from harness.tools.regress import RegimeResult, run_regression
from mmbot.cli import app
from reports.baseline import DEFAULT_BASELINE_PATH, build_baseline, load_baseline, merge_baseline, regime_key
from tests.unit.test_replay_session import recordings_dir

MINUTE_H = 1 / 60
KEY = "replay:btcusdt_20240808.gz"


def spec() -> str:
    return f"replay:{recordings_dir() / 'btcusdt_20240808.gz'}"


def test_the_baseline_key_of_a_replay_is_its_file_names() -> None:
    assert regime_key("replay:/a/b/btcusdt_20240808.gz,../c/ethusdt_20240808.gz") == \
        "replay:btcusdt_20240808.gz,ethusdt_20240808.gz"
    assert regime_key("calm") == "calm"


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return load_config(None).model_dump(mode="json")


@pytest.fixture(scope="module")
def first(raw: dict[str, Any]) -> RegimeResult:
    (result,) = run_regression(run_point, raw, seeds=(1, 2), regimes=(spec(),), hours=MINUTE_H, workers=1)
    return result


def test_two_seeds_on_the_recording_are_gated_and_match_their_own_baseline(
        raw: dict[str, Any], first: RegimeResult) -> None:
    assert first.regime == KEY and set(first.summaries) == {1, 2}
    assert all(s["regime"] == "replay" and s["replay"]["symbols"] == ["BTCUSDT"] for s in first.summaries.values())
    assert all(s["maker_fills"] > 0 for s in first.summaries.values())
    assert {g.name for g in first.gates} == {"net_bps", "latency_p95_ms", "slippage_bps"}
    assert first.drifts == {1: [], 2: []} and not first.baseline_missing  # no baseline given: nothing compared
    baseline = build_baseline({KEY: [first.summaries[1], first.summaries[2]]}, hours=MINUTE_H, seeds=[1, 2],
                              symbols=["BTCUSDT"])
    (again,) = run_regression(run_point, raw, seeds=(1, 2), regimes=(spec(),), hours=MINUTE_H, workers=1,
                              baseline=baseline)
    assert not again.baseline_missing
    assert again.metrics == first.metrics  # deterministic: the same seeds replay to the same numbers
    assert again.drifts[1] and again.flagged == []


def test_update_baseline_adds_the_recording_to_the_existing_entries(first: RegimeResult) -> None:
    existing = load_baseline()
    assert existing is not None
    other = build_baseline({KEY: [first.summaries[1]]}, hours=MINUTE_H, seeds=[1], symbols=["BTCUSDT"])
    with pytest.raises(ValueError, match="same --seeds and --hours"):
        merge_baseline(existing, other)
    same = build_baseline({KEY: [first.summaries[1]]}, hours=existing.hours, seeds=existing.seeds,
                          symbols=["BTCUSDT"])
    merged = merge_baseline(existing, same)
    assert set(merged.regimes) == set(existing.regimes) | {KEY}
    assert merged.regimes["calm"] == existing.regimes["calm"] and merged.regimes[KEY] == same.regimes[KEY]


def test_a_baseline_without_the_recording_is_reported_not_a_crash(tmp_path: Path) -> None:
    stored = tmp_path / "baseline.json"
    stored.write_text(DEFAULT_BASELINE_PATH.read_text())
    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["regress", "--market", spec(), "--seeds", "1,2", "--hours", str(MINUTE_H),
                                      "--workers", "1", "--baseline", str(stored), "--json", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert f"{KEY}: no entry in the baseline" in " ".join(result.output.split())
    (row,) = json.loads(out.read_text())
    assert row["regime"] == KEY and row["baseline_missing"] is True and row["flagged"] == []
    gates_passed = all(g["passed"] for g in row["gates"])
    assert result.exit_code == (0 if gates_passed else 1)


def test_a_bad_market_is_one_line_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["regress", "--market", f"replay:{tmp_path / 'none.gz'}", "--workers", "1"])
    assert result.exit_code == 2 and "no such recording" in result.output
