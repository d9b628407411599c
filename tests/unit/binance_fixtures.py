"""Shared wire fixtures of the Binance connector tests: one symbol's exchangeInfo and a config for a fake venue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import aioresponses.core as aioresponses_core
from aioresponses import aioresponses

from bot.connectors.binance.config import BinanceConfig, Credentials, Endpoints, SecretStr

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
API_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
CREDENTIALS = Credentials(api_key=API_KEY, api_secret=SecretStr(API_SECRET))
SERVER_MS = 1_700_000_015_000  # 35 s into a one-minute weight window, 5 s into a 10 s order window

SYMBOL_ENTRY: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "status": "TRADING",
    "baseAsset": "BTC",
    "quoteAsset": "USDT",
    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000",
         "tickSize": "0.01000000"},
        {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
        {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True},
    ],
}
EXCHANGE_INFO: dict[str, Any] = {
    "timezone": "UTC",
    "serverTime": SERVER_MS,
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    ],
    "symbols": [SYMBOL_ENTRY],
}


def order_json(
    client_order_id: str = "mm-1", *, status: str = "NEW", order_id: int = 7, **extra: Any
) -> dict[str, Any]:
    """An order as ``POST order`` (RESULT) answers it."""
    return {
        "symbol": "BTCUSDT", "orderId": order_id, "orderListId": -1, "clientOrderId": client_order_id,
        "transactTime": SERVER_MS, "price": "60000.01000000", "origQty": "0.01000000", "executedQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000", "status": status, "timeInForce": "GTC", "type": "LIMIT_MAKER",
        "side": "BUY", "workingTime": SERVER_MS, "selfTradePreventionMode": "EXPIRE_MAKER", **extra,
    }


def config(
    rest_url: str = "http://venue.test/api", ws_base: str = "ws://venue.test", **overrides: Any
) -> BinanceConfig:
    """A config with fast retries and short timeouts for tests."""
    defaults: dict[str, Any] = {
        "backoff_base_s": 0.001, "backoff_max_s": 0.01, "request_timeout_s": 0.5, "time_sync_samples": 1,
        "time_sync_min_interval_s": 0.0,
        "ws_connect_timeout_s": 1.0, "ws_stable_s": 0.0,
    }
    defaults.update(overrides)
    endpoints = Endpoints(rest_url=rest_url, ws_api_url=f"{ws_base}/ws-api/v3", stream_url=ws_base)
    return BinanceConfig(endpoints=endpoints, name="binance-test", **defaults)


class _CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without aiohttp >= 3.12's ``stream_writer``: supply a stand-in."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


@contextmanager
def mocked_venue() -> Iterator[aioresponses]:
    """``aioresponses()`` that works with the installed aiohttp."""
    original = aioresponses_core.__dict__["ClientResponse"]
    setattr(aioresponses_core, "ClientResponse", _CompatResponse)  # noqa: B010 - not re-exported by the module
    try:
        with aioresponses() as mock:
            yield mock
    finally:
        setattr(aioresponses_core, "ClientResponse", original)  # noqa: B010
