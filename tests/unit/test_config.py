"""config.yaml: the bundled default, upgrades from version 1, round trips, and errors that name the field."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import (
    CURRENT_VERSION,
    LEGACY_LOT_FILTERS,
    MIGRATIONS,
    BotConfig,
    VenueConfig,
    dump_config,
    load_config,
    migrate,
    parse_config,
)
from bot.core.errors import BotError, ErrorCode
from bot.execution.config import ExecutionConfig
from bot.risk.config import DrawdownLimits, InventoryLimits, RiskConfig, TakerCapConfig
from bot.strategy.config import STAGE_NAMES, AdaptiveSpreadConfig, LadderConfig, SizeConfig, StrategyConfig
from exchange_sim.market.symbols import symbol_catalogue
from harness.sim_account import priced_for_sim

V1_FILE = """\
# config.yaml of the earlier bot (version 1: flat, no version key)
symbols: [BTCUSDT, ETHUSDT]
exchange: binance_testnet
client_order_prefix: mm1
state_file: /var/lib/mmbot/state.sqlite3
request_timeout_s: 3
max_inventory: 0.25
max_drawdown_usd: 150
max_order_notional_usd: 800
taker_cap_per_hour: 50
order_refresh_s: 1.5
order_size_usd: 50
base_spread_bps: 1.2
min_spread_bps: 0.6
max_spread_bps: 2.5
vol_sensitivity: 0.6
liq_sensitivity: 0.4
enable_adaptive_spread: true
enable_inventory_skew: true
enable_queue_aware: false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(BotError) as raised:
        load_config(write(tmp_path, text))
    assert raised.value.code is ErrorCode.CONFIG_INVALID
    return raised.value.message


def keys(tree: Any, prefix: str = "") -> set[str]:
    if not isinstance(tree, dict) or not tree:
        return {prefix}
    return set().union(*(keys(value, f"{prefix}.{key}".lstrip(".")) for key, value in tree.items()))


# -- the bundled default --
def test_bundled_default_loads_and_equals_the_model_defaults() -> None:
    assert load_config() == BotConfig()
    assert load_config().version == CURRENT_VERSION


def test_bundled_default_is_complete_and_current() -> None:
    text = resources.files("bot").joinpath("default_config.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    assert raw["version"] == CURRENT_VERSION
    missing = keys(BotConfig().model_dump()) - keys(raw)
    assert not missing, f"add these fields to bot/default_config.yaml: {sorted(missing)}"


# -- version 1 -> 2 -> 3 --
def test_v1_file_is_upgraded_to_exact_values(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, V1_FILE))
    assert config == BotConfig(
        symbols=("BTCUSDT", "ETHUSDT"),
        execution=ExecutionConfig(
            client_id_prefix="mm1", state_path="/var/lib/mmbot/state.sqlite3", request_timeout_s=3.0
        ),
        risk=RiskConfig(
            inventory=InventoryLimits(default_hard_max_base=Decimal("0.25")),
            drawdown=DrawdownLimits(soft_quote=Decimal("75"), hard_quote=Decimal("150")),
            taker_cap=TakerCapConfig(calm_per_hour=50, moderate_per_hour=50, volatile_per_hour=50),
            pretrade=RiskConfig().pretrade.model_copy(update={"max_order_notional_quote": Decimal("800")}),
        ),
        strategy=StrategyConfig(
            stages=tuple(s for s in STAGE_NAMES if s != "queue_aware"),
            adaptive_spread=AdaptiveSpreadConfig(
                base_spread_bps=1.2, min_spread_bps=0.6, max_spread_bps=2.5, vol_sensitivity=0.6, liq_sensitivity=0.4
            ),
            ladder=LadderConfig(max_order_age_s=1.5),
            sizes=SizeConfig(order_quote=Decimal(50)),  # order_size_usd: 50
        ),
    )


