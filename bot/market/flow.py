"""TradeFlow: the signed, size-weighted, exponentially decayed flow of one symbol's public trades.

Each public trade ``i`` (taker side ``s_i``: +1 buy-initiated, -1 sell-initiated, i.e. ``-1`` when the buyer was
the maker) adds its square-root size weight, and the sum decays with time constant ``tau = tau_s``::

    w_i    = s_i * sqrt(notional_i / unit_quote)          (notional_i = price * qty, in quote currency)
    flow_t = sum_i w_i * exp(-(t - t_i) / tau)             (t, t_i: event times, ms)

A trade of ``unit_quote`` notional weighs 1. The square root follows the square-root impact law (a trade moves
the price by about ``sqrt(size)``), so ``flow`` tracks the recent permanent impact of the trade stream and the
sign of the flow still to come (market-order signs are long-memory). ``bot.strategy.fair_value`` turns it
into a fair-value offset.

Invariants: time is the trades' own timestamps and the caller's ``now_ms`` (nothing reads a clock); the state
is two floats and an int (bounded); a trade older than the newest seen (out of order) is decayed to the newest
time rather than moving time backwards; a non-positive price or size adds nothing. ``value`` never raises.
"""

from __future__ import annotations

import math

from bot.core.types import PublicTrade, SymbolInfo

__all__ = ["TradeFlow"]


class TradeFlow:
    """Decayed signed trade flow of one symbol (module docstring). Feed ``on_trade``; read ``value(now_ms)``."""

    __slots__ = ("_last_ms", "_per_tick_lot", "_sum", "_tau_ms", "tau_s", "unit_quote")

    def __init__(self, info: SymbolInfo, *, tau_s: float, unit_quote: float) -> None:
        if not (0 < tau_s < math.inf and 0 < unit_quote < math.inf):
            raise ValueError(f"tau_s and unit_quote must be finite and > 0, got {tau_s!r}, {unit_quote!r}")
        self.tau_s = tau_s
        self.unit_quote = unit_quote
        self._tau_ms = tau_s * 1000.0
        # quote currency per (tick * lot), over the unit: w = sign * sqrt(price_ticks * qty_lots * this)
        self._per_tick_lot = float(info.tick_size * info.step_size) / unit_quote
        self._sum = 0.0
        self._last_ms: int | None = None

    def on_trade(self, trade: PublicTrade) -> None:
        """Add one public trade (buy-initiated positive)."""
        if trade.price_ticks <= 0 or trade.qty_lots <= 0:
            return
        weight = math.sqrt(trade.price_ticks * trade.qty_lots * self._per_tick_lot)
        self._sum = self.value(trade.time_ms) + (-weight if trade.buyer_is_maker else weight)
        if self._last_ms is None or trade.time_ms > self._last_ms:
            self._last_ms = trade.time_ms

    def value(self, now_ms: int) -> float:
        """The flow decayed to ``now_ms`` (0 before the first trade; no decay for ``now_ms`` in the past)."""
        last = self._last_ms
        if last is None or now_ms <= last:
            return self._sum
        return self._sum * math.exp(-(now_ms - last) / self._tau_ms)

    def reset(self) -> None:
        """Forget every trade (e.g. after a long gap in the trade stream)."""
        self._sum = 0.0
        self._last_ms = None
