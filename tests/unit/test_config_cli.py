"""``mmbot --version``, ``mmbot config show|validate|init`` and the ``--symbols`` override of ``mmbot run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import bot.live_cli
from bot.config import load_config
from bot.live_cli import REAL_MONEY_FLAG
from mmbot.cli import app

runner = CliRunner()


def test_version_prints_the_installed_version_and_exits_zero() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("mmbot 0.") and "Python 3." in result.output


def test_config_show_prints_the_effective_config_that_loads_back_equal(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "show", "--symbols", "ethusdt,SOLUSDT"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "shown.yaml"
    path.write_text(result.output)
    shown = load_config(path)
    assert shown.symbols == ("ETHUSDT", "SOLUSDT")
    assert shown.model_copy(update={"symbols": ("BTCUSDT",)}) == load_config(None)


def test_config_show_json_upgrades_a_version_1_file(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text("symbols: ETHUSDT\nmax_drawdown_usd: 80\n")
    result = runner.invoke(app, ["config", "show", "--config", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["version"] == 5 and data["symbols"] == ["ETHUSDT"]
    assert data["risk"]["drawdown"]["hard_quote"] == "80"


def test_config_validate_accepts_a_good_file_and_reports_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text("symbols: [ETHUSDT]\nmax_inventory: 2\n")
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: valid (version 5, symbols ETHUSDT" in result.output
    assert "upgraded:" in result.output and "risk.inventory.default_hard_max_base" in result.output


def test_config_validate_names_the_file_and_every_bad_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 3\nrisk:\n  drawdown: {hard_quote: -1}\nquoting: {cycle_interval_s: fast}\n")
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.startswith(f"error: {path}")
    assert "risk.drawdown.hard_quote" in line and "quoting.cycle_interval_s" in line


def test_config_validate_names_the_line_of_a_yaml_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 3\nsymbols: [BTCUSDT\n")
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}: YAML syntax error at line 3" in result.output


def test_config_init_writes_the_commented_defaults_and_keeps_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    result = runner.invoke(app, ["config", "init", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert text.count("#") > 50  # commented
    assert load_config(path) == load_config(None)
    path.write_text("version: 3\n")
    again = runner.invoke(app, ["config", "init", str(path)])
    assert again.exit_code == 2 and "--force" in again.output
    assert path.read_text() == "version: 3\n"
    forced = runner.invoke(app, ["config", "init", str(path), "--force"])
    assert forced.exit_code == 0 and yaml.safe_load(path.read_text())["symbols"] == ["BTCUSDT"]


def test_run_symbols_overrides_the_config_and_reaches_the_confirmation(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    monkeypatch.setattr(bot.live_cli, "BinanceConnector", lambda *a, **k: built.append(a))
    result = runner.invoke(app, ["run", "--venue", "binance", "--symbols", "ethusdt,solusdt", REAL_MONEY_FLAG,
                                 "--confirm", "BTCUSDT:max_notional=60000"])
    assert result.exit_code == 2
    assert "ETHUSDT:max_notional=60000,SOLUSDT:max_notional=60000" in result.output
    assert built == []


def test_run_symbols_with_a_malformed_symbol_names_the_option() -> None:
    result = runner.invoke(app, ["run", "--symbols", "BTC-USDT"])
    assert result.exit_code == 2
    assert "--symbols" in result.output and "BTC-USDT" in result.output


def test_config_show_prints_every_symbols_limits_in_both_units(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('version: 4\nsymbols: [BTCUSDT, SOLUSDT]\n'
                    'risk:\n  inventory:\n    hard_max_base: {SOLUSDT: "25"}\n'
                    '    price_at_start_quote: {BTCUSDT: "60000", SOLUSDT: "150"}\n')
    result = runner.invoke(app, ["config", "show", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert ("#   BTCUSDT: source=default_hard_max_quote, price_quote=60000, hard_base=1, soft_base=0.7, "
            "hard_quote=60000, soft_quote=42000") in result.output
    assert "#   SOLUSDT: source=hard_max_base, price_quote=150, hard_base=25, soft_base=17.5, hard_quote=3750" \
        in result.output
    shown = tmp_path / "shown.yaml"
    shown.write_text(result.output)
    assert load_config(shown) == load_config(path)  # the limits are comments: the YAML still loads back equal


def test_config_show_json_has_the_limits_beside_the_config(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "show", "--symbols", "ETHUSDT", "--json"])
    assert result.exit_code == 0, result.output
    limits = json.loads(result.output)["effective_inventory_limits"]
    assert limits == {"ETHUSDT": {"source": "default_hard_max_quote", "price_quote": "unknown",  # no price given:
                                  "hard_quote": "60000", "hard_base": "at the venue's price at start"}}  # the run's
