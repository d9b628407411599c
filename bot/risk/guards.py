"""Guards: a pure function from a ``RiskSnapshot`` of measured inputs to an ``Assessment`` (OK / SOFT / HARD).

Each guard compares one measured value with a soft and a hard threshold from ``RiskConfig``::

    level = HARD  if value >= hard
            SOFT  if soft <= value < hard
            OK    otherwise                  (a signal fires exactly when value >= threshold)

    inventory:    value = |inventory_base[symbol]|;  soft = soft_fraction * hard_max_for(symbol)
    drawdown:     value = drawdown_quote (loss from the equity peak, positive = losing)
    pnl rate:     value = -pnl_per_hour_quote (loss per hour)
    venue health: value = venue_error_rate, only when venue_requests >= min_requests
    latency:      value = latency_p95_ms
    stale data:   value = data_age_ms[symbol]
    circuit:      SOFT while the circuit breaker is open (value 1.0, threshold 1.0)

Comparisons are exact (``Decimal`` against ``Decimal``, or Python's exact float/``Decimal`` ordering); the
``value``/``threshold`` floats of a signal are for display and metrics only. Invariants: the assessment's level
is the max of its signals' levels (OK when there are none), at most one signal per (reason, symbol), and
every level is monotone in every input (a worse input never lowers it). ``RiskSnapshot`` raises
``ValueError`` on NaN inputs or a negative request count: an unmeasurable input is a bug, not "OK".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import TypeAlias

from bot.risk.config import RiskConfig

__all__ = ["Assessment", "GuardLevel", "GuardReason", "GuardSignal", "Guards", "Number", "RiskSnapshot", "assess"]

Number: TypeAlias = Decimal | float


class GuardLevel(IntEnum):
    """OK: quote normally. SOFT: reduce-only (no order may grow |inventory|). HARD: halted, cancel everything."""

    OK = 0
    SOFT = 1
    HARD = 2


class GuardReason(StrEnum):
    INVENTORY = "INVENTORY"
    DRAWDOWN = "DRAWDOWN"
    PNL_RATE = "PNL_RATE"
    VENUE_HEALTH = "VENUE_HEALTH"
    LATENCY = "LATENCY"
    STALE_DATA = "STALE_DATA"
    CIRCUIT_OPEN = "CIRCUIT_OPEN"
    KILL_SWITCH = "KILL_SWITCH"
    MANUAL = "MANUAL"
    RECONCILE = "RECONCILE"  # HARD kept after a heal or reset until the venue has been reconciled (RiskEngine)


# The config field each (reason, level) threshold comes from: a bounded label set for metrics.
_THRESHOLD_NAMES: dict[tuple[GuardReason, GuardLevel], str] = {
    (GuardReason.INVENTORY, GuardLevel.SOFT): "inventory.soft_fraction",
    (GuardReason.INVENTORY, GuardLevel.HARD): "inventory.hard_max_base",
    (GuardReason.DRAWDOWN, GuardLevel.SOFT): "drawdown.soft_quote",
    (GuardReason.DRAWDOWN, GuardLevel.HARD): "drawdown.hard_quote",
    (GuardReason.PNL_RATE, GuardLevel.SOFT): "pnl_rate.soft_loss_per_hour_quote",
    (GuardReason.PNL_RATE, GuardLevel.HARD): "pnl_rate.hard_loss_per_hour_quote",
    (GuardReason.VENUE_HEALTH, GuardLevel.SOFT): "venue_health.soft_error_rate",
    (GuardReason.VENUE_HEALTH, GuardLevel.HARD): "venue_health.hard_error_rate",
    (GuardReason.LATENCY, GuardLevel.SOFT): "latency.soft_p95_ms",
    (GuardReason.LATENCY, GuardLevel.HARD): "latency.hard_p95_ms",
    (GuardReason.STALE_DATA, GuardLevel.SOFT): "stale_data.soft_age_ms",
    (GuardReason.STALE_DATA, GuardLevel.HARD): "stale_data.hard_age_ms",
}


@dataclass(frozen=True, slots=True)
class GuardSignal:
    """One guard that fired: ``value >= threshold`` at ``level``; ``subject`` is the symbol for per-symbol guards."""

    reason: GuardReason
    level: GuardLevel
    value: float
    threshold: float
    subject: str = ""

    @property
    def threshold_breached(self) -> str:
        """Metrics label naming the breached threshold, e.g. ``"drawdown.hard_quote"`` (never includes a symbol)."""
        return _THRESHOLD_NAMES.get((self.reason, self.level), self.reason.value.lower())

    def describe(self) -> str:
        where = f"[{self.subject}]" if self.subject else ""
        return f"{self.reason.value}{where} {self.level.name}: {self.value:g} >= {self.threshold:g}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskSnapshot:
    """The measured inputs of one assessment. Missing symbols are simply not assessed."""

    inventory_base: Mapping[str, Number] = field(default_factory=dict)
    drawdown_quote: Number = Decimal(0)
    pnl_per_hour_quote: Number = Decimal(0)
    venue_error_rate: float = 0.0
    venue_requests: int = 0
    latency_p95_ms: float = 0.0
    data_age_ms: Mapping[str, float] = field(default_factory=dict)
    circuit_open: bool = False

    def __post_init__(self) -> None:
        if self.venue_requests >= 0 and not any(map(_is_nan, (
                self.drawdown_quote, self.pnl_per_hour_quote, self.venue_error_rate, self.latency_p95_ms,
                *self.inventory_base.values(), *self.data_age_ms.values()))):
            return  # the common case, checked without naming every input
        scalars: list[tuple[str, Number]] = [
            ("drawdown_quote", self.drawdown_quote),
            ("pnl_per_hour_quote", self.pnl_per_hour_quote),
            ("venue_error_rate", self.venue_error_rate),
            ("latency_p95_ms", self.latency_p95_ms),
        ]
        scalars += [(f"inventory_base[{s!r}]", v) for s, v in self.inventory_base.items()]
        scalars += [(f"data_age_ms[{s!r}]", v) for s, v in self.data_age_ms.items()]
        for name, value in scalars:
            if _is_nan(value):
                raise ValueError(f"RiskSnapshot.{name} is NaN")
        if self.venue_requests < 0:
            raise ValueError(f"RiskSnapshot.venue_requests must be >= 0, got {self.venue_requests}")


@dataclass(frozen=True, slots=True)
class Assessment:
    """The result of ``assess``: ``level == max(signal.level for signal in signals)``, OK without signals."""

    level: GuardLevel
    signals: tuple[GuardSignal, ...] = ()

    @property
    def reasons(self) -> tuple[GuardReason, ...]:
        """Distinct reasons, in signal order."""
        return tuple(dict.fromkeys(s.reason for s in self.signals))

    @classmethod
    def of(cls, signals: tuple[GuardSignal, ...]) -> Assessment:
        return cls(max((s.level for s in signals), default=GuardLevel.OK), signals)


def _is_nan(value: Number) -> bool:
    return value.is_nan() if isinstance(value, Decimal) else math.isnan(value)


def _fired(reason: GuardReason, value: Number, soft: Number, hard: Number, subject: str = "") -> GuardSignal:
    """The signal of a guard whose value reached ``min(soft, hard)``: HARD if value >= hard, else SOFT."""
    if value >= hard:
        return GuardSignal(reason, GuardLevel.HARD, float(value), float(hard), subject)
    return GuardSignal(reason, GuardLevel.SOFT, float(value), float(soft), subject)


def _abs(x: Number) -> Number:
    return abs(x) if isinstance(x, Decimal) else abs(float(x))


def _loss(pnl: Number) -> Number:
    return -pnl if isinstance(pnl, Decimal) else -float(pnl)


def _decimal(x: float) -> Decimal:
    """The decimal a config float was written as (0.7 -> Decimal('0.7'), not 0.69999...)."""
    return Decimal(repr(x))


_Limits: TypeAlias = tuple[Number, Number, Number]  # (soft, hard, min(soft, hard)): below the min, no signal
_CALM = Assessment(GuardLevel.OK)
_CIRCUIT_OPEN = GuardSignal(GuardReason.CIRCUIT_OPEN, GuardLevel.SOFT, 1.0, 1.0)


def _limits(soft: Number, hard: Number) -> _Limits:
    return soft, hard, min(soft, hard)


class Guards:
    """``assess`` against one ``RiskConfig``, its thresholds read once (a config is frozen; per-symbol inventory
    limits are derived on first use). ``assess(snapshot)`` equals the module's ``assess(snapshot, config)``."""

    __slots__ = ("_drawdown", "_inventory", "_latency", "_min_requests", "_pnl_rate", "_stale", "_venue", "config")

    def __init__(self, config: RiskConfig) -> None:
        self.config = config
        self._inventory: dict[str, _Limits] = {}
        self._drawdown = _limits(config.drawdown.soft_quote, config.drawdown.hard_quote)
        pr = config.pnl_rate
        self._pnl_rate = _limits(pr.soft_loss_per_hour_quote, pr.hard_loss_per_hour_quote)
        vh = config.venue_health
        self._min_requests = vh.min_requests
        self._venue = _limits(vh.soft_error_rate, vh.hard_error_rate)
        self._latency = _limits(config.latency.soft_p95_ms, config.latency.hard_p95_ms)
        self._stale = _limits(config.stale_data.soft_age_ms, config.stale_data.hard_age_ms)

    def _inventory_limits(self, symbol: str) -> _Limits:
        limits = self._inventory.get(symbol)
        if limits is None:
            inv = self.config.inventory
            hard = inv.hard_max_for(symbol)
            limits = self._inventory[symbol] = _limits(_decimal(inv.soft_fraction) * hard, hard)
        return limits

    def assess(self, snapshot: RiskSnapshot) -> Assessment:
        """Evaluate every guard on ``snapshot``; pure and deterministic (signals in a fixed order)."""
        found: list[GuardSignal] = []
        inventory = snapshot.inventory_base
        for symbol in sorted(inventory):
            soft, hard, low = self._inventory_limits(symbol)
            value = _abs(inventory[symbol])
            if value >= low:
                found.append(_fired(GuardReason.INVENTORY, value, soft, hard, symbol))
        soft, hard, low = self._drawdown
        if (value := snapshot.drawdown_quote) >= low:
            found.append(_fired(GuardReason.DRAWDOWN, value, soft, hard))
        soft, hard, low = self._pnl_rate
        if (value := _loss(snapshot.pnl_per_hour_quote)) >= low:
            found.append(_fired(GuardReason.PNL_RATE, value, soft, hard))
        soft, hard, low = self._venue
        if snapshot.venue_requests >= self._min_requests and snapshot.venue_error_rate >= low:
            found.append(_fired(GuardReason.VENUE_HEALTH, snapshot.venue_error_rate, soft, hard))
        soft, hard, low = self._latency
        if snapshot.latency_p95_ms >= low:
            found.append(_fired(GuardReason.LATENCY, snapshot.latency_p95_ms, soft, hard))
        ages = snapshot.data_age_ms
        soft, hard, low = self._stale
        for symbol in sorted(ages):
            if (age := ages[symbol]) >= low:
                found.append(_fired(GuardReason.STALE_DATA, age, soft, hard, symbol))
        if snapshot.circuit_open:
            found.append(_CIRCUIT_OPEN)
        return Assessment.of(tuple(found)) if found else _CALM


def assess(snapshot: RiskSnapshot, config: RiskConfig) -> Assessment:
    """Evaluate every guard on ``snapshot``; pure and deterministic (signals in a fixed order)."""
    return Guards(config).assess(snapshot)
