"""Symbols from config: any symbol with its filters joins the simulated venue's catalogue; a bad filter is named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.config import CURRENT_VERSION, BotConfig, SimAccountConfig, SimSymbolConfig, parse_config
from bot.core.errors import BotError, ErrorCode
from exchange_sim.market.symbols import DEFAULT_SYMBOLS, SymbolConfig, symbol_catalogue
from harness.sim_account import sim_catalogue

XYZ = {"base_asset": "XYZ", "quote_asset": "USDT", "tick_size": "0.001", "step_size": "0.1", "min_notional": "5",
       "initial_price": "2.5"}


def test_a_configured_symbol_joins_the_defaults_with_its_filters() -> None:
    catalogue = symbol_catalogue({"XYZUSDT": XYZ})
    assert set(catalogue) == {*DEFAULT_SYMBOLS, "XYZUSDT"}
    market = catalogue["XYZUSDT"]
    assert (market.spec.tick_size, market.spec.step_size, market.spec.min_notional) == (
        Decimal("0.001"), Decimal("0.1"), Decimal("5"))
    assert market.initial_price_ticks == 2500
    assert symbol_catalogue() == DEFAULT_SYMBOLS


@pytest.mark.parametrize(("change", "message"), [
    ({"tick_size": None}, "symbols.XYZUSDT.tick_size: Field required"),
    ({"step_size": "0"}, "symbols.XYZUSDT.step_size: Input should be greater than 0"),
    ({"min_notional": "many"}, "symbols.XYZUSDT.min_notional: "),
    ({"initial_price": "2.5005"}, "symbols.XYZUSDT.initial_price: 2.5005 is not a multiple of tick_size 0.001"),
    ({"tick_size": "0.000000001", "step_size": "0.000000001"}, "symbols.XYZUSDT.tick_size/step_size: "),
    ({"lot": "1"}, "symbols.XYZUSDT.lot: Extra inputs are not permitted"),
])
def test_a_missing_or_invalid_filter_is_one_line_naming_the_field(change: dict[str, object], message: str) -> None:
    entry = {k: v for k, v in {**XYZ, **change}.items() if v is not None}
    with pytest.raises(ValueError) as raised:
        symbol_catalogue({"XYZUSDT": entry})
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_bot_config_names_the_bad_filter_of_its_sim_symbol() -> None:
    with pytest.raises(BotError) as raised:
        parse_config({"version": CURRENT_VERSION, "sim": {"symbols": {"XYZUSDT": {**XYZ, "initial_price": "2.5005"}}}},
                     source="config.yaml")
    assert raised.value.code is ErrorCode.CONFIG_INVALID
    assert "XYZUSDT" in str(raised.value) and "initial_price" in str(raised.value)
    config = BotConfig(sim=SimAccountConfig(symbols={"XYZUSDT": SimSymbolConfig.model_validate(XYZ)}))
    assert config.sim.symbols["XYZUSDT"].tick_size == Decimal("0.001")


def test_the_harness_refuses_filters_that_do_not_fit_the_simulators_balances_naming_the_field() -> None:
    tiny = {**XYZ, "tick_size": "0.000000001", "step_size": "0.000000001", "initial_price": "2.5"}
    config = parse_config({"version": CURRENT_VERSION, "sim": {"symbols": {"XYZUSDT": tiny}}})  # the bot's view
    with pytest.raises(BotError) as raised:
        sim_catalogue(config)
    assert raised.value.code is ErrorCode.CONFIG_INVALID
    assert str(raised.value.message).startswith("sim.symbols.XYZUSDT.tick_size/step_size: ")
    good = sim_catalogue(BotConfig(sim=SimAccountConfig(symbols={"XYZUSDT": SimSymbolConfig.model_validate(XYZ)})))
    assert good["XYZUSDT"] == SymbolConfig.model_validate(XYZ).market("XYZUSDT")
    assert good["BTCUSDT"] == DEFAULT_SYMBOLS["BTCUSDT"]


def test_the_bot_and_the_simulator_declare_the_same_symbol_fields() -> None:
    assert SimSymbolConfig.model_fields.keys() == SymbolConfig.model_fields.keys()
