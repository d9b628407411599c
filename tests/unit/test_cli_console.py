"""Command output in a CI log: tables are not cut at 80 columns when stdout is not a terminal."""

from __future__ import annotations

import io

import pytest
from rich.table import Table

from bot.core import console as console_module
from bot.core.console import LOG_WIDTH, cli_console


def _wide_table() -> Table:
    table = Table("fault kind", "drawn", "hit", "broke", "reconciles", "book_resyncs", "task_restarts")
    table.add_row("timeout_after_processing", "100", "54", "0", "1234", "56", "0")
    return table


def test_a_console_on_a_pipe_prints_full_width_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(console_module.sys, "stdout", io.StringIO())  # not a terminal
    console = cli_console()
    assert console.width == LOG_WIDTH
    with console.capture() as captured:
        console.print(_wide_table())
    assert "timeout_after_processing" in captured.get() and "…" not in captured.get()


def test_columns_in_the_environment_still_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setattr(console_module.sys, "stdout", io.StringIO())
    assert cli_console().width == 100