def test_v1_migration_produces_the_nested_mapping() -> None:
    upgraded, _ = migrate(yaml.safe_load(V1_FILE))
    assert upgraded == {
        "version": 5,
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "venue": {},
        "execution": {"client_id_prefix": "mm1", "state_path": "/var/lib/mmbot/state.sqlite3", "request_timeout_s": 3},
        "risk": {
            "inventory": {"default_hard_max_base": 0.25},
            "drawdown": {"hard_quote": 150, "soft_quote": 75},
            "pretrade": {"max_order_notional_quote": 800},
            "taker_cap": {"calm_per_hour": 50, "moderate_per_hour": 50, "volatile_per_hour": 50},
        },
        "strategy": {
            "adaptive_spread": {
                "base_spread_bps": 1.2, "min_spread_bps": 0.6, "max_spread_bps": 2.5, "vol_sensitivity": 0.6,
                "liq_sensitivity": 0.4,
            },
            "ladder": {"max_order_age_s": 1.5},
            "stages": [s for s in STAGE_NAMES if s != "queue_aware"],
            "sizes": {"order_quote": 50},
        },
    }


def test_v1_migration_notes_the_taker_cap_split_and_the_soft_drawdown() -> None:
    _, notes = migrate(yaml.safe_load(V1_FILE))
    assert any("taker_cap_per_hour=50 was a fixed cap" in n and "all set to 50" in n for n in notes)
    assert any("risk.drawdown.soft_quote=75 (half)" in n for n in notes)
    assert all(n.startswith(("v1->v2: ", "v2->v3: ", "v3->v4: ", "v4->v5: ")) for n in notes)


def test_v1_strategy_keys_map_to_the_strategy_section_with_notes() -> None:
    _, notes = migrate(yaml.safe_load(V1_FILE))
    v3 = [n.removeprefix("v2->v3: ") for n in notes if n.startswith("v2->v3: ")]
    assert v3 == [
        "base_spread_bps=1.2 -> strategy.adaptive_spread.base_spread_bps",
        "min_spread_bps=0.6 -> strategy.adaptive_spread.min_spread_bps",
        "max_spread_bps=2.5 -> strategy.adaptive_spread.max_spread_bps",
        "vol_sensitivity=0.6 -> strategy.adaptive_spread.vol_sensitivity",
        "liq_sensitivity=0.4 -> strategy.adaptive_spread.liq_sensitivity",
        "order_refresh_s=1.5 -> strategy.ladder.max_order_age_s",
        "enable_adaptive_spread=True -> adaptive_spread kept in strategy.stages",
        "enable_inventory_skew=True -> inventory_skew kept in strategy.stages",
        "enable_queue_aware=False -> queue_aware left out of strategy.stages",
        "order_size_usd=50: no notional size in version 3, carried to version 5 (strategy.sizes.order_quote)",
    ]
    assert "v4->v5: order_size_usd=50 -> strategy.sizes.order_quote (notional, converted per symbol at start)" in notes


def test_v1_file_upgrades_to_a_valid_strategy(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, V1_FILE))
    assert "queue_aware" not in config.strategy.stages
    assert config.strategy.adaptive_spread.base_spread_bps == 1.2
    assert config.strategy.ladder.max_order_age_s == 1.5


def test_v2_file_upgrades_with_default_strategy_and_its_old_inventory_limit() -> None:
    raw = {"version": 2, "symbols": ["ETHUSDT"]}
    upgraded, notes = migrate(raw)
    assert upgraded == {"version": 5, "symbols": ["ETHUSDT"], "risk": {"inventory": {"default_hard_max_base": 1}},
                        "strategy": {"sizes": {"order_base": {"ETHUSDT": "0.01"}},  # its 100 lots, in ETH
                                     "adaptive_spread": {"liq_full_depth_quote": 15000}}}  # its 50,000 lots
    assert len(notes) == 3 and notes[0].startswith("v3->v4: risk.inventory.default_hard_max_base=1 ")
    assert notes[1].startswith("v4->v5: order size 100 lots (strategy.ladder.level_size_lots) -> "
                               "strategy.sizes.order_base {'ETHUSDT': '0.01'}")
    assert notes[2] == ("v4->v5: the thin-book depth (version 4: 50000 lots for every symbol) -> liq_full_depth_quote"
                        "=15000, a notional (ETHUSDT's 50000 lots)")


