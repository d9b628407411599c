"""Market regimes: the parameter sets of the background flow (calm, trending, volatile, illiquid, flash_crash).

All prices are in ticks and all rates per simulated second. The default symbols have a tick of about 0.7-0.8
basis points of price (a large-tick market, ADR 0002), so "0.6 ticks per sqrt(second)" is about 1.5 % daily
volatility. Sizes are in quote currency (USDT) and converted to lots at the current price.

Each field is documented where it is declared; docs/market-model.md explains the model and where each
default comes from. Regimes are frozen: to change one, build a new object (``params.model_copy(update=...)``).
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RegimeParams(BaseModel):
    """One regime of the background flow. Rates are per simulated second, distances in ticks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    # latent fair price F(t), sampled on a fixed grid (see latent.py)
    sigma_ticks_per_sqrt_s: float = Field(0.6, ge=0, description="diffusion of the latent price")
    drift_ticks_per_s: float = Field(0.0, description="deterministic trend of the latent price")
    jump_rate_per_s: float = Field(0.0, ge=0, description="Poisson rate of latent-price jumps")
    jump_sigma_ticks: float = Field(0.0, ge=0, description="std dev of a jump (normal, signed)")
    vol_of_vol: float = Field(0.8, ge=0, description="std dev of log volatility (stochastic volatility)")
    vol_timescales_s: tuple[float, ...] = Field(
        (60.0, 600.0, 3600.0, 21600.0), min_length=1,
        description="time scales of the log-volatility components (a multi-scale, long-memory volatility)",
    )
    # liquidity providers: limit orders placed around r = mid + anchor*(F - mid)
    lp_rate_per_s: float = Field(4.0, gt=0, description="limit-order arrival rate")
    lp_anchor: float = Field(0.8, ge=0, le=1, description="how far LPs pull their reference toward F")
    lp_half_spread_ticks: float = Field(0.0, ge=0, description="extra distance of the first level from r")
    lp_distance_scale_ticks: float = Field(1.5, gt=0, description="d0 of the power-law placement distance")
    lp_distance_exponent: float = Field(1.2, gt=0, description="mu: P(d >= x) = (1 + x/d0)^-mu")
    lp_distance_max_ticks: int = Field(120, ge=1, description="farthest placement from the reference")
    lp_size_median_quote: float = Field(700.0, gt=0, description="median limit order notional (USDT)")
    lp_size_sigma: float = Field(0.9, ge=0, description="log-normal sigma of limit order notional")
    lp_requote_rate_per_s: float = Field(4.0, ge=0, description="rate at which LPs pull a quote left behind by F")
    lp_requote_tolerance_ticks: float = Field(0.5, ge=0, description="how far past F a quote must be to be pulled")
    lp_lifetime_s: float = Field(60.0, gt=0, description="mean life of a resting LP order before cancel")
    # noise (uninformed) market orders: Hawkes-excited arrivals, long-memory signs, sqrt impact
    market_rate_per_s: float = Field(0.8, gt=0, description="baseline market-order rate (Hawkes mu)")
    hawkes_alpha_per_s: float = Field(0.5, ge=0, description="intensity jump after each market order")
    hawkes_beta_per_s: float = Field(1.0, gt=0, description="decay rate of the excitation")
    sign_memory_alpha: float = Field(1.5, gt=1, description="Pareto tail of metaorder lengths: ACF ~ lag^(1-alpha)")
    sign_memory_share: float = Field(0.7, ge=0, le=1, description="share of orders following the metaorder sign")
    sign_memory_min_length: float = Field(
        1.0, ge=1, description="x0 of the Pareto metaorder length, P(L >= x) = (x/x0)^-alpha (orders)"
    )
    market_sign_bias: float = Field(0.0, ge=-1, le=1, description="P(buy) = (1 + bias) / 2 for new metaorders")
    market_size_median_quote: float = Field(350.0, gt=0, description="median market order notional (USDT)")
    market_size_sigma: float = Field(0.6, ge=0, description="log-normal sigma of the body of market order sizes")
    market_size_tail: float = Field(1.5, gt=1, description="Pareto tail exponent of market order sizes")
    market_size_max_ratio: float = Field(50.0, ge=1, description="largest market order, in median sizes")
    impact_ticks: float = Field(0.25, ge=0, description="initial impact of a median-size noise market order")
    impact_kernel_s: tuple[float, ...] = Field(
        (2.0, 20.0, 200.0), min_length=1, description="time scales of the propagator's exponentials"
    )
    impact_kernel_weights: tuple[float, ...] = Field(
        (0.6, 0.3, 0.1), min_length=1, description="weights of the propagator's exponentials (sum 1)"
    )
    metaorder_impact_y: float = Field(1.0, ge=0, description="Y of the square-root law for tracked accounts")
    metaorder_decay_s: float = Field(300.0, gt=0, description="decay time of an account's traded notional")
    # informed traders: take liquidity priced worse than their noisy estimate of V by more than a threshold
    informed_rate_per_s: float = Field(0.5, ge=0, description="rate at which informed traders look")
    informed_threshold_ticks: float = Field(0.6, ge=0, description="minimum mispricing they trade on")
    informed_noise_ticks: float = Field(1.5, ge=0, description="std dev of an informed trader's error about V")
    informed_size_median_quote: float = Field(800.0, gt=0, description="median informed order notional")
    # flash crash overlay on F, applied when the regime starts
    crash_depth_ticks: float = Field(0.0, ge=0, description="how far F falls in a crash")
    crash_fall_s: float = Field(20.0, gt=0, description="how long the fall takes")
    crash_recovery_fraction: float = Field(0.6, ge=0, le=1, description="share of the fall recovered")
    crash_recovery_s: float = Field(300.0, gt=0, description="how long the recovery takes")
    crash_delay_s: float = Field(0.0, ge=0, description="time from the regime's start to the crash")
    crash_sell_bias: float = Field(0.0, ge=-1, le=0, description="extra noise sign bias at the crash's peak")
    crash_liquidity_drop: float = Field(0.0, ge=0, le=1, description="share of LP arrivals lost at the peak")
    crash_widen: float = Field(0.0, ge=0, description="LP placement distance grows by 1 + widen at the peak")

    @model_validator(mode="after")
    def _kernel_fits(self) -> RegimeParams:
        if len(self.impact_kernel_s) != len(self.impact_kernel_weights):
            raise ValueError("impact_kernel_s and impact_kernel_weights must have the same length")
        if abs(sum(self.impact_kernel_weights) - 1.0) > 1e-9 or min(self.impact_kernel_weights) < 0:
            raise ValueError("impact_kernel_weights must be non-negative and sum to 1")
        if min(self.impact_kernel_s) <= 0 or min(self.vol_timescales_s) <= 0:
            raise ValueError("time scales must be positive")
        return self

    @property
    def kernel(self) -> tuple[tuple[float, float], ...]:
        """The propagator G as (weight, time scale) pairs."""
        return tuple(zip(self.impact_kernel_weights, self.impact_kernel_s, strict=True))

    @property
    def mean_size_ratio(self) -> float:
        """E[v / v_median] of market orders: exp(s^2/2) * a/(a-1) * 2^(-1/a) (log-normal body x Pareto tail)."""
        a = self.market_size_tail
        return math.exp(self.market_size_sigma**2 / 2.0) * a / (a - 1.0) * math.pow(2.0, -1.0 / a)

    @property
    def daily_volume_quote(self) -> float:
        """V_day: noise notional per day, mu / (1 - alpha/beta) orders per second (Hawkes mean rate)."""
        branching = min(0.99, self.hawkes_alpha_per_s / self.hawkes_beta_per_s)
        rate = self.market_rate_per_s / (1.0 - branching)
        return rate * self.market_size_median_quote * self.mean_size_ratio * 86_400.0

    @property
    def daily_sigma_ticks(self) -> float:
        """sigma_day = sigma * sqrt(86,400 s), in ticks."""
        return self.sigma_ticks_per_sqrt_s * math.sqrt(86_400.0)


