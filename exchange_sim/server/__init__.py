"""The Binance Spot-compatible wire server of the simulated exchange (DESIGN section 5), in real time.

``create_app(ServerConfig(...))`` builds the aiohttp application; ``serve`` (``__main__``) runs it on
127.0.0.1. Modules: ``api`` (REST semantics without a transport: ``ApiRequest`` in, ``ApiResponse`` out, also
called in-process), ``app`` (aiohttp wiring, middleware adapter, lifecycle), ``rest`` (REST handlers),
``trading`` (account operations shared by REST and the WebSocket API), ``ws_streams`` (market streams),
``ws_api`` (user data stream and signed WebSocket requests), ``auth`` (keys, signatures, recvWindow), ``limits``
(weights, 429/418), ``errors`` (Binance codes and HTTP statuses), ``params`` (request parameters), ``wire``
(engine values <-> Binance JSON), ``clock`` (``ServerClock``: the real-time driver, or virtual time),
``faults`` (transport faults from a scenario), ``state``.
"""

from exchange_sim.server.app import create_app
from exchange_sim.server.config import (
    DEMO_ACCOUNT,
    DEMO_API_KEY,
    DEMO_SECRET,
    AccountConfig,
    LimitsConfig,
    ServerConfig,
)

__all__ = ["DEMO_ACCOUNT", "DEMO_API_KEY", "DEMO_SECRET", "AccountConfig", "LimitsConfig", "ServerConfig",
           "create_app"]
