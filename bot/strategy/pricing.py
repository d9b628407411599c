"""The pricing stages: adaptive spread, inventory skew and queue-aware nudges. Each decides numbers, not orders.

Invariants: scores are in [0, 1] whatever the inputs (NaN counts as the worst case, 1); ``spread_bps`` is always
within ``[min_spread_bps, max_spread_bps]``; the reservation price is within ``max_skew_bps`` of mid; nudges are
-1, 0 or +1 tick. None of these stages can make a side cross: the ladder turns their numbers into prices and
keeps bid < mid < ask. No stage raises on odd market inputs.
"""

from __future__ import annotations

import math

from bot.core.types import Side
from bot.strategy.config import AdaptiveSpreadConfig, InventorySkewConfig, QueueAwareConfig
from bot.strategy.context import QuoteContext

__all__ = ["AdaptiveSpreadStage", "InventorySkewStage", "QueueAwareStage", "unit_score"]

_BUY, _SELL = Side.BUY, Side.SELL  # module constants: enum attribute access costs ~0.1 us on Python 3.11


def unit_score(x: float) -> float:
    """``x`` clamped to [0, 1]; NaN is the worst case (1.0)."""
    return x if 0.0 <= x <= 1.0 else (0.0 if x < 0.0 else 1.0)  # NaN fails both comparisons: 1.0


def _clamp(x: float, lo: float, hi: float) -> float:
    return hi if math.isnan(x) else min(hi, max(lo, x))


class AdaptiveSpreadStage:
    """Widen the spread with risk: four scores in [0, 1], one weighted sum, one clamp.

    Scores::

        vol = clamp(volatility_bps / vol_full_bps)
        liq = clamp(1 - touch_depth_lots / liq_full_depth_lots)          (thin book -> 1)

    ``liq_full_depth_lots`` is ``liq_full_depth_quote`` in the symbol's lots at its price at start
    (``bot.strategy.sizes``).
        lat = clamp((latency_ms - lat_ok_ms) / (lat_bad_ms - lat_ok_ms))
        pnl = clamp(-pnl_bps / pnl_loss_full_bps)                          (losing -> 1, winning -> 0)

    Spread (total, bid to ask)::

        spread_bps = clamp(base_spread_bps * (1 + sum_i sensitivity_i * score_i), min_spread_bps, max_spread_bps)

    The clamp is applied always, so the spread is within bounds whatever the inputs or sensitivities.
    """

    name = "adaptive_spread"

    def __init__(self, config: AdaptiveSpreadConfig, liq_full_depth_lots: int) -> None:
        if liq_full_depth_lots < 1:
            raise ValueError(f"liq_full_depth_lots must be >= 1, got {liq_full_depth_lots!r}")
        self.config = config
        # plain floats: the hot path reads attributes, not the pydantic model
        self._vol_full = config.vol_full_bps
        self._liq_full = float(liq_full_depth_lots)
        self._lat_ok = config.lat_ok_ms
        self._lat_span = config.lat_bad_ms - config.lat_ok_ms
        self._pnl_full = config.pnl_loss_full_bps
        self._weights = (config.vol_sensitivity, config.liq_sensitivity, config.lat_sensitivity,
                         config.pnl_sensitivity)
        self._base, self._min, self._max = config.base_spread_bps, config.min_spread_bps, config.max_spread_bps

    def scores(self, ctx: QuoteContext) -> dict[str, float]:
        return {
            "vol": unit_score(ctx.volatility_bps / self._vol_full),
            "liq": unit_score(1.0 - ctx.touch_depth_lots / self._liq_full),
            "lat": unit_score((ctx.latency_ms - self._lat_ok) / self._lat_span),
            "pnl": unit_score(-ctx.pnl_bps / self._pnl_full),
        }

    def spread_bps(self, scores: dict[str, float]) -> float:
        w_vol, w_liq, w_lat, w_pnl = self._weights
        weighted = w_vol * scores["vol"] + w_liq * scores["liq"] + w_lat * scores["lat"] + w_pnl * scores["pnl"]
        return _clamp(self._base * (1.0 + weighted), self._min, self._max)

    def process(self, ctx: QuoteContext) -> QuoteContext:
        ctx.scores = self.scores(ctx)
        ctx.spread_bps = self.spread_bps(ctx.scores)
        return ctx


