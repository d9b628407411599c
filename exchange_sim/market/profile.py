"""Market profiles: a synthetic market fitted to one recorded symbol, usable wherever a regime name is.

A profile (a JSON file, written by ``mmbot market fit``) holds the symbol's filters and starting price, the
regime parameters of the background flow in that symbol's ticks (every field of ``RegimeParams`` not given
keeps the calm preset's value), and the recording's own figures the fit saw (``observed``), so a report can
put the synthetic market beside the real one without reading the recording again.

Shipped profiles live beside this module in ``profiles/<name>.json`` (``binance-btcusdt``,
``binance-ethusdt``). A profile name is accepted as a regime (``MarketConfig(regime="binance-btcusdt")``,
``--profile binance-btcusdt``): its parameters are the regime's, and its symbol's filters replace the
catalogue's for that symbol (``MarketConfig.markets``), so the venue trades the recorded tick and lot.
A profile holds one symbol: a market config using it must list that symbol alone.

Errors: ``ValueError`` naming the file or the profile for an unknown name or an invalid file.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exchange_sim.market.regimes import REGIMES, RegimeParams
from exchange_sim.market.symbols import SymbolConfig, SymbolMarket

PROFILE_DIR = Path(__file__).parent / "profiles"


class MarketProfile(BaseModel):
    """One fitted market (see module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="profile name, e.g. binance-btcusdt")
    symbol: str = Field(min_length=1, description="the recorded symbol, e.g. BTCUSDT")
    source: str = Field("", description="the recording it was fitted from (file name)")
    symbol_config: SymbolConfig = Field(description="filters and starting price of the recorded symbol")
    params: dict[str, Any] = Field(default_factory=dict, description="RegimeParams fields (calm's otherwise)")
    observed: dict[str, float] = Field(default_factory=dict, description="the recording's figures")

    def regime(self) -> RegimeParams:
        """The regime parameters: calm's preset with this profile's fields, named after the profile."""
        return RegimeParams.model_validate({**REGIMES["calm"].model_dump(), **self.params, "name": self.name})

    def market(self) -> SymbolMarket:
        """The catalogue entry of the recorded symbol (its real tick and lot)."""
        return self.symbol_config.market(self.symbol)

    def dump(self) -> str:
        """The profile as JSON text (what ``mmbot market fit --out`` writes)."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"


def read_profile(path: Path | str) -> MarketProfile:
    """A profile from a JSON file; ``ValueError`` naming the file if it is not one."""
    path = Path(path)
    try:
        profile = MarketProfile.model_validate(json.loads(path.read_text(encoding="utf-8")))
        profile.regime()
    except (OSError, json.JSONDecodeError, ValidationError) as error:
        raise ValueError(f"{path}: not a market profile: {error}") from None
    return profile


def profile_names() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.json"))


@functools.lru_cache(maxsize=32)
def _shipped(name: str) -> MarketProfile | None:
    path = PROFILE_DIR / f"{name}.json"
    return read_profile(path) if path.is_file() else None


def find_profile(name: str) -> MarketProfile | None:
    """The shipped profile ``name`` (case-insensitive), or a profile file when ``name`` ends in ``.json``."""
    if name.endswith(".json"):
        return read_profile(name)
    return _shipped(name.strip().lower())


def load_profile(name: str) -> MarketProfile:
    """``find_profile`` or ``ValueError`` naming the shipped profiles."""
    profile = find_profile(name)
    if profile is None:
        raise ValueError(f"unknown market profile {name!r}; shipped: {', '.join(profile_names()) or 'none'}")
    return profile
