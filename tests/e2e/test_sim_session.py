"""Simulated sessions of the whole bot: several symbols, every strategy kind, checked against the venue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.config import BotConfig
from bot.strategy.config import StrategyConfig
from exchange_sim.eventlog import read_events
from exchange_sim.market.config import MarketConfig
from harness.session import SessionSummary, run_sim_session
from mmbot.cli import app

pytestmark = pytest.mark.e2e

TWO = ("BTCUSDT", "ETHUSDT")


@pytest.fixture(scope="module")
def two_symbols() -> SessionSummary:
    config = BotConfig(symbols=TWO)
    return run_sim_session(config, seed=3, hours=0.25, market=MarketConfig(symbols=TWO, regime="calm"))


def test_session_quotes_and_trades_both_symbols(two_symbols: SessionSummary) -> None:
    assert [s.symbol for s in two_symbols.symbols] == list(TWO)
    for s in two_symbols.symbols:
        assert s.decisions > 100
        assert s.maker_fills > 0


def test_bot_position_equals_the_venue_ledger(two_symbols: SessionSummary) -> None:
    for s in two_symbols.symbols:
        assert s.final_inventory_lots == s.venue_position_lots


def test_inventory_never_exceeds_the_hard_limit(two_symbols: SessionSummary) -> None:
    for s in two_symbols.symbols:
        assert s.max_abs_inventory_lots <= s.hard_limit_lots


def test_session_ends_with_nothing_open_verified(two_symbols: SessionSummary) -> None:
    assert two_symbols.stop_verified


def test_summary_reports_per_component_latency(two_symbols: SessionSummary) -> None:
    for component in ("decision_us", "guards_us", "spread_us", "skew_us", "queue_us", "rest_ms", "ws_ms"):
        assert two_symbols.latency[component]["count"] > 0, component
    assert two_symbols.latency["rest_ms"]["p50"] > 0


def test_same_seed_same_event_log_digest() -> None:
    config = BotConfig(symbols=("BTCUSDT",))
    runs = [run_sim_session(config, seed=9, hours=0.05, timer=None) for _ in range(2)]
    assert runs[0].digest == runs[1].digest
    assert runs[0].net_pnl_quote == runs[1].net_pnl_quote


@pytest.mark.parametrize("kind", ["reference", "fixed_spread", "avellaneda_stoikov"])
def test_every_strategy_kind_trades_and_ends_flat_on_the_venue_books(kind: str) -> None:
    config = BotConfig(symbols=("BTCUSDT",), strategy=StrategyConfig(kind=kind))  # type: ignore[arg-type]
    summary = run_sim_session(config, seed=4, hours=0.1, market=MarketConfig(symbols=("BTCUSDT",)))
    assert summary.strategy == kind
    assert summary.maker_fills > 0
    (s,) = summary.symbols
    assert s.final_inventory_lots == s.venue_position_lots
    assert summary.stop_verified


def test_mmbot_sim_runs_with_no_arguments_but_a_short_session(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    result = CliRunner().invoke(app, ["sim", "--hours", "0.02", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("seed 7")
    assert "net_bps" in result.output and "latency by component" in result.output
    data = json.loads(out.read_text())
    assert data["seed"] == 7 and data["symbols"][0]["symbol"] == "BTCUSDT"


def test_mmbot_sim_names_a_bad_config_field(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("version: 3\nstrategy:\n  adaptive_spread:\n    min_spread_bps: -1\n")
    result = CliRunner().invoke(app, ["sim", "--hours", "0.01", "--config", str(bad)])
    assert result.exit_code == 2
    assert "strategy.adaptive_spread.min_spread_bps" in result.output


def test_metrics_are_sampled_on_the_virtual_clock_into_the_event_log(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    run_sim_session(BotConfig(symbols=("BTCUSDT",)), seed=5, hours=0.05, log_path=log, timer=None)
    samples = [e for e in read_events(log) if e.get("k") == "metrics"]
    assert len(samples) >= 3  # one per simulated minute and one after the stop
    text = json.dumps(samples[-1])
    for family in ("mmbot_inventory_lots", "mmbot_net_bps", "mmbot_risk_level"):
        assert family in text, family


def _bot_order_lifetimes_s(log_path: Path) -> list[float]:
    """How long each of the bot's orders rested on the venue (NEW to its terminal report), from the event log."""
    opened: dict[int, int] = {}
    lifetimes = []
    for event in read_events(log_path):
        if event["k"] != "order" or event["a"] != "bot":
            continue
        if event["x"] == "NEW":
            opened[event["id"]] = event["t"]
        elif event["X"] in ("FILLED", "CANCELED", "EXPIRED", "REJECTED") and event["id"] in opened:
            lifetimes.append((event["t"] - opened.pop(event["id"])) / 1e6)
    return lifetimes


def test_max_order_age_re_places_orders_even_at_their_desired_price(tmp_path: Path) -> None:
    def lifetimes(max_age_s: float) -> list[float]:
        strategy = StrategyConfig.model_validate({"ladder": {"max_order_age_s": max_age_s}})
        log_path = tmp_path / f"events-{max_age_s}.jsonl"
        run_sim_session(BotConfig(symbols=("BTCUSDT",), strategy=strategy), seed=5, hours=0.1, timer=None,
                        market=MarketConfig(symbols=("BTCUSDT",), regime="calm"), log_path=log_path)
        return _bot_order_lifetimes_s(log_path)

    assert max(lifetimes(1800.0)) > 10.0  # without an age limit to speak of, some quotes rest well past 10 s
    assert max(lifetimes(3.0)) < 3.0 + 1.0  # one decision (market changes arrive ~10x a second) + a round trip
