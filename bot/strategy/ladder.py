"""LadderStage: turn the pricing stages' numbers (spread, reservation, nudges, sizes, sides) into desired quotes.

Prices, per side, on the tick grid (``mid``, ``r`` = reservation or mid, ``half = spread_bps * mid / 2e4``)::

    bid_0 = min(floor(r - half) + bid_nudge, bid_cap)      bid_cap   = min(ceil(mid) - 1, best_ask - 1)
    ask_0 = max(ceil(r + half) - ask_nudge, ask_floor)     ask_floor = max(floor(mid) + 1, best_bid + 1)
    bid_i = bid_0 - i * spacing,  ask_i = ask_0 + i * spacing,  spacing = max(1, round(level_spacing_bps * mid / 1e4))

Bids round down and asks up, so rounding never tightens the spread. The caps give the invariants, whatever the
inputs: every bid < mid < every ask (hence bid < ask), and no quote crosses the current touch (bid < best_ask,
ask > best_bid): quotes are always maker-only, so a post-only LIMIT_MAKER order is never rejected for crossing the
book it was priced on. A skewed reservation beyond the half-spread therefore puts the reducing side one tick
inside mid (or at the touch), never through it.

Then, in order: a side not in ``allowed_sides`` or within ``fill_delay_s`` of its last fill gets no quote; sizes
are capped at the symbol's ``max_qty_lots`` and a size below ``min_qty_lots`` (or 0) drops the side; a bid at a
price <= 0 and any quote below the symbol's min notional are dropped. Order-refresh tolerance: a resting order of
ours on the same side, within ``refresh_tolerance_ticks`` of a desired price, younger than ``max_order_age_s``
and still within the caps replaces that desired quote with its own price and qty, so the order manager (which
keeps a resting order whose (side, price) is desired) keeps it and its queue place. Maximum order age: every
resting order at least ``max_order_age_s`` old is listed in ``refresh``, and the order manager cancels and
re-places it even when its price is exactly a desired one (Hummingbot's ``max_order_age``). With
``refresh_tolerance_behind_only`` only an order *behind* the desired price (a lower bid, a higher ask: farther
from the touch) is kept; one ahead of it is moved back at once, because the flow it is leaning away from is
about to pick it off. Each resting order is kept at most once and two desired quotes never share a (side, price).

``desired`` lists bids best first, then asks best first. The stage halts (``ladder:bad_mid``,
``ladder:bad_spread``, ``ladder:bad_reservation``, ``ladder:bad_half_spread``) rather than price from a non-finite
or non-positive mid, a non-finite or non-positive spread, a non-finite reservation, or a half-spread (or
``r -+ half``) that overflows to infinity although its factors are finite; it never raises for a number.
"""

from __future__ import annotations

import math

from bot.core.types import Quote, Side, SymbolInfo
from bot.strategy.config import LadderConfig
from bot.strategy.context import QuoteContext, Resting

__all__ = ["LadderStage"]

_INF = math.inf
_BUY, _SELL = Side.BUY, Side.SELL  # module constants: enum attribute access costs ~0.1 us on Python 3.11


