"""``mmbot market check``: the checklist in JSON or as a table, exit 1 on a failed judged item, and a clear
error for an unknown regime."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from exchange_sim.market.realism import checklist
from mmbot.cli import app

runner = CliRunner()


def test_json_output_carries_the_verdicts_and_the_figures_per_seed() -> None:
    result = runner.invoke(app, ["market", "check", "--regime", "flash-crash", "--seeds", "1", "--hours", "0.25",
                                 "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["regime"] == "flash_crash" and payload["seeds"] == [1]
    crash = {i["key"]: i for i in payload["items"] if i["item"] == 12}
    assert set(crash) == {"crash_drop_pct", "crash_recovered_share", "crash_depth_ratio"}
    assert all(i["judged"] and i["passed"] for i in crash.values())
    assert payload["per_seed"][0]["crash_drop_pct"] == crash["crash_drop_pct"]["value"]


def test_a_failed_judged_item_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    impossible = checklist.Item(12, "a drop of at least 90 %", "crash_drop_pct", 90.0, 100.0, ("flash_crash",))
    monkeypatch.setattr(checklist, "ITEMS", (impossible,))
    result = runner.invoke(app, ["market", "check", "--regime", "flash_crash", "--seeds", "1", "--hours", "0.25"])
    assert result.exit_code == 1
    assert "FAIL" in result.output


def test_an_unknown_regime_is_a_usage_error() -> None:
    result = runner.invoke(app, ["market", "check", "--regime", "sideways"])
    assert result.exit_code == 2
    assert "unknown regime" in result.output


def test_open_bands_are_null_in_json_and_shown_as_bounds_in_the_table() -> None:
    result = runner.invoke(app, ["market", "check", "--regime", "flash_crash", "--seeds", "1", "--hours", "0.25"])
    assert result.exit_code == 0, result.output
    assert ">= 2" in result.output  # the crash drop's open band
    payload = json.loads(runner.invoke(app, ["market", "check", "--regime", "flash_crash", "--seeds", "1",
                                             "--hours", "0.25", "--json"]).output)
    drop = next(i for i in payload["items"] if i["key"] == "crash_drop_pct")
    assert drop["low"] == 2.0 and drop["high"] is None