_CALM = RegimeParams(name="calm")

REGIMES: dict[str, RegimeParams] = {
    "calm": _CALM,
    "trending": _CALM.model_copy(
        update={
            "name": "trending", "drift_ticks_per_s": 0.05, "market_sign_bias": 0.05, "sigma_ticks_per_sqrt_s": 0.7,
        }
    ),
    "volatile": _CALM.model_copy(
        update={
            "name": "volatile",
            "sigma_ticks_per_sqrt_s": 1.8,
            "jump_rate_per_s": 0.02,
            "jump_sigma_ticks": 6.0,
            "lp_half_spread_ticks": 1.0,
            "lp_distance_scale_ticks": 2.5,
            "informed_rate_per_s": 1.5,
            "market_rate_per_s": 1.2,
            "impact_ticks": 0.5,
        }
    ),
    "illiquid": _CALM.model_copy(
        update={
            "name": "illiquid",
            "sigma_ticks_per_sqrt_s": 1.2,
            "lp_anchor": 0.5,
            "lp_requote_rate_per_s": 2.0,
            "lp_rate_per_s": 1.5,
            "lp_half_spread_ticks": 1.0,
            "lp_distance_scale_ticks": 3.0,
            "lp_size_median_quote": 500.0,
            "market_size_median_quote": 150.0,
            "market_rate_per_s": 0.3,
            "impact_ticks": 0.6,
            "informed_rate_per_s": 0.1,
        }
    ),
    "flash_crash": _CALM.model_copy(
        update={
            "name": "flash_crash",
            "sigma_ticks_per_sqrt_s": 1.2,
            "crash_depth_ticks": 400.0,
            "crash_fall_s": 30.0,
            "crash_recovery_fraction": 0.7,
            "crash_delay_s": 60.0,
            "crash_sell_bias": -0.6,
            "crash_liquidity_drop": 0.7,
            "crash_widen": 2.0,
            "lp_half_spread_ticks": 0.5,
            "lp_distance_scale_ticks": 2.5,
            "market_rate_per_s": 1.2,
            "informed_rate_per_s": 1.0,
            "impact_ticks": 0.5,
        }
    ),
}


def regime_params(name: str) -> RegimeParams:
    """The preset for ``name`` (``flash-crash`` and ``flash_crash`` both work), or a market profile's regime
    (``binance-btcusdt``, a profile file ``*.json``: profile.py); ``ValueError`` if neither."""
    key = name.strip().lower().replace("-", "_")
    if key in REGIMES:
        return REGIMES[key]
    from exchange_sim.market.profile import find_profile, profile_names  # noqa: PLC0415 (profile imports us)

    profile = find_profile(name)
    if profile is not None:
        return profile.regime()
    raise ValueError(f"unknown regime {name!r}; choose one of {', '.join(sorted(REGIMES))} "
                     f"or a market profile ({', '.join(profile_names())})")
