"""BotMetrics: every Prometheus metric of the bot, behind typed methods, in one private ``CollectorRegistry``.

The bot calls methods (``order_placed``, ``observe_quote_cycle``, ``record_guards``...), never metric objects, so
names, labels and units live here and in ``docs/metrics.md`` only. Each instance owns its registry (never the
process-global one): several bots, or several tests, coexist in one process.

Conventions (docs/metrics.md): every name starts with ``mmbot_``; the unit is the last word of the name
(``_ms``, ``_bps``, ``_quote``, ``_base``, ``_lots``); counters end in ``_total``. Latencies are in
milliseconds, not Prometheus' customary seconds, because the seed audit names its breakdown
``latency_breakdown_ms`` and one unit across all latency metrics beats two. The seed audit's three names are
provided as Prometheus recording rules (``docs/ops/recording.yml``) over ``mmbot_latency_breakdown_ms``,
``mmbot_guard_triggers_total`` and ``mmbot_adaptive_spread_score``.

Invariants: label cardinality is bounded (``MetricsConfig.max_series`` per family; the excess folds into one
``other`` series counted by ``mmbot_metrics_label_overflow_total``); values are never NaN-checked (the caller's
numbers are reported as given); nothing here reads a clock. Errors: ``ValueError`` for a negative counter
increment or an unknown risk level / circuit state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, SupportsFloat

from prometheus_client import CollectorRegistry, generate_latest

from bot.metrics.instruments import CounterFamily, FamilySet, GaugeFamily, HistogramFamily

__all__ = [
    "AUDIT_NAMES",
    "CIRCUIT_STATES",
    "LATENCY_BUCKETS_MS",
    "RISK_LEVELS",
    "SCORE_TYPES",
    "SLIPPAGE_BUCKETS_BPS",
    "WALL_CLOCK_FAMILIES",
    "BotMetrics",
    "GuardSignalLike",
    "MetricsConfig",
]

LATENCY_BUCKETS_MS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 150, 200, 250, 350, 500, 1000, 2500, 5000,
)
"""From 5 us (one pipeline stage) to 5 s (a stalled request); 150, 200 and 350 ms are the audit's targets."""

SLIPPAGE_BUCKETS_BPS: tuple[float, ...] = (-10, -5, -2.5, -1, -0.5, 0, 0.5, 1, 2.5, 5, 10, 25)
"""Signed: positive is a cost (paid above the mid on a buy); 2.5 bps is the audit's slippage ceiling."""

RISK_LEVELS: dict[str, int] = {"OK": 0, "SOFT": 1, "HARD": 2}
CIRCUIT_STATES: dict[str, int] = {"CLOSED": 0, "HALF_OPEN": 1, "OPEN": 2}
SCORE_TYPES: tuple[str, ...] = ("vol", "liq", "lat", "pnl")

AUDIT_NAMES: dict[str, str] = {
    "latency_breakdown_ms": "mmbot_latency_breakdown_ms",
    "guard_trigger_details": "mmbot_guard_triggers_total",
    "adaptive_spread_score": "mmbot_adaptive_spread_score",
}
"""Seed-audit name -> the family that carries it (the recording rules in docs/ops/recording.yml alias them)."""

