"""The ``mmbot exchange simulate`` command: seed first, a summary, clear errors for bad options."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mmbot.cli import app

runner = CliRunner()


def test_simulate_prints_the_seed_first_and_writes_json_and_report(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["exchange", "simulate", "--seed", "3", "--hours", "0.05", "--json", str(tmp_path / "s.json"),
         "--report", str(tmp_path / "r.html")],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "seed 3"
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["book_events"] > 0
    html = (tmp_path / "r.html").read_text()
    assert summary["digest"] in html
    assert f"{summary['book_events']:,}" in html  # the report shows the same numbers as the summary


def test_unknown_regime_is_a_clear_error() -> None:
    result = runner.invoke(app, ["exchange", "simulate", "--regime", "sideways"])
    assert result.exit_code == 2
    assert "unknown regime 'sideways'" in result.output


def test_unknown_symbol_is_a_clear_error() -> None:
    result = runner.invoke(app, ["exchange", "simulate", "--symbols", "BTCUSDT,DOGEUSDT"])
    assert result.exit_code == 2
    assert "DOGEUSDT" in result.output