class LadderStage:
    """Desired quotes from the context's numbers (module docstring). ``fallback_spread_bps`` is used when no
    stage set ``spread_bps``; ``size_lots`` is each level's size when no stage set one (the symbol's order size,
    ``bot.strategy.sizes``)."""

    name = "ladder"

    def __init__(self, config: LadderConfig, info: SymbolInfo, *, fallback_spread_bps: float, size_lots: int) -> None:
        if not 0 < fallback_spread_bps < _INF:
            raise ValueError(f"fallback_spread_bps must be finite and > 0, got {fallback_spread_bps!r}")
        if size_lots < 1:
            raise ValueError(f"size_lots must be >= 1, got {size_lots!r}")
        self.config = config
        self.info = info
        self._levels = config.levels
        self._spacing = config.level_spacing_bps / 1e4
        self._size = size_lots
        self._tolerance = config.refresh_tolerance_ticks
        self._behind_only = config.refresh_tolerance_behind_only
        self._fill_delay_s = config.fill_delay_s
        self._max_age_s = config.max_order_age_s
        self._fallback_spread = fallback_spread_bps
        self._min_qty = max(1, info.min_qty_lots)
        self._max_qty = info.max_qty_lots
        # price_ticks * qty_lots must reach this for min notional (exact: Decimal at init, ints in the hot path)
        self._min_tick_lots = math.ceil(info.min_notional / (info.tick_size * info.step_size))

    def process(self, ctx: QuoteContext) -> QuoteContext:
        mid = ctx.mid_ticks
        if not 0 < mid < _INF:
            return ctx.halt("ladder:bad_mid")
        spread = self._fallback_spread if ctx.spread_bps is None else ctx.spread_bps
        if not 0 < spread < _INF:
            return ctx.halt("ladder:bad_spread")
        r = mid if ctx.reservation_ticks is None else ctx.reservation_ticks
        if not -_INF < r < _INF:
            return ctx.halt("ladder:bad_reservation")
        half = spread * mid / 2e4  # finite factors, but the product may overflow (extreme volatility)
        low, high = r - half, r + half
        if not (low > -_INF and high < _INF):
            return ctx.halt("ladder:bad_half_spread")
        spacing = max(1, round(self._spacing * mid))
        bid_cap = min(math.ceil(mid) - 1, ctx.best_ask_ticks - 1)
        ask_floor = max(math.floor(mid) + 1, ctx.best_bid_ticks + 1)
        allowed = ctx.allowed_sides
        fills = ctx.last_fill_s  # usually empty: then no side is delayed
        quotes: list[Quote] = []
        min_tick_lots = self._min_tick_lots
        if _BUY in allowed and not (fills and self._delayed(ctx, _BUY)):
            size = self._sized(ctx.bid_size_lots)
            if size:
                price = min(math.floor(low) + ctx.bid_nudge_ticks, bid_cap)
                for _ in range(self._levels):
                    if price <= 0 or price * size < min_tick_lots:
                        break  # lower levels only get smaller
                    quotes.append(Quote(side=_BUY, price_ticks=price, qty_lots=size))
                    price -= spacing
        if _SELL in allowed and not (fills and self._delayed(ctx, _SELL)):
            size = self._sized(ctx.ask_size_lots)
            if size:
                price = max(math.ceil(high) - ctx.ask_nudge_ticks, ask_floor)
                for _ in range(self._levels):
                    if price * size >= min_tick_lots:
                        quotes.append(Quote(side=_SELL, price_ticks=price, qty_lots=size))
                    price += spacing
        if ctx.resting:
            max_age = self._max_age_s
            ctx.refresh = tuple([r.client_order_id for r in ctx.resting if r.age_s >= max_age])
            if quotes:
                quotes = self._keep_resting(quotes, ctx.resting, bid_cap, ask_floor)
        ctx.desired = tuple(quotes)
        return ctx

    def _delayed(self, ctx: QuoteContext, side: Side) -> bool:
        last = ctx.last_fill_s.get(side)
        return last is not None and ctx.now_s - last < self._fill_delay_s

    def _sized(self, size_lots: int | None) -> int:
        size = min(self._size if size_lots is None else size_lots, self._max_qty)
        return size if size >= self._min_qty else 0

    def _keep_resting(
        self, quotes: list[Quote], resting: tuple[Resting, ...], bid_cap: int, ask_floor: int
    ) -> list[Quote]:
        """Swap each desired quote for the nearest keepable resting order within the tolerance (docstring)."""
        max_age, tolerance, behind_only = self._max_age_s, self._tolerance, self._behind_only
        candidates = [
            r for r in resting
            if r.age_s < max_age and r.qty_lots > 0
            and (r.price_ticks <= bid_cap if r.side is _BUY else r.price_ticks >= ask_floor)
        ]
        if not candidates:
            return quotes
        taken = {(q.side, q.price_ticks) for q in quotes}
        out: list[Quote] = []
        kept = False
        for quote in quotes:
            best: Resting | None = None
            best_distance = tolerance + 1
            for r in candidates:
                ahead = r.price_ticks - quote.price_ticks  # > 0: the resting order is nearer the touch
                if quote.side is _SELL:
                    ahead = -ahead
                if behind_only and ahead > 0:
                    continue
                distance = abs(ahead)
                if r.side is quote.side and distance < best_distance:
                    if distance and (r.side, r.price_ticks) in taken:
                        continue  # another desired quote sits at that price
                    best, best_distance = r, distance
            if best is None:
                out.append(quote)
                continue
            candidates.remove(best)
            kept = True
            taken.discard((quote.side, quote.price_ticks))
            taken.add((best.side, best.price_ticks))
            out.append(Quote(side=best.side, price_ticks=best.price_ticks, qty_lots=best.qty_lots))
        if kept and self._levels > 1:  # with one quote per side, bids-then-asks is already the order
            out.sort(key=_best_first)
        return out


def _best_first(quote: Quote) -> tuple[int, int]:
    return (0, -quote.price_ticks) if quote.side is _BUY else (1, quote.price_ticks)
