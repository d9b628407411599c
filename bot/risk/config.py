"""Configuration of the risk layer: one frozen, documented ``RiskConfig`` with a sub-model per part.

Invariants (checked at construction, ``ValueError`` otherwise): every soft threshold is at most its hard
threshold; rates and fractions are in range; windows, bounds and cooldowns are positive; ``latching_reasons``
names measured guards only (never twice). Unknown fields are rejected. Money is ``Decimal`` (quote currency or
base units); rates, ages and latencies are floats. To change limits at run time, build a new object.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MEASURED_REASONS",
    "CircuitBreakerConfig",
    "DrawdownLimits",
    "InventoryLimits",
    "LatencyLimits",
    "MeasuredReason",
    "PnlRateLimits",
    "PreTradeConfig",
    "RiskConfig",
    "StaleDataLimits",
    "TakerCapConfig",
    "VenueHealthLimits",
]


MeasuredReason = Literal[
    "INVENTORY", "DRAWDOWN", "PNL_RATE", "VENUE_HEALTH", "LATENCY", "STALE_DATA", "CIRCUIT_OPEN"]
MEASURED_REASONS: tuple[str, ...] = get_args(MeasuredReason)
"""The guards that measure an input (``GuardReason`` without the operator's KILL_SWITCH, MANUAL, RECONCILE)."""


_BASE_QUANTUM = Decimal("0.00000001")  # limits in base units are floored to 8 decimals


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _soft_le_hard(soft: float | Decimal, hard: float | Decimal, name: str) -> None:
    if soft > hard:
        raise ValueError(f"{name}: soft threshold {soft} exceeds hard threshold {hard}")


class InventoryLimits(_Frozen):
    """|inventory| limits in base units; SOFT at ``soft_fraction * hard_max``, HARD at ``hard_max``.

    A symbol's hard limit is its ``hard_max_base`` entry (base units) when it has one; else the deprecated
    ``default_hard_max_base`` when set (version-3 files); else the notional default converted with the symbol's
    price at start: ``hard_max = floor_8dp(default_hard_max_quote / price_at_start_quote[symbol])`` (live: the
    venue's mid when the run starts, ``bot.config.BotConfig.priced``; simulated: the simulator's start price).
    """

    hard_max_base: dict[str, Decimal] = Field(
        default_factory=dict, description="Per-symbol hard limit on |inventory| in base units (overrides default)."
    )
    default_hard_max_quote: Decimal = Field(
        default=Decimal("60000"), gt=0,
        description="Hard limit on |inventory| as notional (quote) for unlisted symbols, converted at start.",
    )
    default_hard_max_base: Decimal | None = Field(
        default=None, gt=0, description="Deprecated (version 3): a base-unit limit for every unlisted symbol."
    )
    price_at_start_quote: dict[str, Decimal] = Field(
        default_factory=dict, description="Price that converts the notional default (set at start; sim prices).",
    )
    soft_fraction: float = Field(
        default=0.7, gt=0, le=1, description="SOFT fires at |inventory| >= soft_fraction * hard limit."
    )

    @model_validator(mode="after")
    def _positive_limits(self) -> InventoryLimits:
        for name, values in (("hard_max_base", self.hard_max_base), ("price_at_start_quote",
                                                                     self.price_at_start_quote)):
            for symbol, value in values.items():
                if value <= 0:
                    raise ValueError(f"{name}[{symbol!r}] must be > 0, got {value}")
        return self

    def hard_max_for(self, symbol: str) -> Decimal:
        """The hard limit for ``symbol`` in base units (class docstring); ``ValueError`` when it is a notional and
        the symbol has no price yet."""
        if symbol in self.hard_max_base:
            return self.hard_max_base[symbol]
        if self.default_hard_max_base is not None:
            return self.default_hard_max_base
        price = self.price_at_start_quote.get(symbol)
        if price is None:
            raise ValueError(f"{symbol}: the inventory limit is a notional ({self.default_hard_max_quote} quote) "
                             "and the symbol has no price at start yet")
        return max(_BASE_QUANTUM, (self.default_hard_max_quote / price).quantize(_BASE_QUANTUM, ROUND_DOWN))

    def limit_source(self, symbol: str) -> str:
        """Where ``symbol``'s limit comes from: ``hard_max_base``, ``default_hard_max_base`` or
        ``default_hard_max_quote``."""
        if symbol in self.hard_max_base:
            return "hard_max_base"
        return "default_hard_max_base" if self.default_hard_max_base is not None else "default_hard_max_quote"


class DrawdownLimits(_Frozen):
    """Drawdown from the session's equity peak, in quote currency (a positive number is a loss)."""

    soft_quote: Decimal = Field(default=Decimal("50"), gt=0, description="SOFT at drawdown >= this (quote).")
    hard_quote: Decimal = Field(default=Decimal("100"), gt=0, description="HARD at drawdown >= this (quote).")

    @model_validator(mode="after")
    def _order(self) -> DrawdownLimits:
        _soft_le_hard(self.soft_quote, self.hard_quote, "drawdown")
        return self


class PnlRateLimits(_Frozen):
    """Loss rate: PnL over the trailing ``window_s`` scaled to one hour; loss/hour = -pnl_per_hour."""

    window_s: float = Field(default=600.0, gt=0, description="Trailing window over which PnL rate is measured (s).")
    soft_loss_per_hour_quote: Decimal = Field(
        default=Decimal("20"), gt=0, description="SOFT at loss per hour >= this (quote/hour)."
    )
    hard_loss_per_hour_quote: Decimal = Field(
        default=Decimal("50"), gt=0, description="HARD at loss per hour >= this (quote/hour)."
    )

    @model_validator(mode="after")
    def _order(self) -> PnlRateLimits:
        _soft_le_hard(self.soft_loss_per_hour_quote, self.hard_loss_per_hour_quote, "pnl rate")
        return self


class VenueHealthLimits(_Frozen):
    """Venue error rate (errors / requests) over ``window_s``; ignored below ``min_requests`` requests."""

    window_s: float = Field(default=60.0, gt=0, description="Window over which the error rate is measured (s).")
    min_requests: int = Field(default=20, ge=1, description="Fewer requests than this in the window: no signal.")
    soft_error_rate: float = Field(default=0.10, gt=0, le=1, description="SOFT at error rate >= this.")
    hard_error_rate: float = Field(default=0.30, gt=0, le=1, description="HARD at error rate >= this.")

    @model_validator(mode="after")
    def _order(self) -> VenueHealthLimits:
        _soft_le_hard(self.soft_error_rate, self.hard_error_rate, "venue error rate")
        return self


class LatencyLimits(_Frozen):
    """p95 round-trip latency of venue requests, in milliseconds."""

    soft_p95_ms: float = Field(default=500.0, gt=0, description="SOFT at p95 latency >= this (ms).")
    hard_p95_ms: float = Field(default=2000.0, gt=0, description="HARD at p95 latency >= this (ms).")

    @model_validator(mode="after")
    def _order(self) -> LatencyLimits:
        _soft_le_hard(self.soft_p95_ms, self.hard_p95_ms, "latency")
        return self


class StaleDataLimits(_Frozen):
    """Age of the newest market data per symbol, in milliseconds."""

    soft_age_ms: float = Field(default=2000.0, gt=0, description="SOFT at data age >= this (ms).")
    hard_age_ms: float = Field(default=10000.0, gt=0, description="HARD at data age >= this (ms).")

    @model_validator(mode="after")
    def _order(self) -> StaleDataLimits:
        _soft_le_hard(self.soft_age_ms, self.hard_age_ms, "stale data")
        return self


class CircuitBreakerConfig(_Frozen):
    """CLOSED -> OPEN when requests >= min_requests and errors/requests >= max_error_rate over window_s."""

    window_s: float = Field(default=30.0, gt=0, description="Sliding window of recorded outcomes (s).")
    min_requests: int = Field(default=10, ge=1, description="No tripping with fewer outcomes than this in the window.")
    max_error_rate: float = Field(default=0.5, gt=0, le=1, description="Trip at error rate >= this.")
    cooldown_s: float = Field(default=10.0, gt=0, description="OPEN rejects everything for this long (s).")
    half_open_probes: int = Field(default=1, ge=1, description="Requests let through while HALF_OPEN.")
    max_events: int = Field(
        default=10_000, ge=1, description="Bound on outcomes remembered in the window (oldest dropped first)."
    )


class TakerCapConfig(_Frozen):
    """Dynamic taker-fill cap per sliding hour by volatility regime (seed audit, 'Dynamic Taker Cap').

    calm: vol < calm_below_vol_bps; moderate: calm_below_vol_bps <= vol < volatile_above_vol_bps;
    volatile: vol >= volatile_above_vol_bps.
    """

    calm_per_hour: int = Field(default=50, ge=0, description="Taker fills allowed per hour in a calm market.")
    moderate_per_hour: int = Field(default=75, ge=0, description="Taker fills allowed per hour in a moderate market.")
    volatile_per_hour: int = Field(default=30, ge=0, description="Taker fills allowed per hour in a volatile market.")
    calm_below_vol_bps: float = Field(default=10.0, ge=0, description="Volatility below this (bps) is calm.")
    volatile_above_vol_bps: float = Field(default=20.0, ge=0, description="Volatility at or above this is volatile.")

    @model_validator(mode="after")
    def _order(self) -> TakerCapConfig:
        if self.calm_below_vol_bps > self.volatile_above_vol_bps:
            raise ValueError("calm_below_vol_bps must be <= volatile_above_vol_bps")
        return self


class PreTradeConfig(_Frozen):
    """Per-order checks before anything is sent."""

    price_band_bps: float = Field(
        default=200.0, gt=0, description="Reject a limit price more than this many bps from the reference mid."
    )
    max_order_notional_quote: Decimal = Field(
        default=Decimal("5000"), gt=0, description="Reject an order whose notional (quote) exceeds this."
    )
    max_orders_per_s: float = Field(default=10.0, gt=0, description="Token-bucket refill rate (orders/s).")
    burst: int = Field(default=20, ge=1, description="Token-bucket capacity (orders sendable at once).")


class RiskConfig(_Frozen):
    """Everything the risk layer is configured by."""

    inventory: InventoryLimits = Field(default_factory=InventoryLimits, description="Inventory limits.")
    drawdown: DrawdownLimits = Field(default_factory=DrawdownLimits, description="Drawdown limits (quote).")
    pnl_rate: PnlRateLimits = Field(default_factory=PnlRateLimits, description="Loss-rate limits (quote/hour).")
    venue_health: VenueHealthLimits = Field(default_factory=VenueHealthLimits, description="Venue error-rate limits.")
    latency: LatencyLimits = Field(default_factory=LatencyLimits, description="p95 latency limits (ms).")
    stale_data: StaleDataLimits = Field(default_factory=StaleDataLimits, description="Market-data age limits (ms).")
    circuit_breaker: CircuitBreakerConfig = Field(
        default_factory=CircuitBreakerConfig, description="Circuit breaker on venue request outcomes."
    )
    taker_cap: TakerCapConfig = Field(default_factory=TakerCapConfig, description="Dynamic taker-fill cap.")
    pretrade: PreTradeConfig = Field(default_factory=PreTradeConfig, description="Per-order pre-trade checks.")
    hard_latches: bool = Field(
        default=True,
        description="A HARD of a latching reason stays HARD until an operator reset (false: every reason recovers).")
    latching_reasons: tuple[MeasuredReason, ...] = Field(
        default=("INVENTORY", "DRAWDOWN"),
        description="Measured reasons whose HARD latches until reset: a hard inventory breach and the drawdown "
        "stop-loss. Every other HARD (loss rate, latency, venue health, stale data, circuit) is recoverable.")
    hard_recovery_s: float = Field(
        default=30.0, ge=0,
        description="A recoverable HARD clears once its input stayed below its SOFT threshold (or unmeasured) "
        "this long without a break; the bot then reconciles with the venue before it quotes again.")
    cancel_bound_s: float = Field(
        default=5.0, gt=0, description="After HARD, every open order must be cancelled within this many seconds."
    )
    history_max: int = Field(default=1000, ge=1, description="Bound on remembered level transitions.")

    @model_validator(mode="after")
    def _distinct_latching(self) -> RiskConfig:
        if len(set(self.latching_reasons)) != len(self.latching_reasons):
            raise ValueError(f"latching_reasons lists a reason twice: {list(self.latching_reasons)}")
        return self
