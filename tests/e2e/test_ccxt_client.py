"""An independent Binance client (ccxt) trades on the wire server unchanged but for its URLs."""

from __future__ import annotations

import asyncio

import ccxt.async_support as ccxt

from exchange_sim.server import DEMO_API_KEY, DEMO_SECRET
from tests.server_support import running_server


async def test_ccxt_binance_trades_on_the_simulator() -> None:
    async with running_server() as server:
        api = f"{server.base}/api/v3"
        exchange = ccxt.binance({
            "apiKey": DEMO_API_KEY, "secret": DEMO_SECRET, "enableRateLimit": False,
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False,
                        "defaultType": "spot"},
        })
        exchange.urls["api"] = {**exchange.urls["api"], "public": api, "private": api}
        try:
            async with asyncio.timeout(30):
                markets = await exchange.load_markets()
                assert "BTC/USDT" in markets
                book = await exchange.fetch_order_book("BTC/USDT", limit=5)
                assert book["bids"] and book["asks"] and book["bids"][0][0] < book["asks"][0][0]
                balance = await exchange.fetch_balance()
                assert balance["USDT"]["free"] == 1_000_000
                price = book["bids"][0][0] - 500
                order = await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, price)
                fetched = await exchange.fetch_order(order["id"], "BTC/USDT")
                assert fetched["status"] == "open" and fetched["price"] == price
                canceled = await exchange.cancel_order(order["id"], "BTC/USDT")
                assert canceled["status"] == "canceled"
                await exchange.create_order("BTC/USDT", "market", "buy", 0.001)
                trades = await exchange.fetch_my_trades("BTC/USDT")
                assert trades and trades[-1]["side"] == "buy"
        finally:
            await exchange.close()
