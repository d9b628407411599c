"""The one place a strategy's user-facing sizes (base units, notionals) become a symbol's lots.

For a symbol with filters ``info`` and price at start ``p`` (quote per base unit)::

    order_lots  = max(1, floor(order_base[symbol] / step))            when the symbol has an order_base entry
                = max(1, floor(order_quote / (p * step)))              otherwise
    target_lots = trunc(target_inventory_base.get(symbol, 0) / step)   (towards zero)
    liq_lots    = max(1, floor(liq_full_depth_quote / (p * step)))

(``step`` is ``info.step_size``). The conversion is exact ``Decimal`` integer division, so the default config's
60 quote at BTCUSDT's 60,000 start price is exactly the 100 lots of 0.00001 BTC that version-4 configs gave every
symbol (``level_size_lots``), and its 30,000 quote of touch depth exactly their 50,000 lots.

Errors: ``ValueError`` naming the setting when a notional must be converted and the symbol has no price, or the
price is not positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.core.types import SymbolInfo
from bot.strategy.config import StrategyConfig

__all__ = ["SymbolSizes", "symbol_sizes"]


@dataclass(frozen=True, slots=True)
class SymbolSizes:
    """A symbol's strategy sizes in lots (module docstring)."""

    order_lots: int  # each quote (ladder level, baseline quote) before inventory skew
    target_inventory_lots: int  # inventory the skew and SOFT reduce-only pull towards
    liq_full_depth_lots: int  # touch depth at which the thin-book score is 0


def symbol_sizes(config: StrategyConfig, info: SymbolInfo, price: Decimal | None) -> SymbolSizes:
    """``config``'s sizes for the symbol ``info`` at ``price`` (module docstring). ``price`` may be None only when
    nothing needs a notional converted: the symbol's order size is in ``order_base`` and no ``adaptive_spread``
    stage runs (the thin-book depth is then unused and set to 1 lot)."""
    sizes, symbol, step = config.sizes, info.symbol, info.step_size

    def lots_of_quote(quote: Decimal, name: str) -> int:
        if price is None:
            raise ValueError(f"{symbol}: strategy.{name} is a notional ({quote} quote) and the symbol has no price "
                             "at start")
        if not price > 0:
            raise ValueError(f"{symbol}: price at start must be > 0 to convert strategy.{name}, got {price}")
        return max(1, int(quote // (price * step)))

    base = sizes.order_base.get(symbol)
    order = max(1, int(base // step)) if base is not None \
        else lots_of_quote(sizes.order_quote, "sizes.order_quote")
    target = int(sizes.target_inventory_base.get(symbol, Decimal(0)) // step)
    needs_depth = config.kind == "reference" and "adaptive_spread" in config.stages
    depth = lots_of_quote(config.adaptive_spread.liq_full_depth_quote, "adaptive_spread.liq_full_depth_quote") \
        if needs_depth or price is not None else 1
    return SymbolSizes(order_lots=order, target_inventory_lots=target, liq_full_depth_lots=depth)
