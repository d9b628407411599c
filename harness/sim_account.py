"""The bot's account on the simulated venue, read from the config's ``sim`` section: its symbols and start prices.

The bot's config declares the simulated account (``bot.config.SimAccountConfig``) but never reads the simulator:
this module is where that section meets ``exchange_sim.market.symbols``. ``sim_catalogue`` is the venue's symbol
catalogue (the simulator's defaults plus ``sim.symbols``, each checked against the simulator's integer balances);
``priced_for_sim`` converts the notional inventory default the way a live run does with the venue's mids
(``BotConfig.priced``), with the simulator's start prices: for every catalogue symbol whose price the config does
not give itself, ``price_at_start_quote[symbol] = initial_price``.

Errors: ``BotError(CONFIG_INVALID)`` naming the field (``sim.symbols.XYZUSDT.tick_size/step_size: ...``) when a
symbol's filters do not fit together.
"""

from __future__ import annotations

from bot.config import BotConfig
from bot.core.errors import BotError, ErrorCode
from bot.core.types import SymbolInfo
from exchange_sim.market.symbols import SymbolMarket, symbol_catalogue

__all__ = ["priced_for_sim", "sim_catalogue", "sim_symbol_info"]


def sim_catalogue(config: BotConfig) -> dict[str, SymbolMarket]:
    """The simulated venue's symbols: the simulator's defaults plus ``config.sim.symbols`` (a name may replace a
    default)."""
    try:
        return symbol_catalogue({name: symbol.model_dump() for name, symbol in config.sim.symbols.items()})
    except ValueError as error:
        raise BotError(ErrorCode.CONFIG_INVALID, f"sim.{error}") from None


def priced_for_sim(config: BotConfig, catalogue: dict[str, SymbolMarket] | None = None) -> BotConfig:
    """``config`` priced at the simulator's start prices (``catalogue``, default ``sim_catalogue(config)``); a price
    the config gives in ``risk.inventory.price_at_start_quote`` is kept."""
    given = config.risk.inventory.price_at_start_quote
    markets = sim_catalogue(config) if catalogue is None else catalogue
    return config.priced({name: m.initial_price for name, m in markets.items() if name not in given})


def sim_symbol_info(config: BotConfig, symbol: str) -> SymbolInfo | None:
    """``symbol``'s filters on the simulated venue (the simulator's defaults and ``sim.symbols``); None when the
    venue does not list it."""
    market = sim_catalogue(config).get(symbol)
    if market is None:
        return None
    spec = market.spec
    return SymbolInfo(symbol=symbol, base_asset=spec.base_asset, quote_asset=spec.quote_asset,
                      tick_size=spec.tick_size, step_size=spec.step_size, min_notional=spec.min_notional)
