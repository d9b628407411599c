"""BandStage: drop desired quotes outside a static price band or too far from a reference price.

A quote survives when ``floor_ticks <= price_ticks <= ceiling_ticks`` and, with ``max_distance_bps`` set,
``|price_ticks - ref| <= max_distance_bps * ref / 1e4`` where ``ref`` is ``ctx.reference_ticks`` (mid if None).
The static prices are ``Decimal`` in the config and converted once, exactly, to ticks of the symbol's grid: the
floor rounds up and the ceiling down, so a quote on the grid is inside the band iff its price is. A non-finite
reference drops everything (fail closed). The stage only removes quotes, so it keeps every ladder invariant.
"""

from __future__ import annotations

import math

from bot.core.types import SymbolInfo
from bot.strategy.config import BandConfig
from bot.strategy.context import QuoteContext

__all__ = ["BandStage"]


class BandStage:
    """Keep only the desired quotes inside the band (module docstring)."""

    name = "band"

    def __init__(self, config: BandConfig, info: SymbolInfo) -> None:
        self.config = config
        tick = info.tick_size
        self.floor_ticks: int | None = None if config.price_floor is None else math.ceil(config.price_floor / tick)
        self.ceiling_ticks: int | None = (
            None if config.price_ceiling is None else math.floor(config.price_ceiling / tick)
        )
        self._distance = None if config.max_distance_bps is None else config.max_distance_bps / 1e4
        self._static = (
            -math.inf if self.floor_ticks is None else float(self.floor_ticks),
            math.inf if self.ceiling_ticks is None else float(self.ceiling_ticks),
        )
        self._active = self.floor_ticks is not None or self.ceiling_ticks is not None or self._distance is not None

    def process(self, ctx: QuoteContext) -> QuoteContext:
        if not self._active or not ctx.desired:
            return ctx
        lo, hi = self._static
        if self._distance is not None:
            ref = ctx.mid_ticks if ctx.reference_ticks is None else ctx.reference_ticks
            if not -math.inf < ref < math.inf:
                ctx.desired = ()
                return ctx
            reach = self._distance * abs(ref)
            lo, hi = max(lo, ref - reach), min(hi, ref + reach)
        ctx.desired = tuple(q for q in ctx.desired if lo <= q.price_ticks <= hi)
        return ctx
