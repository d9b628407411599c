"""Market configuration: which symbols trade and which regimes follow each other during a session.

A session's regime timeline comes from exactly one of: ``regime`` (one regime throughout), ``schedule``
(explicit segments, the last one lasting to the end), or ``switching`` (a seeded Markov chain over
``switching_regimes`` with exponential dwell times; a flash crash lasts ``crash_minutes`` and is drawn with
``crash_probability`` at each switch). The timeline is a pure function of the config and the seed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from exchange_sim.market.profile import MarketProfile, find_profile
from exchange_sim.market.regimes import REGIMES, RegimeParams, regime_params
from exchange_sim.market.symbols import SymbolMarket
from exchange_sim.rng import stream


class RegimeSegment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    regime: str
    minutes: float = Field(gt=0)

    @field_validator("regime")
    @classmethod
    def _known(cls, value: str) -> str:
        return regime_params(value).name


class MarketConfig(BaseModel):
    """What the background market does. Every default is the documented calm market of docs/market-model.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbols: tuple[str, ...] = ("BTCUSDT",)
    regime: str = "calm"
    schedule: tuple[RegimeSegment, ...] = ()
    switching: bool = False
    switching_regimes: tuple[str, ...] = ("calm", "trending", "volatile", "illiquid")
    mean_dwell_minutes: float = Field(30.0, gt=0)
    crash_probability: float = Field(0.05, ge=0, le=1)
    crash_minutes: float = Field(10.0, gt=0)
    grid_s: float = Field(0.1, gt=0, description="step of the latent price grid (seconds)")
    regime_overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-regime parameter overrides, e.g. {'calm': {'lp_rate_per_s': 5}}"
    )

    @field_validator("regime")
    @classmethod
    def _known_regime(cls, value: str) -> str:
        name = regime_params(value).name
        return value if value.endswith(".json") else name  # a profile file stays a path

    @field_validator("switching_regimes")
    @classmethod
    def _known_regimes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(regime_params(v).name for v in value)

    @model_validator(mode="after")
    def _one_timeline(self) -> MarketConfig:
        if self.schedule and self.switching:
            raise ValueError("choose either 'schedule' or 'switching', not both")
        profile = self.profile()
        if profile is not None and tuple(self.symbols) != (profile.symbol,):
            raise ValueError(f"market profile {profile.name} is fitted to {profile.symbol}: symbols must be "
                             f"[{profile.symbol}], not {list(self.symbols)}")
        for name, update in self.regime_overrides.items():
            base = regime_params(name)
            RegimeParams.model_validate({**base.model_dump(), **update})
        return self

    def profile(self) -> MarketProfile | None:
        """The market profile named by ``regime`` (profile.py), None for a preset regime."""
        if self.schedule or self.switching or self.regime in REGIMES:
            return None
        return find_profile(self.regime)

    def markets(self) -> dict[str, SymbolMarket]:
        """Catalogue entries this config brings: a profile's symbol with its recorded filters (else none)."""
        profile = self.profile()
        return {profile.symbol: profile.market()} if profile is not None else {}

    def params(self, regime: str) -> RegimeParams:
        """The preset for ``regime`` with this config's overrides applied."""
        base = regime_params(regime)
        update = self.regime_overrides.get(base.name)
        if not update:
            return base
        return RegimeParams.model_validate({**base.model_dump(), **update})

    def timeline(self, seed: int, duration_s: float) -> list[tuple[float, str]]:
        """``[(start_s, regime), ...]`` covering ``[0, duration_s)``, first entry at 0."""
        if self.schedule:
            out: list[tuple[float, str]] = []
            t = 0.0
            for seg in self.schedule:
                if t >= duration_s and out:
                    break
                out.append((t, seg.regime))
                t += seg.minutes * 60.0
            return out
        if not self.switching:
            return [(0.0, self.regime)]
        rng = stream(seed, "market", "regime-switching")
        out = [(0.0, self.switching_regimes[0])]
        t = rng.expovariate(1.0 / (self.mean_dwell_minutes * 60.0))
        while t < duration_s:
            current = out[-1][1]
            if current != "flash_crash" and rng.random() < self.crash_probability:
                out.append((t, "flash_crash"))
                t += self.crash_minutes * 60.0
                continue
            choices = [r for r in self.switching_regimes if r != current] or [current]
            out.append((t, choices[rng.randrange(len(choices))]))
            t += rng.expovariate(1.0 / (self.mean_dwell_minutes * 60.0))
        return out
