"""The quote loop: per-symbol cycles joining market data, the strategy and the order manager.

``bot.quoting.quoter.SymbolQuoter`` is the loop; this package's top level exports only what configuration
needs, so ``bot.config`` can import ``QuotingConfig`` without pulling in the loop's dependencies.
"""

from bot.quoting.config import QuotingConfig
from bot.quoting.latency import LatencyHistogram

__all__ = ["LatencyHistogram", "QuotingConfig"]