def test_v3_venue_kind_host_and_port_are_dropped_with_a_note_naming_the_flag() -> None:
    raw = {"version": 3, "venue": {"kind": "local", "host": "127.0.0.1", "port": 9000, "account": "alice"}}
    upgraded, notes = migrate(raw)
    assert upgraded == {"version": 5, "venue": {"account": "alice"},
                        "risk": {"inventory": {"default_hard_max_base": 1}},
                        "strategy": {"sizes": {"order_base": {"BTCUSDT": "0.001"}}}}
    assert notes[:3] == [
        "v3->v4: venue.kind='local' removed: where the bot trades is chosen by the command: mmbot sim, or mmbot "
        "run --venue",
        "v3->v4: venue.host='127.0.0.1' removed: mmbot run --venue local always talks to 127.0.0.1",
        "v3->v4: venue.port=9000 removed: mmbot run --venue local --port",
    ]
    assert notes[3].startswith("v3->v4: risk.inventory.default_hard_max_base=1 ")


def test_v1_exchange_key_is_carried_to_v3_and_noted_when_v4_drops_it() -> None:
    upgraded, notes = migrate({"exchange": "binance_testnet"})
    assert upgraded["venue"] == {}
    assert "v1->v2: exchange='binance-testnet' -> venue.kind" in notes
    assert any(n.startswith("v3->v4: venue.kind='binance-testnet' removed") for n in notes)


def test_v1_comma_separated_symbols_become_a_list() -> None:
    upgraded, notes = migrate({"symbols": "BTCUSDT, ETHUSDT"})
    assert upgraded["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert any("comma-separated" in n for n in notes)


def test_empty_v1_mapping_upgrades_to_the_defaults_with_the_old_inventory_limit_and_size() -> None:
    old_limit = RiskConfig(inventory=InventoryLimits(default_hard_max_base=Decimal(1)))
    old_size = StrategyConfig(sizes=SizeConfig(order_base={"BTCUSDT": Decimal("0.001")}))
    assert parse_config({}) == BotConfig(risk=old_limit, strategy=old_size)


def test_migrate_does_not_change_its_input() -> None:
    raw = yaml.safe_load(V1_FILE)
    before = yaml.safe_load(V1_FILE)
    migrate(raw)
    assert raw == before


def test_current_version_mapping_is_unchanged_without_notes() -> None:
    raw = {"version": 5, "symbols": ["ETHUSDT"], "risk": {"taker_cap": {"calm_per_hour": 10}}}
    assert migrate(raw) == (raw, [])


def test_every_older_version_has_a_migration() -> None:
    assert sorted(MIGRATIONS) == list(range(1, CURRENT_VERSION))


def test_unknown_v1_key_is_rejected_by_name(tmp_path: Path) -> None:
    message = config_error(tmp_path, V1_FILE + "max_inventroy: 3\n")
    assert "max_inventroy: unknown key (value 3)" in message
    assert "after upgrading from version 1" in message


def test_unversioned_file_with_nested_sections_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "risk:\n  drawdown:\n    hard_quote: 5\n")
    assert "version-2 keys ['risk']" in message
    assert f"add 'version: {CURRENT_VERSION}'" in message


def test_bad_v1_drawdown_names_the_v1_key(tmp_path: Path) -> None:
    assert "max_drawdown_usd: must be a number, got 'lots'" in config_error(tmp_path, "max_drawdown_usd: lots\n")


# -- round trip --
def test_dump_then_load_gives_an_equal_config(tmp_path: Path) -> None:
    config = BotConfig(
        bot_id="eth-maker", symbols=("ETHUSDT", "BTCUSDT"), venue=VenueConfig(account="eth-maker"),
        execution=ExecutionConfig(client_id_prefix="eth", max_in_flight=8),
        risk=RiskConfig(
            inventory=InventoryLimits(hard_max_base={"ETHUSDT": Decimal("2.5")}, default_hard_max_base=Decimal("0.1")),
            drawdown=DrawdownLimits(soft_quote=Decimal("12.34"), hard_quote=Decimal("56.78")),
        ),
    )
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_config(config), encoding="utf-8")
    assert load_config(path) == config


