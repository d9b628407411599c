"""A session on a made-up symbol: filters from ``config.sim.symbols``; the bot quotes it and the checker agrees."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.config import BotConfig, SimAccountConfig, SimSymbolConfig
from bot.core.errors import BotError, ErrorCode
from bot.risk.config import InventoryLimits, RiskConfig
from harness.session import run_sim_session

pytestmark = pytest.mark.e2e

XYZ = SimSymbolConfig.model_validate({"base_asset": "XYZ", "quote_asset": "USDT", "tick_size": "0.001",
                                   "step_size": "0.1", "min_notional": "5", "initial_price": "2.5"})


def xyz_config(symbols: dict[str, SimSymbolConfig]) -> BotConfig:
    return BotConfig(
        symbols=("XYZUSDT",),
        sim=SimAccountConfig(balances={"XYZ": Decimal(20_000), "USDT": Decimal(1_000_000)}, symbols=symbols),
        risk=RiskConfig(inventory=InventoryLimits(hard_max_base={"XYZUSDT": Decimal(2_000)})),
    )


def test_a_session_quotes_a_symbol_defined_in_config_and_passes_the_checker() -> None:
    summary = run_sim_session(xyz_config({"XYZUSDT": XYZ}), seed=3, hours=0.05, check=True)
    assert summary.violations == ()
    (xyz,) = summary.symbols
    assert xyz.symbol == "XYZUSDT" and xyz.maker_fills > 0
    assert xyz.final_inventory_lots == xyz.venue_position_lots


def test_a_symbol_without_filters_is_refused_with_a_pointer_to_sim_symbols() -> None:
    with pytest.raises(BotError) as raised:
        run_sim_session(xyz_config({}), seed=3, hours=0.01)
    assert raised.value.code is ErrorCode.CONFIG_INVALID
    assert "XYZUSDT" in str(raised.value) and "sim.symbols" in str(raised.value)