class InventorySkewStage:
    """Lean prices and sizes against inventory so fills pull it back to target.

    Normalised inventory and reservation price (ticks)::

        q_norm = clamp((inventory_lots - target_lots) / limit_lots, -1, 1)
        r      = mid - q_norm * max_skew_bps * mid / 1e4

    ``limit_lots`` is the context's ``max_inventory_lots`` (the hard inventory limit), capped at
    ``max_inventory_quote`` converted to lots at the mid when that is set (``quote / (mid_ticks * tick_size *
    step_size)``, at least 1): the skew saturates at a notional, whatever the symbol's price and lot size. With
    neither, ``q_norm`` raises ``ValueError`` (a wiring bug: the quote loop always gives the hard limit).
    ``target_lots`` is the context's ``target_inventory_lots``, else the symbol's configured target.

    Derivation: Avellaneda-Stoikov's reservation price is ``r = s - q * gamma * sigma^2 * (T - t)``, linear in
    inventory ``q`` with slope ``gamma * sigma^2 * (T - t)``. Holding that slope fixed (a constant risk budget over
    a rolling horizon) and expressing it as "the shift at the inventory limit", ``max_skew_bps * s / 1e4``, gives
    the line above; saturating ``q_norm`` at +-1 bounds the shift to ``max_skew_bps`` of mid. The shift is zero at
    target and monotone (non-increasing) in inventory.

    Sizes: the side that would push inventory further from target (BUY when ``q_norm > 0``, SELL when
    ``q_norm < 0``) shrinks to ``floor(size * (1 - size_skew * |q_norm|))``; the other side keeps its size.

    The stage never makes a side cross: it only moves the centre; the ladder rounds to the grid and keeps
    bid < mid < ask (a reservation beyond the half-spread puts the reducing side one tick inside mid).
    """

    name = "inventory_skew"

    def __init__(self, config: InventorySkewConfig, base_size_lots: int, *, target_inventory_lots: int = 0) -> None:
        self.config = config
        self.base_size_lots = base_size_lots
        self._target = target_inventory_lots
        self._max_skew = config.max_skew_bps / 1e4
        self._size_skew = config.size_skew
        self._limit_quote = config.max_inventory_quote
        self._quote_per_tick_lot: dict[str, float] = {}

    def q_norm(self, ctx: QuoteContext) -> float:
        """``clamp((inventory - target) / limit, -1, 1)``; raises ``ValueError`` on a limit <= 0 or none at all (a
        wiring bug)."""
        target = self._target if ctx.target_inventory_lots is None else ctx.target_inventory_lots
        limit = ctx.max_inventory_lots
        if self._limit_quote is not None and ctx.mid_ticks > 0:
            unit = self._quote_per_tick_lot.get(ctx.symbol)
            if unit is None:
                unit = self._quote_per_tick_lot[ctx.symbol] = float(ctx.info.tick_size * ctx.info.step_size)
            quote_limit = max(1, int(self._limit_quote / (ctx.mid_ticks * unit)))
            limit = quote_limit if limit is None else min(limit, quote_limit)
        if limit is None:
            raise ValueError("max_inventory_lots: the context gives no inventory limit and max_inventory_quote is off")
        if limit <= 0:
            raise ValueError(f"max_inventory_lots must be > 0, got {limit}")
        return _clamp((ctx.inventory_lots - target) / limit, -1.0, 1.0)

    def process(self, ctx: QuoteContext) -> QuoteContext:
        q = self.q_norm(ctx)
        ctx.reservation_ticks = ctx.mid_ticks - q * self._max_skew * ctx.mid_ticks
        bid = self.base_size_lots if ctx.bid_size_lots is None else ctx.bid_size_lots
        ask = self.base_size_lots if ctx.ask_size_lots is None else ctx.ask_size_lots
        shrink = 1.0 - self._size_skew * abs(q)
        if q > 0:
            bid = math.floor(bid * shrink)
        elif q < 0:
            ask = math.floor(ask * shrink)
        ctx.bid_size_lots, ctx.ask_size_lots = max(0, bid), max(0, ask)
        return ctx


class QueueAwareStage:
    """One-tick nudges per side from our queue position and the book imbalance.

    ``imbalance = (best_bid_lots - best_ask_lots) / (best_bid_lots + best_ask_lots)`` in [-1, 1]. For our bid:

    * back off (-1) when ``imbalance <= -back_off_imbalance`` (sellers dominate: the bid is about to be run over);
    * else improve (+1) when the market spread is at least ``improve_min_spread_ticks`` and the lots ahead of us
      at the best bid (all of them if we are not resting there) are at least ``improve_queue_fraction`` of it;
    * else join (0).

    The ask mirrors it. The ladder applies the nudge and then its clamps, so a nudge never crosses.
    """

    name = "queue_aware"

    def __init__(self, config: QueueAwareConfig) -> None:
        self.config = config
        self._improve_fraction = config.improve_queue_fraction
        self._improve_min_spread = config.improve_min_spread_ticks
        self._back_off = config.back_off_imbalance

    @staticmethod
    def imbalance(ctx: QuoteContext) -> float:
        total = ctx.best_bid_lots + ctx.best_ask_lots
        return 0.0 if total <= 0 else (ctx.best_bid_lots - ctx.best_ask_lots) / total

    def queue_fraction(self, ctx: QuoteContext, side: Side) -> float:
        """Lots ahead of us at our side's best price over that level's depth (1.0 if we are not resting there)."""
        best, depth = (
            (ctx.best_bid_ticks, ctx.best_bid_lots) if side is _BUY else (ctx.best_ask_ticks, ctx.best_ask_lots)
        )
        if not ctx.resting:
            return 1.0
        ahead = [r.queue_ahead_lots for r in ctx.resting if r.side is side and r.price_ticks == best]
        if not ahead or depth <= 0:
            return 1.0
        return unit_score(min(ahead) / depth)

    def nudge(self, ctx: QuoteContext, side: Side) -> int:
        return self._nudge(ctx, side, self.imbalance(ctx))

    def _nudge(self, ctx: QuoteContext, side: Side, imbalance: float) -> int:
        against = -imbalance if side is _BUY else imbalance
        if against >= self._back_off:
            return -1
        spread_ticks = ctx.best_ask_ticks - ctx.best_bid_ticks
        if spread_ticks >= self._improve_min_spread and self.queue_fraction(ctx, side) >= self._improve_fraction:
            return 1
        return 0

    def process(self, ctx: QuoteContext) -> QuoteContext:
        imbalance = self.imbalance(ctx)  # once for both sides
        ctx.bid_nudge_ticks = self._nudge(ctx, _BUY, imbalance)
        ctx.ask_nudge_ticks = self._nudge(ctx, _SELL, imbalance)
        return ctx
