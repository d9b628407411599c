"""A simulated session is judged against its own config, and the bot reports its books after every reconcile."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from bot.app import AppContext
from bot.config import BotConfig
from bot.execution.config import ExecutionConfig
from exchange_sim.eventlog import read_events
from harness.session import run_sim_session

pytestmark = pytest.mark.e2e


def _config() -> BotConfig:
    return BotConfig(symbols=("BTCUSDT",), execution=ExecutionConfig(state_path=":memory:", reconcile_interval_s=10.0))


def test_a_session_records_position_and_balances_after_every_reconcile_and_passes(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    summary = run_sim_session(_config(), seed=4, hours=2 / 60, check=True, timer=None, log_path=log)
    assert summary.violations == ()
    events = list(read_events(log))
    reconciled = [e for e in events if e["k"] == "bot.open_orders" and e["phase"] == "reconciled"]
    positions = [e for e in events if e["k"] == "bot.position" and not e["final"]]
    balances = [e for e in events if e["k"] == "bot.balances"]
    assert len(reconciled) >= 10  # at start, then every 10 s of two minutes
    assert [e["t"] for e in positions] == [e["t"] for e in reconciled] == [e["t"] for e in balances]
    assert all(set(e["atoms"]) >= {"BTC", "USDT"} for e in balances)


def test_a_hard_limit_the_bot_claims_is_checked_against_its_config(tmp_path: Path) -> None:
    """The bot's own record says 10x the configured limit: the checker judges by the config and says so."""
    real = AppContext.max_inventory_lots

    def generous(self: AppContext, symbol: str) -> int:
        return 10 * real(self, symbol)

    with mock.patch.object(AppContext, "max_inventory_lots", generous):
        summary = run_sim_session(_config(), seed=4, hours=1 / 60, check=True, timer=None)
    assert [v.invariant for v in summary.violations] == ["6.inventory_limit"]
    assert "the bot claims a hard limit of 1000000 lots, the config's is 100000" in summary.violations[0].detail
