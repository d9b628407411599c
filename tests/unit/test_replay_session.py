"""A bot session on a replayed recording: deterministic, bounded by the recording, reachable from the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.config import BotConfig, load_config, parse_config
from bot.core.errors import BotError
from chaos.runner import run_spec
from chaos.spec import SessionSpec
from exchange_sim.replay.source import load_replay
from harness.session import run_sim_session
from mmbot.cli import app


def recordings_dir() -> Path:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "binance-spot"
        if candidate.is_dir():
            return candidate
    pytest.skip("the recorded Binance data (../shared/data/binance-spot) is not available")


def config_for(symbols: tuple[str, ...]) -> BotConfig:
    base = load_config(None)
    return parse_config({**base.model_dump(mode="json"), "symbols": list(symbols)}, source="test")


def test_a_minute_of_the_btc_recording_replays_to_the_same_digest_twice() -> None:
    spec = f"replay:{recordings_dir() / 'btcusdt_20240808.gz'}"
    first = run_sim_session(config_for(("BTCUSDT",)), seed=7, hours=1 / 60, replay=load_replay(spec), timer=None)
    second = run_sim_session(config_for(("BTCUSDT",)), seed=7, hours=1 / 60, replay=load_replay(spec), timer=None)
    assert first.digest == second.digest
    assert first.regime == "replay"
    assert first.stop_verified
    assert first.maker_fills > 0
    assert first.symbols[0].venue_position_lots == first.symbols[0].final_inventory_lots
    assert first.extra["replay"]["symbols"] == ["BTCUSDT"]


def test_a_session_lasts_at_most_the_recording() -> None:
    replay = load_replay(f"replay:{recordings_dir() / 'ethusdt_20240808.gz'}")
    assert replay.duration_s < 400
    summary = run_sim_session(config_for(("ETHUSDT",)), seed=1, hours=10.0, replay=replay, timer=None,
                              sample_metrics=False)
    assert summary.hours == pytest.approx(replay.duration_s / 3600)


def test_a_symbol_missing_from_the_recording_is_a_config_error() -> None:
    replay = load_replay(f"replay:{recordings_dir() / 'ethusdt_20240808.gz'}")
    with pytest.raises(BotError, match=r"\['BTCUSDT'\] are not in the recording"):
        run_sim_session(config_for(("BTCUSDT",)), seed=1, hours=0.01, replay=replay)


def test_the_cli_rejects_a_market_that_is_not_a_replay_or_a_missing_file(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["sim", "--market", "binance:BTCUSDT"])
    assert result.exit_code == 2 and "expected replay:PATH" in result.output
    result = runner.invoke(app, ["sim", "--market", f"replay:{tmp_path / 'none.gz'}"])
    assert result.exit_code == 2 and "no such recording" in result.output
    result = runner.invoke(app, ["sim", "--market", f"replay:{tmp_path / 'none.gz'}", "--queue-model", "fifo"])
    assert result.exit_code == 2


def test_the_chaos_gate_runs_on_a_recording_with_feed_gaps_partitions_and_rejects() -> None:
    spec = SessionSpec(seed=0, minutes=0.5, kinds=("feed_gap", "partition", "reject", "latency"),
                       market=f"replay:{recordings_dir() / 'ethusdt_20240808.gz'}")
    first, second = run_spec(spec), run_spec(spec)
    assert first.ok, first.violations
    assert {"feed_gap", "partition", "reject"} <= set(first.kinds)
    assert first.reactions["book_gaps"] + first.reactions["book_resyncs"] > 0  # the replayed feed had gaps
    assert first.digest == second.digest


def test_a_replayed_sim_prints_its_markouts_without_a_log_or_run_dir() -> None:
    """The fill report (queue at entry, markouts) comes from the event log: a plain ``mmbot sim --market replay:``
    keeps one in a scratch directory, prints the report, and removes it."""
    path = recordings_dir() / "btcusdt_20240808.gz"
    result = CliRunner().invoke(app, ["sim", "--market", f"replay:{path}", "--hours", "0.0167"])
    assert result.exit_code == 0, result.output
    assert "markout 1 s" in result.output and "queue ahead at entry" in result.output
