"""A user's mistakes at the command line end in one line naming the file, field or port, exit 2, no traceback."""

from __future__ import annotations

import inspect
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import bot.live_cli
from bot.core.errors import BotError, ErrorCode
from bot.metrics.http import MetricsServerConfig
from mmbot.cli import app, main

runner = CliRunner()
BAD_YAML = "faults:\n  - kind: partition\n   bad: [\n"


def one_line_error(result: Result) -> str:
    """The error line of a failed command; asserts there is exactly one and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    errors = [line for line in result.output.splitlines() if line.startswith(("error:", "refused:"))]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 something already listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_serve_with_a_missing_scenario_file_names_the_file(tmp_path: Path) -> None:
    line = one_line_error(runner.invoke(app, ["exchange", "serve", "--scenario", str(tmp_path / "nope.yaml")]))
    assert "nope.yaml: cannot be read" in line


def test_serve_with_malformed_scenario_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_YAML)
    line = one_line_error(runner.invoke(app, ["exchange", "serve", "--scenario", str(path)]))
    assert f"{path}: not valid YAML at line 3, column 4" in line


def test_serve_with_a_scenario_naming_an_unknown_fault_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("faults:\n  - {fault: meteor, target: rest, start: 1, duration: 2}\n")
    line = one_line_error(runner.invoke(app, ["exchange", "serve", "--scenario", str(path)]))
    assert "odd.yaml" in line and "meteor" in line


def test_serve_with_an_unknown_symbol_names_it() -> None:
    line = one_line_error(runner.invoke(app, ["exchange", "serve", "--symbols", "BTCUSDT,DOGEUSDT"]))
    assert "--symbols" in line and "DOGEUSDT" in line and "BTCUSDT" not in line.split(";")[0].replace("--symbols", "")


def test_serve_on_a_busy_port_names_the_port(busy_port: int) -> None:
    line = one_line_error(runner.invoke(app, ["exchange", "serve", "--port", str(busy_port)]))
    assert f"127.0.0.1:{busy_port} is already in use" in line


def test_chaos_replay_with_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "shrunk.yaml"
    path.write_text(BAD_YAML)
    line = one_line_error(runner.invoke(app, ["chaos", "replay", "--seed", "1", "--scenario", str(path)]))
    assert f"{path}: not valid YAML at line 3" in line


def test_run_on_a_busy_metrics_port_is_refused_before_connecting(busy_port: int,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    monkeypatch.setattr(bot.live_cli, "BinanceConnector", lambda *a, **k: built.append(a))
    line = one_line_error(runner.invoke(app, ["run", "--metrics-port", str(busy_port), "--minutes", "1"]))
    assert f"--metrics-port {busy_port}" in line and "in use" in line
    assert built == []


def test_the_metrics_port_of_run_is_the_one_the_ops_docs_scrape() -> None:
    default = MetricsServerConfig().port
    assert inspect.signature(bot.live_cli.run).parameters["metrics_port"].default == default
    ops = (Path(__file__).parents[2] / "docs" / "ops" / "README.md").read_text()
    assert f"127.0.0.1:{default}" in ops


def test_sim_with_an_unknown_symbol_names_it() -> None:
    line = one_line_error(runner.invoke(app, ["sim", "--symbols", "FOOUSDT", "--hours", "0.01"]))
    assert "FOOUSDT" in line


def test_sim_with_a_missing_config_names_the_file(tmp_path: Path) -> None:
    line = one_line_error(runner.invoke(app, ["sim", "--config", str(tmp_path / "none.yaml"), "--hours", "0.01"]))
    assert "none.yaml: cannot be read" in line


def test_main_turns_an_unhandled_user_error_into_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise BotError(ErrorCode.CONFIG_INVALID, "x.yaml: risk.drawdown.hard_quote: must be > 0")

    monkeypatch.setattr("mmbot.cli.simulate_market", broken)
    with pytest.raises(SystemExit) as exit_info:
        main(["exchange", "simulate", "--hours", "0.01"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: x.yaml: risk.drawdown.hard_quote: must be > 0"


def test_report_with_a_baseline_that_is_not_json_names_the_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text("{}")
    baseline = tmp_path / "baseline.json"
    baseline.write_text("version: 1\n")
    line = one_line_error(runner.invoke(app, ["report", str(run), "--baseline", str(baseline)]))
    assert f"{baseline}: not a readable baseline JSON file" in line


@pytest.mark.parametrize(("args", "expected"), [
    (["regress", "--regimes", "calm,sideways"], "--regimes: unknown regime(s) sideways"),
    (["regress", "--seeds", "1,x"], "--seeds: comma-separated integers expected"),
    (["calibrate", "--holdout-seeds", ""], "--holdout-seeds: at least one seed"),
    (["calibrate", "--method", "random"], "--method: grid, halving or both"),
    (["regress", "--config", "/nonexistent/c.yaml"], "/nonexistent/c.yaml: cannot be read"),
])
def test_analysis_commands_name_a_bad_option(args: list[str], expected: str) -> None:
    assert expected in one_line_error(runner.invoke(app, args))
