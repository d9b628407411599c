"""Strategy sizes are base units per symbol with a notional default (config v5), converted to lots in one place;
a version-4 file (sizes in lots) still loads and quotes the same lots; ``mmbot config init`` writes the new form."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.config import CURRENT_VERSION, BotConfig, load_config, migrate, parse_config
from bot.config_cli import strategy_sizes
from bot.core.errors import BotError
from bot.core.types import SymbolInfo
from bot.strategy import LadderStage, QuoteContext, QuotePipeline, SizeConfig, StrategyConfig, build_strategy
from bot.strategy.sizes import symbol_sizes
from harness.sim_account import priced_for_sim, sim_symbol_info
from mmbot.cli import app

EXAMPLES = Path(__file__).parents[2] / "examples"


def info(symbol: str) -> SymbolInfo:
    found = sim_symbol_info(BotConfig(), symbol)  # the simulator's filters
    assert found is not None
    return found


def lots(config: BotConfig, symbol: str) -> tuple[int, int, int]:
    sizes = symbol_sizes(config.strategy, info(symbol), priced_for_sim(config).price_at_start(symbol))
    return sizes.order_lots, sizes.target_inventory_lots, sizes.liq_full_depth_lots


def test_the_default_notional_size_is_the_same_notional_for_every_symbol() -> None:
    config = BotConfig()
    assert lots(config, "BTCUSDT") == (100, 0, 50_000)  # 60 / 60000 = 0.001 BTC: the 100 lots of version 4
    assert lots(config, "ETHUSDT") == (200, 0, 100_000)  # 0.02 ETH
    assert lots(config, "SOLUSDT") == (400, 0, 200_000)  # 0.4 SOL


def test_a_base_unit_size_and_target_override_the_notional_and_floor_to_the_step() -> None:
    strategy = StrategyConfig(sizes=SizeConfig(order_base={"ETHUSDT": Decimal("0.01234")},
                                               target_inventory_base={"ETHUSDT": Decimal("-0.5")}))
    sizes = symbol_sizes(strategy, info("ETHUSDT"), Decimal(3000))
    assert (sizes.order_lots, sizes.target_inventory_lots) == (123, -5000)
    assert symbol_sizes(strategy, info("BTCUSDT"), Decimal(60000)).order_lots == 100  # the notional default


def test_a_tiny_notional_is_still_one_lot() -> None:
    strategy = StrategyConfig(sizes=SizeConfig(order_quote=Decimal("0.0001")))
    assert symbol_sizes(strategy, info("BTCUSDT"), Decimal(60000)).order_lots == 1


def test_a_notional_without_a_price_is_an_error_naming_the_setting() -> None:
    with pytest.raises(ValueError, match=r"BTCUSDT: strategy\.sizes\.order_quote is a notional"):
        symbol_sizes(StrategyConfig(), info("BTCUSDT"), None)
    base_only = StrategyConfig(kind="fixed_spread", sizes=SizeConfig(order_base={"BTCUSDT": Decimal("0.002")}))
    assert symbol_sizes(base_only, info("BTCUSDT"), None).order_lots == 200  # nothing to convert: no price needed


@pytest.mark.parametrize("bad", [{"order_base": {"BTCUSDT": "0"}}, {"order_quote": "-1"},
                                 {"target_inventory_base": {"BTCUSDT": "NaN"}}])
def test_bad_sizes_are_refused_naming_the_field(bad: dict[str, object]) -> None:
    with pytest.raises(BotError, match=r"strategy\.sizes"):
        parse_config({"version": CURRENT_VERSION, "strategy": {"sizes": bad}})


def test_the_built_strategy_quotes_the_converted_size() -> None:
    strategy = build_strategy(StrategyConfig(stages=("ladder",)), info("ETHUSDT"), price=Decimal(3000))
    assert isinstance(strategy, QuotePipeline)
    ctx = QuoteContext(symbol="ETHUSDT", info=info("ETHUSDT"), now_s=1.0, best_bid_ticks=11_999,
                       best_ask_ticks=12_001, best_bid_lots=10, best_ask_lots=10, mid_ticks=12_000.0)
    assert {q.qty_lots for q in strategy.decide(ctx).desired} == {200}
    with pytest.raises(ValueError, match="size_lots"):
        LadderStage(StrategyConfig().ladder, info("ETHUSDT"), fallback_spread_bps=1.0, size_lots=0)


# -- version 4 (lots) -> version 5 ---------------------------------------------------------------------------------
V4_FILE = {
    "version": 4, "symbols": ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
    "strategy": {"ladder": {"levels": 2, "level_size_lots": 250},
                 "inventory_skew": {"target_inventory_lots": 30, "max_inventory_lots": 5000},
                 "adaptive_spread": {"liq_full_depth_lots": 20_000},
                 "avellaneda_stoikov": {"size_lots": 50, "q_unit_lots": 500}},
}


def test_a_version_4_file_quotes_the_same_lots_on_every_symbol() -> None:
    config = parse_config(V4_FILE)
    assert config.version == CURRENT_VERSION == 5
    assert config.strategy.sizes.order_base == {"BTCUSDT": Decimal("0.0025"), "ETHUSDT": Decimal("0.025"),
                                                "SOLUSDT": Decimal("0.25")}
    for symbol in config.symbols:
        order, target, _ = lots(config, symbol)
        assert (order, target) == (250, 30)
    assert lots(config, "BTCUSDT")[2] == 20_000  # the depth is a notional now: exact for the first symbol
    assert config.strategy.avellaneda_stoikov.q_unit_orders == 2.0  # 500 lots of q = 2 orders of 250


def test_a_version_4_file_of_the_active_baseline_keeps_its_size_and_q_unit() -> None:
    raw = {"version": 4, "symbols": ["BTCUSDT"], "strategy": {"kind": "glft", "glft": {"size_lots": 20,
                                                                                    "q_unit_lots": 100}}}
    config = parse_config(raw)
    assert lots(config, "BTCUSDT")[0] == 20 and config.strategy.glft.q_unit_orders == 5.0


def test_the_version_4_migration_notes_every_conversion() -> None:
    _, notes = migrate(V4_FILE)
    v5 = [n.removeprefix("v4->v5: ") for n in notes if n.startswith("v4->v5: ")]
    assert any(n.startswith("strategy.avellaneda_stoikov.size_lots=50 removed") for n in v5)
    assert any(n.startswith("order size 250 lots (strategy.ladder.level_size_lots) -> strategy.sizes.order_base")
               for n in v5)
    assert any("max_inventory_lots=5000 removed" in n for n in v5)
    assert any(n.startswith("adaptive_spread.liq_full_depth_lots=20000 -> liq_full_depth_quote=12000") and
               "'ETHUSDT': 40000" in n for n in v5)


def test_a_version_4_default_file_keeps_the_lots_the_seed_7_digest_was_made_with() -> None:
    old = parse_config({"version": 4})
    assert lots(old, "BTCUSDT") == lots(BotConfig(), "BTCUSDT") == (100, 0, 50_000)


def test_a_symbol_the_simulator_does_not_list_is_left_to_the_notional_with_a_note() -> None:
    upgraded, notes = migrate({"version": 4, "symbols": ["DOGEUSDT"]})
    assert "sizes" not in upgraded.get("strategy", {})
    assert any("sizes of ['DOGEUSDT'] not converted" in n for n in notes)


# -- the user's view ---------------------------------------------------------------------------------------------
def test_config_init_writes_version_5_with_sizes_in_base_units_and_no_lots(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    assert CliRunner().invoke(app, ["config", "init", str(path)]).exit_code == 0
    raw = yaml.safe_load(path.read_text())
    assert raw["version"] == 5 and raw["strategy"]["sizes"] == {"order_quote": 60, "order_base": {},
                                                                "target_inventory_base": {}}
    assert "_lots:" not in path.read_text()  # no user-facing size in lots is left


SOL_SPEC = {"base_asset": "SOL", "quote_asset": "USDT", "tick_size": "0.01", "step_size": "0.001",
            "min_notional": "5", "initial_price": "150.00"}


def test_config_show_prints_each_symbols_size_in_base_units_notional_and_lots(tmp_path: Path) -> None:
    path = tmp_path / "sol.yaml"
    path.write_text(yaml.safe_dump({"version": 5, "symbols": ["BTCUSDT", "SOLUSDT"],
                                    "risk": {"inventory": {"price_at_start_quote": {"SOLUSDT": "150"}}},
                                    "sim": {"symbols": {"SOLUSDT": SOL_SPEC}}}))
    result = CliRunner().invoke(app, ["config", "show", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert ("#   SOLUSDT: source=order_quote, order_base=0.4, order_quote=60, order_lots=400, target_base=0, "
            "target_lots=0, liq_full_depth_lots=200000") in result.output
    # a symbol whose filters and price only the venue knows at start is not converted with made-up ones
    assert ("#   BTCUSDT: source=order_quote, order=60 quote, lots=at the venue's step size and price at start"
            in result.output)


def test_the_two_symbol_example_gives_each_symbol_its_own_base_unit_size() -> None:
    sizes = strategy_sizes(load_config(EXAMPLES / "config-two-symbols.yaml"))
    assert {s: row["order"] for s, row in sizes.items()} == {"BTCUSDT": "0.001 base", "ETHUSDT": "0.02 base"}
    config = priced_for_sim(load_config(EXAMPLES / "config-two-symbols.yaml"))
    assert {s: lots(config, s)[0] for s in config.symbols} == {"BTCUSDT": 100, "ETHUSDT": 200}
