"""The state one quote cycle flows through: ``QuoteContext`` (inputs, then each stage's outputs) and ``Resting``.

Lifecycle: the caller builds a fresh context per cycle from market data, the order manager and the risk view;
the pipeline's stages read inputs and earlier stages' outputs and write their own outputs; the caller reads
``desired`` (the quotes that should rest; empty means pull everything) and ``halted``/``halt_reasons``.

``QuoteContext`` is a *mutable* dataclass with slots: a stage writes its outputs in place and returns the same
object (a frozen copy per stage would cost several microseconds of ``replace`` per stage in a cycle budgeted at
well under 70 us). Stages stay pure: their outputs depend only on the context and their config, with no I/O and no
clock reads (time is ``now_s``). A caller that needs the inputs untouched passes ``ctx.copy()``.

Invariants the stages keep: every score is in [0, 1]; ``spread_bps`` is within the adaptive-spread bounds once
set; every desired bid is below every desired ask, and (from the ladder on) below ``mid_ticks`` (asks above it).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.types import ClientOrderId, Quote, Side, SymbolInfo

__all__ = ["QuoteContext", "Resting"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Resting:
    """One of our orders resting on the venue, as the order manager and the queue tracker see it."""

    client_order_id: ClientOrderId
    side: Side
    price_ticks: int
    qty_lots: int
    age_s: float
    queue_ahead_lots: int = 0  # lots ahead of us at our price (price-time priority)


@dataclass(slots=True, kw_only=True)
class QuoteContext:
    """Inputs of one quote cycle and the outputs the stages write (see the module docstring)."""

    # -- inputs: market -------------------------------------------------------------------------------------------
    symbol: str
    info: SymbolInfo
    now_s: float  # monotonic seconds (virtual in simulation)
    best_bid_ticks: int
    best_ask_ticks: int
    best_bid_lots: int
    best_ask_lots: int
    mid_ticks: float  # fair mid on the tick scale (book mid or microprice)
    volatility_bps: float = 0.0  # short-horizon realised volatility of mid
    touch_depth_lots: int = 0  # liquidity: lots at the best bid + best ask (thin book -> wider spread)
    latency_ms: float = 0.0  # recent venue round-trip p95
    pnl_bps: float = 0.0  # recent PnL in bps of traded notional (negative: losing)
    reference_ticks: float | None = None  # reference for a moving price band (index, last trade); None: mid
    trade_through: bool = False  # a public trade went through one of our resting prices since the last quote
    trade_flow: float = 0.0  # decayed signed public-trade flow, buys positive (bot.market.flow.TradeFlow units)
    # -- inputs: account and risk ---------------------------------------------------------------------------------
    inventory_lots: int = 0
    max_inventory_lots: int | None = None  # the hard inventory limit; None: only the skew's max_inventory_quote
    target_inventory_lots: int | None = None  # None: the symbol's configured target (strategy.sizes)
    risk_level: str = "OK"  # "OK", "SOFT" (reduce-only) or "HARD" (halted), from RiskView.level()
    risk_reasons: tuple[str, ...] = ()
    taker_fills_remaining: int = 0  # taker fills the risk layer's cap still allows
    resting: tuple[Resting, ...] = ()
    last_fill_s: Mapping[Side, float] = field(default_factory=dict)  # now_s of the latest fill per side
    mid_at_last_quote_ticks: float | None = None  # mid when the resting quotes were decided; None: no quotes
    # -- outputs ----------------------------------------------------------------------------------------------------
    scores: dict[str, float] = field(default_factory=dict)  # "vol", "liq", "lat", "pnl", each in [0, 1]
    spread_bps: float | None = None  # total spread (bid to ask) before rounding; None: not decided
    reservation_ticks: float | None = None  # price the quotes centre on; None: mid
    bid_size_lots: int | None = None  # per-level size; None: the ladder's size
    ask_size_lots: int | None = None
    allowed_sides: frozenset[Side] = frozenset({Side.BUY, Side.SELL})  # sides that may be quoted at all
    taker_allowed: bool = True  # False: nothing may cross the book (taker cap exhausted)
    bid_nudge_ticks: int = 0  # queue-aware: +1 improve, 0 join, -1 back off (applied by the ladder)
    ask_nudge_ticks: int = 0
    desired: tuple[Quote, ...] = ()  # the quotes that should rest; empty: pull everything
    refresh: tuple[ClientOrderId, ...] = ()  # resting orders to re-place for age, even at a desired price
    halted: bool = False  # a stage stopped the pipeline; desired is then empty
    halt_reasons: tuple[str, ...] = ()
    timings_ns: dict[str, int] = field(default_factory=dict)  # ns per stage, when the pipeline has a timer

    def halt(self, *reasons: str) -> QuoteContext:
        """Stop the cycle: no quotes rest (the order manager pulls everything); returns ``self``."""
        self.halted = True
        self.halt_reasons = (*self.halt_reasons, *reasons)
        self.desired = ()
        return self

    def copy(self) -> QuoteContext:
        """A copy whose outputs can be written without touching this one (inputs are immutable or shared)."""
        twin = copy.copy(self)
        twin.scores = dict(self.scores)
        twin.timings_ns = dict(self.timings_ns)
        return twin

    @property
    def reservation_or_mid_ticks(self) -> float:
        return self.mid_ticks if self.reservation_ticks is None else self.reservation_ticks

    def bids(self) -> tuple[Quote, ...]:
        return tuple(q for q in self.desired if q.side is Side.BUY)

    def asks(self) -> tuple[Quote, ...]:
        return tuple(q for q in self.desired if q.side is Side.SELL)
