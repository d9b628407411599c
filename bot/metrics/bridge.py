"""MetricsSampler: the pull-model bridge from a running bot's own state to ``BotMetrics``, off the hot path.

The quote loop, the order manager and the risk engine already count what they do (``QuoterStats``,
``ExecutionStats``, ``RiskEngine.counters``, ``PnlTracker``, latency histograms). The sampler reads those every
``interval_s`` and updates ``BotMetrics``: gauges are set to the current value, counters grow by the delta
since the previous sample, histograms receive the samples recorded since the previous sample (replayed from
the quoters' ``LatencyHistogram`` bucket deltas at each bucket's geometric mid-point, so within the
histogram's ~2 % relative error). The quote loop pays nothing for metrics: no call in the cycle.

Sources (all read, never written):

* per quoter (``SymbolQuoter``): ``pnl`` -> PnL, fees, drawdown, net bps, taker slippage gauges;
  ``stats.latency`` -> ``decision_us`` (decision latency, per symbol), ``<stage>_us`` / ``rest_ms`` / ``ws_ms``
  (latency breakdown by component ``<stage>``, ``rest``, ``ws``), ``rest_ms`` also as the quote-cycle latency of
  the cycles that changed orders (a cycle without venue I/O costs microseconds: not observed);
  ``strategy`` when it is a ``DecisionTap`` -> quoted spread and adaptive-spread scores (otherwise the spread
  is read from the bot's resting orders);
* the app: inventory and its hard limit, ``risk`` (level; ``counters`` deltas -> guard triggers),
  ``circuit.state``, the taker cap of the current volatility, ``orders.stats.risk_rejected`` deltas (pre-trade
  refusals, labelled with the symbol when the bot trades one, else ``any``);
* fills: one listener registered with ``app.add_fill_listener`` at construction (fills per side and liquidity,
  notional, taker slippage against the mid the quoter last saw), exactly once per booked fill;
* optional: ``venue_up()`` and ``weight()`` callables for the venue gauges (``bot.live`` passes the
  connector's).

Order counters per symbol and side (placed, cancelled, venue rejects) and venue request latency come from
``bot.connectors.metered.MeteredVenue``, which sits on the I/O path, not the quote loop.

``snapshot_record()`` is ``metrics.snapshot(exclude=WALL_CLOCK_FAMILIES)`` as a plain dict: deterministic in a
simulation (no wall-clock family, no timestamp), ready for ``log.record(t_us, "metrics", ...)``.

This module imports only ``bot.core`` and ``bot.metrics``: the app and the quoters are read through the
structural Protocols below. Errors: none of its own; a sample never raises on missing optional parts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from bot.core.types import Fill, SymbolInfo
from bot.metrics.registry import WALL_CLOCK_FAMILIES, BotMetrics

__all__ = ["DecisionTap", "HistogramDelta", "MetricsSampler", "SamplerConfig"]

ATOMS = 1e-8  # quote atoms -> quote units (ADR 0003)


# -- what the sampler reads (structural: bot.app / bot.quoting are not imported) -----------------------------------
class LatencyHistogramLike(Protocol):
    count: int
    min_value: float
    growth: float
    _buckets: dict[int, int]


class PnlLike(Protocol):
    equity_atoms: float
    quote_fee_atoms: int
    taker_notional_atoms: int

    @property
    def drawdown_atoms(self) -> float: ...

    @property
    def net_bps(self) -> float: ...

    @property
    def slippage_bps(self) -> float: ...


class QuoterStatsLike(Protocol):
    latency: dict[str, Any]


class QuoterLike(Protocol):
    symbol: str
    info: SymbolInfo
    pnl: Any
    stats: Any
    strategy: Any


class _AppLike(Protocol):
    @property
    def symbols(self) -> Mapping[str, SymbolInfo]: ...

    risk: Any
    circuit: Any
    taker_cap: Any
    orders: Any
    volatility_bps: dict[str, float]
    mids_ticks: dict[str, int]

    def max_inventory_lots(self, symbol: str) -> int: ...

    def add_fill_listener(self, listener: Callable[[Fill], None]) -> None: ...


# -- decision tap -------------------------------------------------------------------------------------------------
class _DecisionView(Protocol):
    spread_bps: float | None
    scores: dict[str, float]


C = TypeVar("C", bound=_DecisionView)


class _Strategy(Protocol[C]):
    @property
    def name(self) -> str: ...

    def decide(self, ctx: C) -> C: ...


class DecisionTap(Generic[C]):
    """A strategy decorator that keeps the last decision's spread and scores for the sampler.

    Cost per decision: one call and two attribute stores (the scores dict is kept by reference: the strategy
    builds a new context each cycle). Behaviour is the wrapped strategy's, unchanged.
    """

    __slots__ = ("inner", "last_scores", "last_spread_bps")

    def __init__(self, inner: _Strategy[C]) -> None:
        self.inner = inner
        self.last_spread_bps: float | None = None
        self.last_scores: dict[str, float] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    def decide(self, ctx: C) -> C:
        out = self.inner.decide(ctx)
        self.last_spread_bps = ctx.spread_bps
        self.last_scores = ctx.scores
        return out


# -- histogram deltas ---------------------------------------------------------------------------------------------
class HistogramDelta:
    """The samples a ``LatencyHistogram`` received since the previous ``take``, as (value, count) pairs.

    Reads the histogram's bucket counts (its only record of the samples) and remembers them; a value is the
    bucket's geometric mid-point (bucket 0: ``min_value``), in the histogram's unit. O(buckets) per take, and
    nothing when the count did not move.
    """

    __slots__ = ("_count", "_seen")

    def __init__(self) -> None:
        self._seen: dict[int, int] = {}
        self._count = 0

    def take(self, hist: LatencyHistogramLike) -> list[tuple[float, int]]:
        if hist.count == self._count:
            return []
        self._count = hist.count
        buckets = dict(hist._buckets)
        seen = self._seen
        out = []
        for index in sorted(buckets):
            n = buckets[index] - seen.get(index, 0)
            if n > 0:
                value = hist.min_value if index == 0 else hist.min_value * float(hist.growth ** (index + 0.5))
                out.append((value, n))
        self._seen = buckets
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class SamplerConfig:
    """``wall_clock``: replay the wall-clock latency histograms (decision and stage CPU time, and the
    breakdown family); a simulation whose snapshots exclude them anyway can turn it off to save CPU.
    ``venue``: the ``venue`` label of the venue gauges."""

    wall_clock: bool = True
    venue: str = "venue"


@dataclass(slots=True)
class _Seen:
    risk_counters: dict[tuple[str, str, str], int] = field(default_factory=dict)
    risk_rejected: int = 0


class MetricsSampler:
    """Reads ``app`` and ``quoters`` into ``metrics``. ``sample()`` once, or ``await run(interval_s)`` as a task."""

    def __init__(
        self, app: _AppLike, quoters: Sequence[QuoterLike], metrics: BotMetrics, *,
        config: SamplerConfig | None = None, venue_up: Callable[[], bool] | None = None,
        weight: Callable[[], tuple[int, int | None] | None] | None = None,
    ) -> None:
        self.app = app
        self.quoters = list(quoters)
        self.metrics = metrics
        self.config = config or SamplerConfig()
        self._venue_up = venue_up
        self._weight = weight
        self._deltas: dict[tuple[str, str], HistogramDelta] = {}
        self._seen = _Seen()
        self.samples = 0
        app.add_fill_listener(self._on_fill)

    # -- fills (listener: once per booked fill) --
    def _on_fill(self, fill: Fill) -> None:
        info = self.app.symbols.get(fill.symbol)
        if info is None:
            return
        slippage = None
        if not fill.is_maker:
            mid = self.app.mids_ticks.get(fill.symbol)
            if mid is not None and fill.quote_atoms > 0:
                mid_value = mid * fill.qty_lots * info.quote_atoms_per_tick_lot
                slippage = 1e4 * fill.side.sign * (fill.quote_atoms - mid_value) / fill.quote_atoms
        self.metrics.order_filled(fill.symbol, fill.side.value, maker=fill.is_maker,
                                  notional_quote=fill.quote_atoms * ATOMS, slippage_bps=slippage)

    # -- sampling --
    def sample(self) -> None:
        """Bring every metric up to date with the app's state now."""
        self.samples += 1
        for quoter in self.quoters:
            self._sample_quoter(quoter)
        self._sample_risk()
        self._sample_venue()

    async def run(self, interval_s: float = 1.0) -> None:
        """Sample every ``interval_s`` (loop clock: virtual in a simulation) until cancelled."""
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s}")
        while True:
            self.sample()
            await asyncio.sleep(interval_s)

    def snapshot_record(self) -> dict[str, float]:
        """The deterministic metrics snapshot (no wall-clock family): the fields of a ``metrics`` log record."""
        return self.metrics.snapshot(exclude=WALL_CLOCK_FAMILIES)

    def _sample_quoter(self, quoter: QuoterLike) -> None:
        metrics, app, symbol, info = self.metrics, self.app, quoter.symbol, quoter.info
        pnl: PnlLike = quoter.pnl
        metrics.set_pnl(symbol, net_quote=pnl.equity_atoms * ATOMS, fees_quote=pnl.quote_fee_atoms * ATOMS,
                        drawdown_quote=pnl.drawdown_atoms * ATOMS, net_bps=pnl.net_bps,
                        taker_slippage_bps=pnl.slippage_bps if pnl.taker_notional_atoms else None)
        lots = app.orders.inventory_lots(symbol)
        metrics.set_inventory(symbol, lots=lots, base=info.qty(lots),
                              limit_base=info.qty(app.max_inventory_lots(symbol)))
        strategy = quoter.strategy
        if isinstance(strategy, DecisionTap):
            spread, scores = strategy.last_spread_bps, strategy.last_scores
        else:
            spread, scores = self._resting_spread_bps(symbol), {}
        metrics.set_quote_state(symbol, spread_bps=spread, scores=scores)
        self._replay_latency(quoter)

    def _resting_spread_bps(self, symbol: str) -> float | None:
        resting = [r for r in self.app.orders.open_orders(symbol) if r.price_ticks is not None]
        bids = [r.price_ticks for r in resting if r.side.value == "BUY"]
        asks = [r.price_ticks for r in resting if r.side.value == "SELL"]
        if not bids or not asks:
            return None
        bid, ask = max(bids), min(asks)
        return 1e4 * (ask - bid) / ((ask + bid) / 2) if ask + bid > 0 else None

    def _replay_latency(self, quoter: QuoterLike) -> None:
        metrics, symbol = self.metrics, quoter.symbol
        wall_clock = self.config.wall_clock
        for name, hist in sorted(quoter.stats.latency.items()):
            if name == "rest_ms":
                samples = self._delta(symbol, name).take(hist)
                for value, n in samples:
                    for _ in range(n):
                        metrics.observe_quote_cycle(symbol, cycle_ms=value)
                        if wall_clock:
                            metrics.observe_component("rest", value)
                continue
            if not wall_clock:
                continue
            samples = self._delta(symbol, name).take(hist)
            if name == "decision_us":
                for value, n in samples:
                    for _ in range(n):
                        metrics.observe_decision(symbol, value / 1000)
            elif name.endswith("_us"):
                component = name[:-3]
                for value, n in samples:
                    for _ in range(n):
                        metrics.observe_component(component, value / 1000)
            elif name.endswith("_ms"):
                component = name[:-3]
                for value, n in samples:
                    for _ in range(n):
                        metrics.observe_component(component, value)

    def _delta(self, symbol: str, name: str) -> HistogramDelta:
        key = (symbol, name)
        delta = self._deltas.get(key)
        if delta is None:
            delta = self._deltas[key] = HistogramDelta()
        return delta

    def _sample_risk(self) -> None:
        metrics, app, seen = self.metrics, self.app, self._seen
        metrics.set_risk_level(app.risk.level())
        counters: Mapping[tuple[str, str, str], int] = app.risk.counters
        for key in sorted(counters):
            n = counters[key] - seen.risk_counters.get(key, 0)
            for _ in range(max(0, n)):
                metrics.guard_triggered(*key)
        seen.risk_counters = dict(counters)
        metrics.set_circuit_state(str(app.circuit.state.value))
        volatility = max(app.volatility_bps.values(), default=0.0)
        metrics.set_taker_cap(int(app.taker_cap.cap_per_hour(volatility)))
        rejected = int(app.orders.stats.risk_rejected)
        if rejected > seen.risk_rejected:
            symbols = sorted(app.symbols)
            label = symbols[0] if len(symbols) == 1 else "any"
            for _ in range(rejected - seen.risk_rejected):
                metrics.order_rejected(label, "RISK_REJECTED")
        seen.risk_rejected = rejected

    def _sample_venue(self) -> None:
        venue = self.config.venue
        if self._venue_up is not None:
            self.metrics.set_venue_up(venue, self._venue_up())
        if self._weight is not None:
            weight = self._weight()
            if weight is not None:
                self.metrics.set_request_weight(venue, used=weight[0], limit=weight[1])
