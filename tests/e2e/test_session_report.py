"""The session report from a real short run: every summary number in the HTML equals the summary's, and the file
opens in headless Chromium with every chart drawn and no script error."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mmbot.cli import app
from reports.rundir import RunDir
from reports.session_report import render_session_report

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("run") / "r"
    result = CliRunner().invoke(app, ["sim", "--hours", "0.05", "--seed", "5", "--run-dir", str(path)])
    assert result.exit_code == 0, result.output
    (path / "chaos.json").write_text(json.dumps({"command": "mmbot chaos --seeds 3", "sessions": 3, "passed": 2,
                                                 "violations": [{"seed": 42, "invariant": "6 inventory-limit",
                                                                 "t_s": 12.5,
                                                                 "schedule": [{"fault": "partition", "start": 10,
                                                                               "duration": 5}],
                                                                 "detail": "over by 3 lots"}]}))
    render_session_report(path)
    return path


def cell_values(text: str) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in re.findall(r'data-key="([^"]+)" data-value="([^"]*)"', text)}


def test_sim_run_dir_holds_the_layout(run_dir: Path) -> None:
    for name in ("summary.json", "events.jsonl", "config.yaml", "report.html"):
        assert (run_dir / name).is_file(), name


def test_every_summary_number_in_the_html_equals_the_summary(run_dir: Path) -> None:
    summary = RunDir.open(run_dir).load_summary()
    cells = cell_values((run_dir / "report.html").read_text())
    for key in ("seed", "net_pnl_quote", "net_bps", "traded_notional_quote", "maker_fills", "taker_fills",
                "orders_placed", "digest"):
        assert cells[key] == repr(summary[key]), key
    for s in summary["symbols"]:
        for key in ("net_bps", "slippage_bps", "max_abs_inventory_lots", "net_pnl_quote"):
            assert cells[f"{s['symbol']}.{key}"] == str(s[key]), key
    for name, q in summary["latency"].items():
        assert cells[f"latency.{name}.p95"] == str(q["p95"])


def test_shown_text_is_the_summary_formatted(run_dir: Path) -> None:
    summary = RunDir.open(run_dir).load_summary()
    text = (run_dir / "report.html").read_text()
    assert f'data-value="{summary["net_bps"]!r}">{summary["net_bps"]:.4f}<' in text
    embedded = re.search(r'<script type="application/json" id="summary-json">(.*?)</script>', text, re.S)
    assert embedded is not None and json.loads(embedded.group(1)) == summary


def test_report_is_self_contained(run_dir: Path) -> None:
    text = (run_dir / "report.html").read_text()
    assert re.search(r"<script[^>]+src=", text) is None and re.search(r"<link[^>]+href=", text) is None


def test_pnl_curve_from_the_event_log_ends_at_the_summary_pnl(run_dir: Path) -> None:
    from reports.eventseries import derive_series, iter_events  # noqa: PLC0415

    summary = RunDir.open(run_dir).load_summary()
    series = derive_series(iter_events(run_dir / "events.jsonl"), account="bot")
    for s in summary["symbols"]:
        end = series.symbols[s["symbol"]].pnl[-1]
        assert end == pytest.approx(s["net_pnl_quote"], abs=0.05 + 1e-3 * abs(s["net_pnl_quote"]))
        assert len(series.symbols[s["symbol"]].fills) == s["maker_fills"] + s["taker_fills"]


def test_report_shows_chaos_rows_with_replay_commands(run_dir: Path) -> None:
    text = (run_dir / "report.html").read_text()
    assert "mmbot chaos --replay 42" in text and "partition@10s+5s" in text and "6 inventory-limit" in text


def test_report_shows_config_and_seed(run_dir: Path) -> None:
    text = (run_dir / "report.html").read_text()
    assert 'id="config"' in text and "adaptive_spread" in text and 'seed <strong id="seed">5</strong>' in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_report_draws_every_chart_in_headless_chromium_without_errors(run_dir: Path) -> None:
    dom = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000", "--dump-dom",
         (run_dir / "report.html").as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    charts = re.search(r'data-charts="(\d+)"', dom)
    drawn = re.search(r'data-charts-drawn="(\d+)"', dom)
    assert charts is not None and drawn is not None, "the load handler did not run"
    assert int(charts.group(1)) >= 5 and drawn.group(1) == charts.group(1)
    errors = re.search(r'<pre id="js-errors">(.*?)</pre>', dom, re.S)
    assert errors is not None and errors.group(1).strip() == ""


def test_mmbot_report_writes_to_the_output_path(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(run_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1_000_000  # plotly inlined


def test_mmbot_report_names_a_missing_run_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "not a run directory" in " ".join(result.output.split())
