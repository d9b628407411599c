"""Ctrl-C in ``mmbot sim`` keeps the run: partial summary, run directory and report, exit 130; progress has an ETA."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli_support import plain_line
from mmbot.cli import app

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parents[2]


def test_ctrl_c_writes_the_partial_summary_and_report_and_exits_130(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "mmbot.cli", "sim", "--hours", "6", "--run-dir", str(run_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:  # wait until the session runs (its first progress line), then press Ctrl-C
        if line.startswith("simulating"):
            process.send_signal(signal.SIGINT)
            break
    output = process.stdout.read()
    assert process.wait(timeout=300) == 130, output
    summary = json.loads((run_dir / "summary.json").read_text())
    assert 0 < summary["hours"] < 6
    assert "interrupted: partial session of" in output
    assert "interrupt: stopping the orderly way" in output  # said at once, on stderr
    assert (run_dir / "report.html").is_file() and (run_dir / "events.jsonl").stat().st_size > 0
    assert summary["stop_verified"] is True  # stopped the orderly way: nothing left open


def test_progress_lines_in_a_log_show_percent_amount_and_eta() -> None:
    result = CliRunner().invoke(app, ["sim", "--hours", "0.05"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("simulating")]
    assert 1 <= len(lines) <= 10
    assert lines[-1].startswith("simulating 100% (0.05 of 0.05 h)") and "ETA" in lines[-1]


def test_plain_progress_line_estimates_the_remaining_time_from_the_rate_so_far() -> None:
    assert plain_line("regress", 3, 12, "sessions", 30.0) == "regress  25% (3 of 12 sessions), 30 s elapsed, ETA 90 s"
    assert plain_line("simulating", 0.0, 3600.0, "h", 1.0).endswith("ETA unknown")
