"""The Binance Spot connector (also speaks to the simulator's Binance-compatible server): ``BinanceConnector``.

Parts: ``config`` (endpoints, credentials, limits), ``signing`` (HMAC-SHA256), ``limiter`` (weight and order
budgets, the Retry-After block and its persistence), ``transport`` (the only way to the network: ``Transport``,
``AiohttpTransport``), ``http`` (REST client and error classes), ``time_sync`` (server-time offset), ``streams``
(market WebSocket streams), ``user_stream`` (WebSocket API user data), ``wire`` (JSON <-> bot types),
``connector``.
"""

from bot.connectors.binance.config import BinanceConfig, Credentials, Endpoints, LimiterConfig, SecretStr
from bot.connectors.binance.connector import BinanceConnector, ConnectorStats
from bot.connectors.binance.transport import (
    NOT_DECODED,
    AiohttpTransport,
    ConnectFailed,
    ConnectionLost,
    HttpReply,
    Transport,
    WsConnection,
    WsFrame,
)

__all__ = [
    "NOT_DECODED", "AiohttpTransport", "BinanceConfig", "BinanceConnector", "ConnectFailed", "ConnectionLost",
    "ConnectorStats", "Credentials", "Endpoints", "HttpReply", "LimiterConfig", "SecretStr", "Transport",
    "WsConnection", "WsFrame",
]
