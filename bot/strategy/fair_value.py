"""FairValueStage: move the reservation price to a short-horizon fair value estimated from the public trade flow.

Why: informed traders take every quote priced worse than the latent fair price by more than a fraction of a
tick, and that fair price runs ahead of the book mid after a run of same-signed trades (each market order moves
it by about ``sqrt(size)``; market-order signs are long-memory). The flow of recent public trades predicts
``fair - mid`` (``bot.market.flow.TradeFlow``), so leaning the quotes by that prediction moves the quote the
informed flow is about to hit away from the touch, while the other side stays at the touch (the ladder caps it
there): an asymmetric spread that trades the side where fills are cheap.

Formula (``flow`` = ``ctx.trade_flow``, buys positive; ``r`` = reservation so far, mid if none; ticks)::

    offset_bps = clamp(gain * flow_bps_per_unit * flow, -max_shift_bps, max_shift_bps)
    r'         = r + offset_bps * mid / 1e4

Invariants: ``|r' - r| <= max_shift_bps * mid / 1e4``; the offset is 0 for zero or non-finite flow (no
direction is known) and monotone (non-decreasing) in the flow; the stage writes only ``reservation_ticks``, so
the ladder's clamps still keep every bid < mid < every ask. Pure: no I/O, no clock; never raises on odd inputs.
"""

from __future__ import annotations

import math

from bot.strategy.config import FairValueConfig
from bot.strategy.context import QuoteContext

__all__ = ["FairValueStage"]


class FairValueStage:
    """Lean the reservation price with the trade flow (module docstring)."""

    name = "fair_value"

    def __init__(self, config: FairValueConfig) -> None:
        self.config = config
        self._slope_bps = config.gain * config.flow_bps_per_unit
        self._max_bps = config.max_shift_bps

    def offset_bps(self, flow: float) -> float:
        """``clamp(gain * flow_bps_per_unit * flow, -max_shift_bps, max_shift_bps)``; 0 for a non-finite flow."""
        if not -math.inf < flow < math.inf:
            return 0.0
        return min(self._max_bps, max(-self._max_bps, self._slope_bps * flow))

    def process(self, ctx: QuoteContext) -> QuoteContext:
        offset = self.offset_bps(ctx.trade_flow)
        if offset:
            ctx.reservation_ticks = ctx.reservation_or_mid_ticks + offset * ctx.mid_ticks / 1e4
        return ctx