def test_dump_of_the_default_reads_back_equal(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, dump_config(BotConfig()))) == BotConfig()


# -- errors name the field and the value --
def test_invalid_value_names_field_path_and_value(tmp_path: Path) -> None:
    message = config_error(tmp_path, """\
        version: 2
        risk:
          taker_cap:
            calm_per_hour: -5
        """)
    assert "risk.taker_cap.calm_per_hour" in message
    assert "(got -5)" in message
    assert "config.yaml" in message


def test_wrong_type_names_field_path_and_value(tmp_path: Path) -> None:
    message = config_error(tmp_path, "version: 2\nexecution:\n  max_in_flight: many\n")
    assert "execution.max_in_flight" in message
    assert "'many'" in message


def test_cross_field_rule_names_its_section(tmp_path: Path) -> None:
    message = config_error(tmp_path, "version: 2\nrisk:\n  drawdown:\n    soft_quote: 500\n")
    assert "risk.drawdown: drawdown: soft threshold 500 exceeds hard threshold 100" in message


def test_unknown_nested_key_is_rejected_by_name(tmp_path: Path) -> None:
    message = config_error(tmp_path, "version: 2\nrisk:\n  taker_cap:\n    calm_per_hr: 50\n")
    assert "risk.taker_cap.calm_per_hr: unknown key (value 50)" in message


def test_unknown_top_level_key_is_rejected_by_name(tmp_path: Path) -> None:
    assert "strateggy: unknown key" in config_error(tmp_path, "version: 3\nstrateggy: {}\n")


def test_unknown_strategy_stage_is_rejected_by_name(tmp_path: Path) -> None:
    message = config_error(tmp_path, "version: 3\nstrategy:\n  stages: [guard, ladderr]\n")
    assert "strategy" in message and "ladderr" in message


def test_per_symbol_limit_for_an_unlisted_symbol_is_rejected(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'version: 2\nrisk:\n  inventory:\n    hard_max_base: {BTCUSTD: "1"}\n')
    assert "['BTCUSTD']" in message


@pytest.mark.parametrize("symbols", ["[btcusdt]", "[BTCUSDT, BTCUSDT]", "[]"])
def test_bad_symbols_are_rejected(tmp_path: Path, symbols: str) -> None:
    assert "symbols" in config_error(tmp_path, f"version: 2\nsymbols: {symbols}\n")


@pytest.mark.parametrize("version", ["6", "99"])
def test_newer_version_is_refused(tmp_path: Path, version: str) -> None:
    message = config_error(tmp_path, f"version: {version}\n")
    assert f"version: {version} is newer than the newest version this bot reads ({CURRENT_VERSION})" in message


@pytest.mark.parametrize("version", ["0", "two", "true", "1.5"])
def test_unknown_version_is_refused(tmp_path: Path, version: str) -> None:
    assert f"version: must be an integer from 1 to {CURRENT_VERSION}" in config_error(tmp_path, f"version: {version}\n")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "version: 2\nsymbols: [BTCUSDT\nbot_id: x\n")
    assert "YAML syntax error at line 3" in message


def test_yaml_bad_indentation_names_the_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "version: 2\nvenue:\n  kind: sim\n   port: 1\n")
    assert "YAML syntax error at line 4" in message


def test_duplicate_key_names_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "version: 2\nbot_id: a\nsymbols: [BTCUSDT]\nbot_id: b\n")
    assert "duplicate key 'bot_id'" in message
    assert "line 4" in message


@pytest.mark.parametrize(("text", "expected"), [("", "empty"), ("- a\n- b\n", "must be a mapping")])
def test_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in config_error(tmp_path, text)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BotError, match="cannot be read") as raised:
        load_config(tmp_path / "nope.yaml")
    assert raised.value.code is ErrorCode.CONFIG_INVALID


def test_config_is_frozen() -> None:
    config = BotConfig()
    with pytest.raises(ValueError, match="frozen"):
        config.bot_id = "other"  # type: ignore[misc]


