"""``build_strategy``: the strategy a ``StrategyConfig`` describes, for one symbol.

``kind="reference"`` gives a ``QuotePipeline`` of the stages named in ``config.stages``, in that order (a stage
not listed is off; without ``ladder`` nothing is ever quoted); the other kinds give a baseline. Every number is
copied out of the pydantic config at build time, so ``decide`` never touches the model; sizes are converted to the
symbol's lots once, here, by ``bot.strategy.sizes.symbol_sizes`` with the symbol's price at start. The ``timer``
(nanoseconds) only measures the reference pipeline's stages.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from bot.core.types import SymbolInfo
from bot.strategy.band import BandStage
from bot.strategy.baselines import AvellanedaStoikovStrategy, FixedSpreadStrategy, GLFTStrategy
from bot.strategy.config import StrategyConfig
from bot.strategy.fair_value import FairValueStage
from bot.strategy.gates import FastCancelStage, GuardStage, TakerCapStage
from bot.strategy.ladder import LadderStage
from bot.strategy.pipeline import QuotePipeline, QuoteStage, QuoteStrategy
from bot.strategy.pricing import AdaptiveSpreadStage, InventorySkewStage, QueueAwareStage
from bot.strategy.sizes import SymbolSizes, symbol_sizes

__all__ = ["build_stage", "build_strategy"]


def build_stage(name: str, config: StrategyConfig, info: SymbolInfo, sizes: SymbolSizes) -> QuoteStage:
    """One reference stage by its name in ``STAGE_NAMES`` (``ValueError`` for an unknown name), with the symbol's
    ``sizes`` in lots."""
    size, target = sizes.order_lots, sizes.target_inventory_lots
    if name == "guard":
        return GuardStage(config.guard, target_inventory_lots=target, base_size_lots=size)
    if name == "taker_cap":
        return TakerCapStage(config.taker_cap)
    if name == "adaptive_spread":
        return AdaptiveSpreadStage(config.adaptive_spread, sizes.liq_full_depth_lots)
    if name == "inventory_skew":
        return InventorySkewStage(config.inventory_skew, size, target_inventory_lots=target)
    if name == "fair_value":
        return FairValueStage(config.fair_value)
    if name == "queue_aware":
        return QueueAwareStage(config.queue_aware)
    if name == "fast_cancel":
        return FastCancelStage(config.fast_cancel)
    if name == "ladder":
        return LadderStage(config.ladder, info, fallback_spread_bps=config.adaptive_spread.base_spread_bps,
                           size_lots=size)
    if name == "band":
        return BandStage(config.band, info)
    raise ValueError(f"unknown stage {name!r}")


def build_strategy(
    config: StrategyConfig, info: SymbolInfo, timer: Callable[[], int] | None = None, *, price: Decimal | None,
) -> QuoteStrategy:
    """The strategy ``config.kind`` names, for the symbol ``info`` whose price at start is ``price`` (quote per base
    unit; it converts the notional sizes, ``bot.strategy.sizes``), as the module docstring says."""
    sizes = symbol_sizes(config, info, price)
    size, target = sizes.order_lots, sizes.target_inventory_lots
    if config.kind == "fixed_spread":
        return FixedSpreadStrategy(config.fixed_spread, info, config.guard, size_lots=size,
                                   target_inventory_lots=target)
    if config.kind == "avellaneda_stoikov":
        return AvellanedaStoikovStrategy(config.avellaneda_stoikov, info, config.guard, size_lots=size,
                                         target_inventory_lots=target)
    if config.kind == "glft":
        return GLFTStrategy(config.glft, info, config.guard, size_lots=size, target_inventory_lots=target)
    return QuotePipeline([build_stage(name, config, info, sizes) for name in config.stages], timer)
