"""harness.check_config: the checker's limits derived from the bot's configuration, not from its records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.config import BotConfig
from bot.risk.config import InventoryLimits, RiskConfig, TakerCapConfig
from harness.check_config import check_config_for, hard_limit_lots
from harness.sim_account import priced_for_sim


def _config(**risk: object) -> BotConfig:
    return BotConfig(symbols=("BTCUSDT", "ETHUSDT"), risk=RiskConfig(**risk))  # type: ignore[arg-type]


def test_limits_come_from_the_config_floored_to_whole_lots() -> None:
    config = _config(inventory=InventoryLimits(hard_max_base={"BTCUSDT": Decimal("0.123456")},
                                               default_hard_max_base=Decimal("2")),
                     taker_cap=TakerCapConfig(calm_per_hour=40, moderate_per_hour=60, volatile_per_hour=20),
                     cancel_bound_s=3.5)
    check = check_config_for(config, "acct", {"BTCUSDT": Decimal("0.00001"), "ETHUSDT": Decimal("0.0001")})
    assert check.account == "acct"
    assert dict(check.hard_limit_lots) == {"BTCUSDT": 12345, "ETHUSDT": 20000}
    assert check.taker_caps == frozenset({20, 40, 60}) and check.taker_cap_per_hour == 60
    assert check.hard_cancel_bound_s == 3.5  # invariant 8's bound is the bot's configured bound


def test_a_limit_below_one_lot_is_one_lot_as_the_bot_holds_it() -> None:
    config = _config(inventory=InventoryLimits(default_hard_max_base=Decimal("0.000001")))
    assert hard_limit_lots(config, "BTCUSDT", Decimal("0.00001")) == 1


def test_a_symbol_without_filters_is_an_error() -> None:
    with pytest.raises(KeyError):
        check_config_for(priced_for_sim(_config()), "bot", {"BTCUSDT": Decimal("0.00001")})  # ETHUSDT's step