# -- version 3 -> 4: inventory limits in notional by default, base units per symbol --
def test_a_v3_file_keeps_its_base_unit_default_with_a_one_line_deprecation_note() -> None:
    upgraded, notes = migrate({"version": 3, "risk": {"inventory": {"default_hard_max_base": "0.5"}}})
    assert upgraded["risk"]["inventory"] == {"default_hard_max_base": "0.5"}
    v4 = [n for n in notes if n.startswith("v3->v4: ")]
    assert len(v4) == 1 and "\n" not in v4[0] and "deprecated" in v4[0]
    config = parse_config({"version": 3, "symbols": ["BTCUSDT", "SOLUSDT"]})
    assert [config.risk.inventory.hard_max_for(s) for s in config.symbols] == [1, 1]  # exactly as before


def test_the_default_limit_is_a_notional_converted_at_the_simulators_start_price() -> None:
    config = priced_for_sim(parse_config({"version": 4, "symbols": ["BTCUSDT", "ETHUSDT", "SOLUSDT"]}))
    inventory = config.risk.inventory
    assert [inventory.hard_max_for(s) for s in config.symbols] == [1, 20, 400]  # 60000 at 60000, 3000, 150
    assert {inventory.limit_source(s) for s in config.symbols} == {"default_hard_max_quote"}


def test_a_run_prices_the_notional_default_and_floors_to_8_decimals() -> None:
    config = priced_for_sim(parse_config({"version": 4, "symbols": ["BTCUSDT", "SOLUSDT"],
                                          "risk": {"inventory": {"hard_max_base": {"SOLUSDT": "12.5"}}}}))
    priced = config.priced({"BTCUSDT": Decimal("70000"), "SOLUSDT": Decimal("1")})
    assert priced.risk.inventory.hard_max_for("BTCUSDT") == Decimal("0.85714285")  # 60000 / 70000, floored
    assert priced.risk.inventory.hard_max_for("SOLUSDT") == Decimal("12.5")  # a base-unit override wins
    assert config.risk.inventory.hard_max_for("BTCUSDT") == 1  # the original is unchanged (frozen)


def test_a_custom_sim_symbol_is_priced_at_its_initial_price() -> None:
    config = parse_config({"version": 4, "symbols": ["XYZUSDT"], "sim": {"symbols": {"XYZUSDT": {
        "base_asset": "XYZ", "quote_asset": "USDT", "tick_size": "0.001", "step_size": "0.1", "min_notional": 5,
        "initial_price": "2.5"}}}})
    with pytest.raises(ValueError, match="XYZUSDT: the inventory limit is a notional"):
        config.risk.inventory.hard_max_for("XYZUSDT")  # the bot's config knows no simulator price
    assert priced_for_sim(config).risk.inventory.hard_max_for("XYZUSDT") == 24000


def test_a_price_the_config_gives_wins_over_the_simulators_start_price() -> None:
    config = parse_config({"version": 4, "symbols": ["BTCUSDT", "ETHUSDT"],
                           "risk": {"inventory": {"price_at_start_quote": {"BTCUSDT": "30000"}}}})
    inventory = priced_for_sim(config).risk.inventory
    assert [inventory.hard_max_for(s) for s in config.symbols] == [2, 20]  # 60000 at 30000 (given), at 3000


def test_a_symbol_without_a_price_has_no_notional_limit_until_priced() -> None:
    config = parse_config({"version": 4, "symbols": ["DOGEUSDT"]})
    with pytest.raises(ValueError, match="DOGEUSDT: the inventory limit is a notional"):
        config.risk.inventory.hard_max_for("DOGEUSDT")
    assert config.priced({"DOGEUSDT": Decimal("0.2")}).risk.inventory.hard_max_for("DOGEUSDT") == 300000


def test_the_legacy_lot_filters_are_the_simulators_standard_symbols() -> None:
    """What "lots" meant in a version-4 file: the bot keeps its own copy (it never imports the simulator)."""
    catalogue = symbol_catalogue()
    expected = {name: (catalogue[name].spec.step_size, catalogue[name].initial_price) for name in LEGACY_LOT_FILTERS}
    assert expected == LEGACY_LOT_FILTERS
