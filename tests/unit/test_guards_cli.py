"""``mmbot guards``: an operator sees and clears a HARD guard latched in a live bot's state file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from bot.app import HARD_LATCH_KEY
from bot.execution.state import StateStore
from mmbot.cli import app

runner = CliRunner()


def _latched_file(tmp_path: Path, reasons: str) -> Path:
    path = tmp_path / "state.sqlite3"
    store = StateStore(path)
    store.set_meta(HARD_LATCH_KEY, reasons)
    store.close()
    return path


def _latch(path: Path) -> str | None:
    store = StateStore(path)
    try:
        return store.get_meta(HARD_LATCH_KEY)
    finally:
        store.close()


def test_a_latched_guard_is_reported_and_kept_without_reset(tmp_path: Path) -> None:
    path = _latched_file(tmp_path, "KILL_SWITCH")
    result = runner.invoke(app, ["guards", "--state", str(path)])
    assert result.exit_code == 1
    assert "HARD latched (KILL_SWITCH)" in result.output
    assert _latch(path) == "KILL_SWITCH"


def test_reset_clears_the_latch_so_the_next_start_is_not_halted(tmp_path: Path) -> None:
    path = _latched_file(tmp_path, "DRAWDOWN")
    result = runner.invoke(app, ["guards", "--state", str(path), "--reset"])
    assert result.exit_code == 0, result.output
    assert "cleared" in result.output
    assert not _latch(path)
    again = runner.invoke(app, ["guards", "--state", str(path)])
    assert again.exit_code == 0
    assert "no HARD guard latched" in again.output


def test_a_missing_or_foreign_file_is_refused_and_never_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite3"
    result = runner.invoke(app, ["guards", "--state", str(missing), "--reset"])
    assert result.exit_code == 2
    assert not missing.exists()
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database, just some words " * 100)
    result = runner.invoke(app, ["guards", "--state", str(foreign), "--reset"])
    assert result.exit_code == 2
    assert "not an mmbot state file" in result.output
    assert foreign.read_text().startswith("not a database")


def test_another_sqlite_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (body TEXT)")
    db.commit()
    db.close()
    before = other.read_bytes()
    result = runner.invoke(app, ["guards", "--state", str(other), "--reset"])
    assert result.exit_code == 2
    assert "not an mmbot state file" in result.output
    assert other.read_bytes() == before
