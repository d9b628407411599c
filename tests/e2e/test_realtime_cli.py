"""``mmbot run`` refuses the real-money venue without the opt-in and a matching confirmation, and sends nothing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import bot.live_cli
from bot.config import load_config, parse_config
from bot.live_cli import REAL_MONEY_FLAG, confirmation_text
from bot.metrics.logs_events import EventWriter
from mmbot.cli import app

pytestmark = pytest.mark.e2e


@pytest.fixture
def no_connection(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any attempt to build a connector (the only way to reach a venue) is recorded and fails the command."""
    built: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        built.append(args)
        raise AssertionError("a connector was built")

    monkeypatch.setattr(bot.live_cli, "BinanceConnector", refuse)
    monkeypatch.setattr(bot.live_cli, "run_realtime", refuse)
    return built


def test_mainnet_without_the_opt_in_flag_is_refused_and_sends_nothing(no_connection: list[object]) -> None:
    result = CliRunner().invoke(app, ["run", "--venue", "binance", "--minutes", "1"])
    assert result.exit_code == 2
    assert REAL_MONEY_FLAG in result.output
    assert no_connection == []


def test_mainnet_with_a_confirmation_that_does_not_match_the_config_is_refused(no_connection: list[object]) -> None:
    result = CliRunner().invoke(app, ["run", "--venue", "binance", REAL_MONEY_FLAG,
                                      "--confirm", "BTCUSDT:max_inventory=999"])
    assert result.exit_code == 2
    assert confirmation_text(load_config(None)) in result.output
    assert no_connection == []


def test_testnet_without_credentials_is_refused_naming_the_variables(
    no_connection: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MMBOT_API_KEY", raising=False)
    monkeypatch.delenv("MMBOT_API_SECRET", raising=False)
    result = CliRunner().invoke(app, ["run", "--venue", "binance-testnet"])
    assert result.exit_code == 2
    assert "MMBOT_API_KEY" in result.output and "MMBOT_API_SECRET" in result.output
    assert no_connection == []


def test_confirmation_text_lists_every_symbol_with_its_hard_limit() -> None:
    assert confirmation_text(load_config(None)) == "BTCUSDT:max_notional=60000"
    pinned = parse_config({"version": 4, "symbols": ["BTCUSDT", "SOLUSDT"],
                           "risk": {"inventory": {"hard_max_base": {"SOLUSDT": "25.5"}}}})
    assert confirmation_text(pinned) == "BTCUSDT:max_notional=60000,SOLUSDT:max_inventory=25.5"


@pytest.mark.parametrize(("flags", "json_lines", "every_s"), [
    ([], False, 30.0), (["--log-json", "--status-every", "5"], True, 5.0), (["--status-every", "0"], False, None),
])
def test_run_passes_the_output_format_and_the_status_interval_to_the_runner(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], json_lines: bool, every_s: float | None
) -> None:
    seen: dict[str, object] = {}

    class Stop(Exception):
        pass

    async def fake_run(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(bot.live_cli, "run_realtime", fake_run)
    result = CliRunner().invoke(app, ["run", "--venue", "local", "--metrics-port", "0", *flags])
    assert isinstance(result.exception, Stop)  # the runner was reached with these arguments
    assert seen["log_json"] is json_lines
    events = seen["events"]
    assert isinstance(events, EventWriter) and events.json_lines is json_lines
    assert seen["status_every_s"] == every_s
