"""Every file under ``examples/`` works as the README says: configs validate and run, the scenario replays, the
accounts file serves. A new example without a runner here fails ``test_every_example_has_a_runner``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange_sim.server.app import create_app
from exchange_sim.server.cli import server_config
from mmbot.cli import app

pytestmark = pytest.mark.e2e
EXAMPLES = Path(__file__).parents[2] / "examples"
CONFIGS = ("config-two-symbols.yaml", "config-testnet.yaml")
RUNNERS = {*CONFIGS, "faults.yaml", "accounts.yaml", "README.md"}
runner = CliRunner()


def test_every_example_has_a_runner() -> None:
    assert {p.name for p in EXAMPLES.iterdir()} == RUNNERS


@pytest.mark.parametrize("name", CONFIGS)
def test_example_config_validates_and_runs_a_short_session(name: str, tmp_path: Path) -> None:
    path = EXAMPLES / name
    checked = runner.invoke(app, ["config", "validate", str(path)])
    assert checked.exit_code == 0 and "valid" in checked.output, checked.output
    result = runner.invoke(app, ["sim", "--config", str(path), "--hours", "0.03", "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["stop_verified"] is True
    assert summary["orders_placed"] > 0


def test_example_scenario_replays_without_a_violation(tmp_path: Path) -> None:
    out = tmp_path / "replay.json"
    result = runner.invoke(app, ["chaos", "replay", "--seed", "7", "--minutes", "5", "--scenario",
                                 str(EXAMPLES / "faults.yaml"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    replay = json.loads(out.read_text())
    assert replay["ok"] is True and replay["violations"] == []
    for kind in ("partition", "latency", "rate_limit", "feed_gap"):  # the schedule it ran is the file's
        assert f'"fault": "{kind}"' in result.output


def test_example_scenario_and_accounts_build_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALICE_API_KEY", "alice-key")
    monkeypatch.setenv("ALICE_API_SECRET", "alice-secret")
    config = server_config(0, 7, EXAMPLES / "faults.yaml", ["BTCUSDT", "ETHUSDT"], None, EXAMPLES / "accounts.yaml")
    assert [a.name for a in config.accounts] == ["demo", "alice", "bob"]
    assert [f.kind.value for f in config.scenario.faults] == ["partition", "latency", "rate_limit", "feed_gap"]
    assert create_app(config) is not None
