"""The README's demo (two symbols, longer than the baseline's sessions) renders a report with no false drift badge,
a quoted spread that is never negative and reaches the end of the run, and says when no guard fired."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mmbot.cli import app
from reports.eventseries import derive_series, iter_events

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "run"
    result = CliRunner().invoke(app, ["sim", "--seed", "7", "--hours", "0.4", "--symbols", "BTCUSDT,ETHUSDT",
                                      "--run-dir", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_the_demo_report_has_no_false_beyond_tolerance_badge(demo: Path) -> None:
    html = (demo / "report.html").read_text()
    assert "beyond tolerance" not in html
    assert "per symbol-hour at the baseline" in html  # the counts were scaled, and the report says so


def test_the_demo_report_says_when_no_guard_fired(demo: Path) -> None:
    summary = json.loads((demo / "summary.json").read_text())
    html = (demo / "report.html").read_text()
    assert ('id="no-guard-events"' in html) == (not summary["guard_triggers"])


def test_the_quoted_spread_is_never_negative_and_covers_the_run(demo: Path) -> None:
    series = derive_series(iter_events(demo / "events.jsonl"), duration_s=0.4 * 3600, max_points=3000)
    for s in series.symbols.values():
        assert s.quoted_spread_bps and min(s.quoted_spread_bps) > 0
        assert s.quoted_spread_t[-1] > 0.4 * 3600 - 60


def test_tools_write_json_and_drift_does_not_alarm_on_the_profitable_demo(demo: Path, tmp_path: Path) -> None:
    for tool, key in (("drift", "alarms"), ("soak", "anomalies"), ("profile", "hot_spots")):
        out = tmp_path / f"{tool}.json"
        result = CliRunner().invoke(app, ["tools", tool, str(demo), "--json", str(out),
                                          *(["--window-s", "300"] if tool == "drift" else [])])
        assert result.exit_code == 0, result.output
        assert key in json.loads(out.read_text())
    drift = json.loads((tmp_path / "drift.json").read_text())
    assert drift["alarms"] == [] and len(drift["windows"]) == 5
