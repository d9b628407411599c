"""The Binance Spot connector (also speaks to the simulator's Binance-compatible server): ``BinanceConnector``.

Parts: ``config`` (endpoints, credentials, limits), ``signing`` (HMAC-SHA256), ``limiter`` (weight and order
budgets), ``http`` (REST transport and error classes), ``time_sync`` (server-time offset), ``streams`` (market
WebSocket streams), ``user_stream`` (WebSocket API user data), ``wire`` (JSON <-> bot types), ``connector``.
"""

from bot.connectors.binance.config import BinanceConfig, Credentials, Endpoints, LimiterConfig, SecretStr
from bot.connectors.binance.connector import BinanceConnector

__all__ = ["BinanceConfig", "BinanceConnector", "Credentials", "Endpoints", "LimiterConfig", "SecretStr"]
