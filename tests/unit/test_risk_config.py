"""RiskConfig: frozen, documented, rejects unknown fields and inverted thresholds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from bot.risk.config import DrawdownLimits, InventoryLimits, RiskConfig, TakerCapConfig


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = [model]
    for f in model.model_fields.values():
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel):
            found += _models(f.annotation)
    return found


def test_defaults_build_a_valid_config() -> None:
    config = RiskConfig()
    assert config.hard_latches is True
    assert config.taker_cap.calm_per_hour == 50
    assert config.inventory.soft_fraction == 0.7


def test_every_field_has_a_description() -> None:
    for model in _models(RiskConfig):
        for name, f in model.model_fields.items():
            assert f.description, f"{model.__name__}.{name} has no description"


def test_config_is_frozen() -> None:
    config = RiskConfig()
    with pytest.raises(ValidationError):
        config.hard_latches = False  # type: ignore[misc]


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(ValidationError):
        RiskConfig.model_validate({"hard_latch": True})


def test_soft_above_hard_is_rejected() -> None:
    with pytest.raises(ValidationError, match="soft threshold"):
        DrawdownLimits(soft_quote=Decimal("200"), hard_quote=Decimal("100"))


def test_inverted_volatility_regimes_are_rejected() -> None:
    with pytest.raises(ValidationError):
        TakerCapConfig(calm_below_vol_bps=30, volatile_above_vol_bps=20)


def test_per_symbol_inventory_limit_overrides_the_default() -> None:
    limits = InventoryLimits(hard_max_base={"BTCUSDT": Decimal("2")}, default_hard_max_base=Decimal("5"))
    assert limits.hard_max_for("BTCUSDT") == Decimal("2")
    assert limits.hard_max_for("ETHUSDT") == Decimal("5")


def test_non_positive_per_symbol_inventory_limit_is_rejected() -> None:
    with pytest.raises(ValidationError):
        InventoryLimits(hard_max_base={"BTCUSDT": Decimal("0")})


def test_config_round_trips_through_json() -> None:
    config = RiskConfig(inventory=InventoryLimits(hard_max_base={"BTCUSDT": Decimal("2.5")}))
    assert RiskConfig.model_validate_json(config.model_dump_json()) == config
