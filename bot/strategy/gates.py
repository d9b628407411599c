"""The gating stages: whether to quote at all and on which sides (risk guard, taker cap, fast cancel).

Each stage is pure (no I/O, no clock reads: time is ``ctx.now_s``) and only narrows what may be quoted: it halts
the cycle (``ctx.halt``: no quotes rest, the order manager pulls everything), removes sides from
``ctx.allowed_sides``, caps sizes, or clears ``ctx.taker_allowed``. None of them widens what an earlier stage
allowed, and none raises on odd market inputs (a NaN mid counts as a move: fail closed).

Halt reasons are stable strings: ``guard:HARD`` / ``guard:SOFT`` / ``guard:<unknown level>`` followed by the risk
layer's own reasons, ``fast_cancel:mid_move``, ``fast_cancel:trade_through``.
"""

from __future__ import annotations

from bot.core.types import Side
from bot.strategy.config import FastCancelConfig, GuardConfig, TakerCapStageConfig
from bot.strategy.context import QuoteContext

__all__ = ["FastCancelStage", "GuardStage", "TakerCapStage"]

_NO_SIDES: frozenset[Side] = frozenset()
_ONLY_BUY, _ONLY_SELL = frozenset({Side.BUY}), frozenset({Side.SELL})


class GuardStage:
    """Obey the risk layer's level: OK passes, HARD halts, SOFT is reduce-only (or halts, by config).

    Reduce-only: with ``dev = inventory_lots - target`` only the side that brings ``dev`` towards 0 stays allowed
    (SELL when long, BUY when short, none when flat) and that side's per-level size is capped at ``|dev|``, so one
    fill never carries inventory past the target. A level other than "OK", "SOFT" or "HARD" halts (fail closed).
    """

    name = "guard"

    def __init__(self, config: GuardConfig, *, target_inventory_lots: int = 0, base_size_lots: int = 1) -> None:
        self.config = config
        self._soft_reduce_only = config.soft_reduce_only
        self._target = target_inventory_lots
        self._base_size = base_size_lots

    def process(self, ctx: QuoteContext) -> QuoteContext:
        level = ctx.risk_level
        if level == "OK":
            return ctx
        if level != "SOFT" or not self._soft_reduce_only:
            return ctx.halt(f"guard:{level}", *ctx.risk_reasons)
        target = self._target if ctx.target_inventory_lots is None else ctx.target_inventory_lots
        dev = ctx.inventory_lots - target
        if dev == 0:
            ctx.allowed_sides = _NO_SIDES
        elif dev > 0:  # long: only selling reduces
            ctx.allowed_sides = ctx.allowed_sides & _ONLY_SELL
            size = self._base_size if ctx.ask_size_lots is None else ctx.ask_size_lots
            ctx.ask_size_lots = min(size, dev)
        else:
            ctx.allowed_sides = ctx.allowed_sides & _ONLY_BUY
            size = self._base_size if ctx.bid_size_lots is None else ctx.bid_size_lots
            ctx.bid_size_lots = min(size, -dev)
        return ctx


class TakerCapStage:
    """Refuse taker actions once the risk layer's remaining taker fills fall to the reserve.

    ``taker_allowed = taker_fills_remaining > reserve_fills``. The ladder's quotes never cross the touch in any
    case (post-only LIMIT_MAKER); the flag tells the caller whether any crossing order (e.g. flattening inventory
    with a taker) may be sent this cycle.
    """

    name = "taker_cap"

    def __init__(self, config: TakerCapStageConfig) -> None:
        self.config = config
        self._reserve = config.reserve_fills

    def process(self, ctx: QuoteContext) -> QuoteContext:
        if ctx.taker_fills_remaining <= self._reserve:
            ctx.taker_allowed = False
        return ctx


class FastCancelStage:
    """Pull every quote this cycle when the market ran away from the quotes that rest.

    Halts with ``fast_cancel:mid_move`` when ``|mid - mid_at_last_quote| / mid_at_last_quote * 1e4 > mid_move_bps``
    (a NaN mid or a non-positive last mid counts as a move), and with ``fast_cancel:trade_through`` when
    ``on_trade_through`` and a public trade went through one of our prices. Nothing is checked when no quote rests
    (``mid_at_last_quote_ticks is None``) except the trade-through flag. The caller re-quotes on the next cycle,
    passing ``mid_at_last_quote_ticks=None`` once the quotes are pulled.
    """

    name = "fast_cancel"

    def __init__(self, config: FastCancelConfig) -> None:
        self.config = config
        self._max_move = config.mid_move_bps / 1e4
        self._on_trade_through = config.on_trade_through

    def process(self, ctx: QuoteContext) -> QuoteContext:
        last = ctx.mid_at_last_quote_ticks
        if last is not None and not (last > 0 and abs(ctx.mid_ticks - last) <= self._max_move * last):
            return ctx.halt("fast_cancel:mid_move")
        if self._on_trade_through and ctx.trade_through:
            return ctx.halt("fast_cancel:trade_through")
        return ctx