WALL_CLOCK_FAMILIES: frozenset[str] = frozenset({"mmbot_decision_latency_ms", "mmbot_latency_breakdown_ms"})
"""Families the reference runner fills from a wall-clock timer (CPU time of the decision and its stages):
exclude them from ``snapshot`` when the snapshot goes into a deterministic simulation event log."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsConfig:
    """Bounds of ``BotMetrics``.

    ``max_series``: most label combinations per family (default 512: 16 symbols x 4 score types, or
    16 components x 20 reject reasons, fit with room); the excess folds into an ``other`` series.
    """

    max_series: int = 512

    def __post_init__(self) -> None:
        if self.max_series < 1:
            raise ValueError(f"MetricsConfig.max_series must be >= 1, got {self.max_series}")


class GuardSignalLike(Protocol):
    """What ``record_guards`` reads of a guard signal (``bot.risk.guards.GuardSignal`` fits)."""

    @property
    def reason(self) -> str: ...

    @property
    def level(self) -> int: ...

    @property
    def threshold_breached(self) -> str: ...

    @property
    def subject(self) -> str: ...


_LEVEL_NAMES = {v: k for k, v in RISK_LEVELS.items()}


class BotMetrics:
    """The bot's metrics. Lifecycle: build once per bot, update from the event loop, scrape any time."""

    def __init__(self, config: MetricsConfig | None = None) -> None:
        self.config = config or MetricsConfig()
        self.registry = CollectorRegistry(auto_describe=True)
        self._set = FamilySet()
        n = self.config.max_series

        def counter(name: str, doc: str, *labels: str) -> CounterFamily:
            family = CounterFamily(name, doc, labels, n)
            self._set.add(family)
            return family

        def gauge(name: str, doc: str, *labels: str) -> GaugeFamily:
            family = GaugeFamily(name, doc, labels, n)
            self._set.add(family)
            return family

        def histogram(name: str, doc: str, buckets: tuple[float, ...], *labels: str) -> HistogramFamily:
            family = HistogramFamily(name, doc, labels, n, buckets)
            self._set.add(family)
            return family

        ms = LATENCY_BUCKETS_MS
        # order flow
        self._placed = counter("mmbot_orders_placed_total", "Orders sent to the venue.", "symbol", "side")
        self._cancelled = counter("mmbot_orders_cancelled_total", "Orders confirmed cancelled.", "symbol")
        self._fills = counter("mmbot_fills_total", "Fills (executions, partial ones included).",
                              "symbol", "side", "liquidity")
        self._notional = counter("mmbot_fill_notional_quote_total", "Traded notional, quote currency.",
                                 "symbol", "liquidity")
        self._rejected = counter("mmbot_orders_rejected_total", "Orders rejected, by error code.", "symbol", "reason")
        self._slippage = histogram("mmbot_fill_slippage_bps", "Taker fill price vs the mid at decision, bps "
                                   "(signed buckets: no _sum/_count, per OpenMetrics).", SLIPPAGE_BUCKETS_BPS, "symbol")
        # PnL and inventory
        self._pnl = gauge("mmbot_pnl_net_quote", "Net PnL marked to the mid, fees included, quote currency.", "symbol")
        self._fees = gauge("mmbot_fees_paid_quote", "Fees paid so far (negative: rebates), quote currency.", "symbol")
        self._drawdown = gauge("mmbot_drawdown_quote", "Loss from the equity peak, quote currency.", "symbol")
        self._net_bps = gauge("mmbot_net_bps", "Net PnL per traded notional, bps.", "symbol")
        self._avg_slippage = gauge("mmbot_taker_slippage_bps", "Taker slippage per taker notional so far, bps.",
                                   "symbol")
        self._inv_lots = gauge("mmbot_inventory_lots", "Signed position, lots.", "symbol")
        self._inv_base = gauge("mmbot_inventory_base", "Signed position, base asset units.", "symbol")
        self._inv_limit = gauge("mmbot_inventory_limit_base", "Hard inventory limit, base asset units.", "symbol")
        # quoting
        self._spread = gauge("mmbot_quoted_spread_bps", "Spread the strategy decided (bid to ask), bps.", "symbol")
        self._scores = gauge("mmbot_adaptive_spread_score", "Adaptive-spread input scores in [0, 1].",
                             "symbol", "score_type")
        # latency
        self._cycle = histogram("mmbot_quote_cycle_latency_ms", "One quote cycle, end to end, ms.", ms, "symbol")
        self._decision = histogram("mmbot_decision_latency_ms", "Strategy decision (all stages), ms.", ms, "symbol")
        self._breakdown = histogram("mmbot_latency_breakdown_ms", "Latency by component (stage, rest, ws), ms.",
                                    ms, "component")
        self._venue_latency = histogram("mmbot_venue_request_latency_ms", "Venue request round trip, ms.",
                                        ms, "endpoint")
        self._venue_errors = counter("mmbot_venue_request_errors_total", "Venue requests that failed, by code.",
                                     "endpoint", "code")
        # venue
        self._up = gauge("mmbot_venue_up", "1 while the venue is reachable and streams are live, else 0.", "venue")
        self._reconnects = counter("mmbot_venue_reconnects_total", "Stream reconnections.", "venue", "stream")
        self._weight_used = gauge("mmbot_venue_request_weight_used", "Request weight used in the current minute.",
                                  "venue")
        self._weight_limit = gauge("mmbot_venue_request_weight_limit", "Request weight allowed per minute.", "venue")
        # risk
        self._risk_level = gauge("mmbot_risk_level", "Guard level: 0 OK, 1 SOFT (reduce-only), 2 HARD (halted).")
        self._circuit = gauge("mmbot_circuit_state", "Circuit breaker: 0 CLOSED, 1 HALF_OPEN, 2 OPEN.")
        self._guards = counter("mmbot_guard_triggers_total", "Guard signals that newly fired.",
                               "level", "reason", "threshold_breached")
        self._taker_cap = gauge("mmbot_taker_fills_limit_per_hour", "Taker fills per hour the dynamic cap allows.")
        self._overflow = counter("mmbot_metrics_label_overflow_total", "Label values folded into 'other'.", "metric")
        for family in self._set.families():  # zero series up front, so the first overflow shows as an increase
            if family is not self._overflow:
                self._overflow.child(family.name)
        self.registry.register(self._set)
        self._active_guards: frozenset[tuple[str, str, str, str]] = frozenset()

    # -- order flow ---------------------------------------------------------------------------------------------
    def order_placed(self, symbol: str, side: str) -> None:
        """An order was sent to the venue (``side`` ``BUY``/``SELL``); call once per order, retries excluded."""
        self._placed.child(symbol, side).inc()

    def order_cancelled(self, symbol: str) -> None:
        """The venue confirmed a cancel."""
        self._cancelled.child(symbol).inc()

    def order_filled(
        self, symbol: str, side: str, *, maker: bool, notional_quote: SupportsFloat,
        slippage_bps: float | None = None,
    ) -> None:
        """One fill (applied once, after deduplication). ``slippage_bps`` for taker fills: positive is a cost."""
        liquidity = "maker" if maker else "taker"
        self._fills.child(symbol, side, liquidity).inc()
        self._notional.child(symbol, liquidity).inc(float(notional_quote))
        if slippage_bps is not None:
            self._slippage.child(symbol).observe(slippage_bps)

    def order_rejected(self, symbol: str, reason: str) -> None:
        """An order was refused (venue reject or pre-trade check); ``reason`` is an ``ErrorCode`` value."""
        self._rejected.child(symbol, reason).inc()

    # -- PnL and inventory --------------------------------------------------------------------------------------
    def set_pnl(
        self, symbol: str, *, net_quote: SupportsFloat, fees_quote: SupportsFloat, drawdown_quote: SupportsFloat,
        net_bps: float, taker_slippage_bps: float | None = None,
    ) -> None:
        """The latest mark of one symbol's PnL (quote currency), edge and average taker slippage (bps)."""
        self._pnl.child(symbol).set(float(net_quote))
        self._fees.child(symbol).set(float(fees_quote))
        self._drawdown.child(symbol).set(float(drawdown_quote))
        self._net_bps.child(symbol).set(net_bps)
        if taker_slippage_bps is not None:
            self._avg_slippage.child(symbol).set(taker_slippage_bps)

    def set_inventory(
        self, symbol: str, *, lots: int, base: SupportsFloat, limit_base: SupportsFloat | None = None
    ) -> None:
        """Signed position in lots and base units; ``limit_base`` the hard limit when known."""
        self._inv_lots.child(symbol).set(lots)
        self._inv_base.child(symbol).set(float(base))
        if limit_base is not None:
            self._inv_limit.child(symbol).set(float(limit_base))

    # -- quote cycle --------------------------------------------------------------------------------------------
    def observe_quote_cycle(
        self, symbol: str, *, cycle_ms: float, decision_ms: float | None = None,
        components_ms: Mapping[str, float] | None = None, spread_bps: float | None = None,
        scores: Mapping[str, float] | None = None,
    ) -> None:
        """Everything one quote cycle measured, in one call (the hot path: about 1 us per value).

        ``components_ms``: latency per component (pipeline stage names or the audit's guards, spread, skew,
        queue; ``rest`` and ``ws``), into ``mmbot_latency_breakdown_ms``. ``scores``: the adaptive-spread
        scores by type (vol, liq, lat, pnl). ``None`` skips a part.
        """
        self._cycle.child(symbol).observe(cycle_ms)
        if decision_ms is not None:
            self._decision.child(symbol).observe(decision_ms)
        if components_ms:
            breakdown = self._breakdown
            for component, value in components_ms.items():
                breakdown.child(component).observe(value)
        if spread_bps is not None:
            self._spread.child(symbol).set(spread_bps)
        if scores:
            for score_type, value in scores.items():
                self._scores.child(symbol, score_type).set(value)

    def set_quote_state(
        self, symbol: str, *, spread_bps: float | None = None, scores: Mapping[str, float] | None = None
    ) -> None:
        """The latest decided spread and adaptive-spread scores, without a cycle sample (the bridge's gauges)."""
        if spread_bps is not None:
            self._spread.child(symbol).set(spread_bps)
        if scores:
            for score_type, value in scores.items():
                self._scores.child(symbol, score_type).set(value)

    def observe_decision(self, symbol: str, ms: float) -> None:
        """One decision-latency sample outside ``observe_quote_cycle`` (the pull-model bridge replays samples)."""
        self._decision.child(symbol).observe(ms)

    def observe_component(self, component: str, ms: float) -> None:
        """One latency-breakdown sample outside a cycle (e.g. ``ws``: how late a depth update arrived)."""
        self._breakdown.child(component).observe(ms)

    # -- venue --------------------------------------------------------------------------------------------------
    def observe_venue_request(self, endpoint: str, ms: float, *, error_code: str | None = None) -> None:
        """One venue request's round trip; ``error_code`` (an ``ErrorCode`` value) when it failed."""
        self._venue_latency.child(endpoint).observe(ms)
        if error_code is not None:
            self._venue_errors.child(endpoint, error_code).inc()

    def set_venue_up(self, venue: str, up: bool) -> None:
        self._up.child(venue).set(1.0 if up else 0.0)

    def venue_reconnected(self, venue: str, stream: str) -> None:
        """A stream (``market``, ``user``) was re-established after a loss."""
        self._reconnects.child(venue, stream).inc()

    def set_request_weight(self, venue: str, *, used: int, limit: int | None = None) -> None:
        """``X-MBX-USED-WEIGHT-1M`` of the latest response, and the per-minute limit when known."""
        self._weight_used.child(venue).set(used)
        if limit is not None:
            self._weight_limit.child(venue).set(limit)

    # -- risk ---------------------------------------------------------------------------------------------------
    def record_guards(self, level: int, signals: Iterable[GuardSignalLike]) -> int:
        """One risk assessment: sets ``mmbot_risk_level`` and counts the signals that newly fired.

        A signal counts once when it appears (or changes level), not on every assessment while it holds, so
        ``rate(mmbot_guard_triggers_total)`` is a rate of trigger events. Returns how many were counted.
        """
        self._risk_level.child().set(self._level_value(level))
        active = frozenset((_LEVEL_NAMES[s.level], str(s.reason), s.threshold_breached, s.subject) for s in signals)
        if active == self._active_guards:
            return 0
        new = active - self._active_guards
        self._active_guards = active
        for level_name, reason, threshold, _subject in sorted(new):
            self._guards.child(level_name, reason, threshold).inc()
        return len(new)

    def guard_triggered(self, level: str, reason: str, threshold_breached: str) -> None:
        """Count one trigger directly (for guards outside ``record_guards``, e.g. the kill switch)."""
        self._guards.child(level, reason, threshold_breached).inc()

    def set_risk_level(self, level: int | str) -> None:
        self._risk_level.child().set(self._level_value(level))

    def set_circuit_state(self, state: str) -> None:
        """``CLOSED``, ``HALF_OPEN`` or ``OPEN`` (``bot.risk.circuit.CircuitState`` values)."""
        if state not in CIRCUIT_STATES:
            raise ValueError(f"unknown circuit state {state!r}; known: {list(CIRCUIT_STATES)}")
        self._circuit.child().set(CIRCUIT_STATES[state])

    def set_taker_cap(self, fills_per_hour: int) -> None:
        self._taker_cap.child().set(fills_per_hour)

    @staticmethod
    def _level_value(level: int | str) -> int:
        value = RISK_LEVELS.get(level) if isinstance(level, str) else int(level)
        if value not in _LEVEL_NAMES:
            raise ValueError(f"unknown risk level {level!r}; known: {list(RISK_LEVELS)}")
        return value

    # -- reading ------------------------------------------------------------------------------------------------
    def _sync_overflow(self) -> None:
        for family in self._set.families():
            if family.overflows and family is not self._overflow:
                self._overflow.child(family.name).value = float(family.overflows)

    def family_names(self) -> list[str]:
        """Every family's name as exported (counters with ``_total``), sorted."""
        return sorted(f.name for f in self._set.families())

    def render(self) -> bytes:
        """The Prometheus text exposition format (what ``/metrics`` serves)."""
        self._sync_overflow()
        return generate_latest(self.registry)

    def snapshot(self, *, buckets: bool = False, exclude: Iterable[str] = ()) -> dict[str, float]:
        """Current values as ``{'name{label="v",...}': value}`` in sorted order.

        Histograms give ``_sum`` and ``_count`` (and ``_bucket`` series when ``buckets``); families named in
        ``exclude`` are left out (pass ``WALL_CLOCK_FAMILIES`` for a deterministic simulation log).
        """
        self._sync_overflow()
        skip = frozenset(exclude)
        out: dict[str, float] = {}
        for metric in self._set.collect():
            family = metric.name + "_total" if metric.type == "counter" else metric.name
            if family in skip:
                continue
            for sample in metric.samples:
                if not buckets and sample.name.endswith("_bucket"):
                    continue
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                out[f"{sample.name}{{{labels}}}" if labels else sample.name] = float(sample.value)
        return dict(sorted(out.items()))
