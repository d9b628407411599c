"""The default symbol catalogue of the simulated venue and each symbol's market starting point.

Ticks are about 0.7-0.8 bps of the starting price for all defaults (a large-tick market: queue position and a
1-3 tick spread matter, ADR 0002). SOLUSDT uses Binance's real filters; BTCUSDT and ETHUSDT keep Binance's
lot sizes and min notional with a coarser tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchange_sim.engine.types import SymbolSpec


@dataclass(frozen=True, slots=True)
class SymbolMarket:
    """A symbol's spec plus where its latent price starts and how large its flow is relative to defaults."""

    spec: SymbolSpec
    initial_price: Decimal
    size_scale: float = 1.0  # multiplies every order notional of the background flow

    @property
    def initial_price_ticks(self) -> int:
        return self.spec.price_to_ticks(self.initial_price)


DEFAULT_SYMBOLS: dict[str, SymbolMarket] = {
    "BTCUSDT": SymbolMarket(
        SymbolSpec(
            symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
            tick_size=Decimal("5.00"), step_size=Decimal("0.00001"), min_notional=Decimal("5"),
        ),
        initial_price=Decimal("60000.00"),
    ),
    "ETHUSDT": SymbolMarket(
        SymbolSpec(
            symbol="ETHUSDT", base_asset="ETH", quote_asset="USDT",
            tick_size=Decimal("0.25"), step_size=Decimal("0.0001"), min_notional=Decimal("5"),
        ),
        initial_price=Decimal("3000.00"),
    ),
    "SOLUSDT": SymbolMarket(
        SymbolSpec(
            symbol="SOLUSDT", base_asset="SOL", quote_asset="USDT",
            tick_size=Decimal("0.01"), step_size=Decimal("0.001"), min_notional=Decimal("5"),
        ),
        initial_price=Decimal("150.00"),
    ),
}


def default_symbol(name: str) -> SymbolMarket:
    """A default symbol by name; ``ValueError`` naming the choices if unknown."""
    try:
        return DEFAULT_SYMBOLS[name.upper()]
    except KeyError:
        raise ValueError(f"unknown symbol {name!r}; defaults are {', '.join(sorted(DEFAULT_SYMBOLS))}") from None
