"""Seeded background order flow around a latent fair price, with market regimes (see docs/market-model.md)."""

from exchange_sim.market.config import MarketConfig, RegimeSegment
from exchange_sim.market.flow import MarketFlow
from exchange_sim.market.regimes import REGIMES, RegimeParams, regime_params
from exchange_sim.market.symbols import DEFAULT_SYMBOLS, SymbolMarket, default_symbol

__all__ = [
    "DEFAULT_SYMBOLS",
    "REGIMES",
    "MarketConfig",
    "MarketFlow",
    "RegimeParams",
    "RegimeSegment",
    "SymbolMarket",
    "default_symbol",
    "regime_params",
]
