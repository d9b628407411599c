"""The strategy half of the bot: a ``QuoteContext`` flows through pure stages and comes out as desired quotes.

``build_strategy(config, info, price=p)`` gives the reference ``QuotePipeline`` (guard, taker cap, adaptive spread,
inventory skew, trade-flow fair value, queue-aware nudges, fast cancel, ladder, band, in ``config.stages``
order) or a baseline (fixed spread, Avellaneda-Stoikov, GLFT). Everything here is pure: no I/O and no clock
reads. This package imports only ``bot.core``, ``bot.interfaces`` and itself.
"""

from bot.strategy.band import BandStage
from bot.strategy.baselines import AvellanedaStoikovStrategy, FixedSpreadStrategy, GLFTStrategy
from bot.strategy.config import (
    STAGE_NAMES,
    AdaptiveSpreadConfig,
    AvellanedaStoikovConfig,
    BandConfig,
    FairValueConfig,
    FastCancelConfig,
    FixedSpreadConfig,
    GLFTConfig,
    GuardConfig,
    InventorySkewConfig,
    LadderConfig,
    QueueAwareConfig,
    SizeConfig,
    StrategyConfig,
    TakerCapStageConfig,
)
from bot.strategy.context import QuoteContext, Resting
from bot.strategy.factory import build_stage, build_strategy
from bot.strategy.fair_value import FairValueStage
from bot.strategy.gates import FastCancelStage, GuardStage, TakerCapStage
from bot.strategy.ladder import LadderStage
from bot.strategy.pipeline import QuotePipeline, QuoteStage, QuoteStrategy
from bot.strategy.pricing import AdaptiveSpreadStage, InventorySkewStage, QueueAwareStage, unit_score
from bot.strategy.sizes import SymbolSizes, symbol_sizes

__all__ = [
    "STAGE_NAMES",
    "AdaptiveSpreadConfig",
    "AdaptiveSpreadStage",
    "AvellanedaStoikovConfig",
    "AvellanedaStoikovStrategy",
    "BandConfig",
    "BandStage",
    "FairValueConfig",
    "FairValueStage",
    "FastCancelConfig",
    "FastCancelStage",
    "FixedSpreadConfig",
    "FixedSpreadStrategy",
    "GLFTConfig",
    "GLFTStrategy",
    "GuardConfig",
    "GuardStage",
    "InventorySkewConfig",
    "InventorySkewStage",
    "LadderConfig",
    "LadderStage",
    "QueueAwareConfig",
    "QueueAwareStage",
    "QuoteContext",
    "QuotePipeline",
    "QuoteStage",
    "QuoteStrategy",
    "Resting",
    "SizeConfig",
    "StrategyConfig",
    "SymbolSizes",
    "TakerCapStage",
    "TakerCapStageConfig",
    "build_stage",
    "build_strategy",
    "symbol_sizes",
    "unit_score",
]
