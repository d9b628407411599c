"""Market data: the local L2 book (snapshot + diffs), one feed per symbol, own-order queue positions."""

from bot.market.book import LocalBook
from bot.market.data import MarketData, MarketDataConfig
from bot.market.queue import QueueTracker

__all__ = ["LocalBook", "MarketData", "MarketDataConfig", "QueueTracker"]
