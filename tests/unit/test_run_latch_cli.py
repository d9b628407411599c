"""``mmbot run`` on a state file holding a latch: it refuses to start, naming the latch and the reset command, and
exits non-zero without a request to the venue; once reset, the same file no longer stops it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bot.live
from bot.app import HARD_LATCH_KEY
from bot.config import BotConfig
from bot.execution.state import StateStore
from mmbot.cli import app

runner = CliRunner()


@pytest.fixture
def no_venue(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Building the app (the first thing that talks to the venue) is recorded and fails the run instead."""
    calls: list[str] = []

    async def refuse(*args: object, **kwargs: object) -> None:
        calls.append("build")
        raise AssertionError("the venue was contacted")

    async def no_prices(config: BotConfig, venue: object) -> dict[str, Decimal]:
        return {s: Decimal(60000) for s in config.symbols}  # the venue's mids (no venue here): not a start

    monkeypatch.setattr(bot.live.AppContext, "build", refuse)
    monkeypatch.setattr(bot.live, "start_prices", no_prices)
    return calls


def latched(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "state.sqlite3"
    store = StateStore(path)
    store.set_meta(HARD_LATCH_KEY, text)
    store.close()
    return path


def run(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["run", "--venue", "local", "--port", "9", "--state", str(path),
                                 "--metrics-port", "0", "--minutes", "0.01"])
    return result.exit_code, result.output


def test_a_latched_state_file_refuses_the_run_with_the_latch_and_the_reset_command(
    tmp_path: Path, no_venue: list[str]
) -> None:
    path = latched(tmp_path, "inventory: INVENTORY")
    code, output = run(path)
    assert code != 0
    refusal = [line for line in output.splitlines() if "refusing to start" in line]
    assert len(refusal) == 1, output
    assert "inventory latch" in refusal[0]
    assert f"mmbot guards --state {path} --reset" in refusal[0]
    assert no_venue == []


def test_after_the_reset_the_same_file_starts(tmp_path: Path, no_venue: list[str]) -> None:
    path = latched(tmp_path, "kill_switch: KILL_SWITCH")
    assert runner.invoke(app, ["guards", "--state", str(path), "--reset"]).exit_code == 0
    _, output = run(path)
    assert "refusing to start" not in output
    assert no_venue == ["build"]  # it went on to start (and the fixture stopped it there)
