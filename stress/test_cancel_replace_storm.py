"""A cancel/replace storm at the venue's order-rate limit, over real sockets: the bot stays under it, never a 418.

The wire server enforces Binance's published limits (100 orders per account per 10 s, 6,000 request weight per
minute, 429 then a 418 ban). Eight concurrent loops move their resting order to a new price with
``cancel_replace`` as fast as the bot lets them for ``seconds`` of wall time; the connector's limiter is the only
brake. What the server answered is counted at the HTTP layer (an aiohttp trace), independent of the bot. Then the
bot shuts down: every order of the storm must be terminal, in the bot's state file and on the venue.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from bot.connectors.binance.config import BinanceConfig, Credentials, Endpoints, SecretStr
from bot.connectors.binance.connector import BinanceConnector
from bot.core.clock import LoopClock
from bot.core.errors import BotError
from bot.core.types import OrderStatus, Quote, Side
from bot.execution.config import ExecutionConfig
from bot.execution.order_manager import OrderManager
from bot.execution.state import StateStore
from exchange_sim.engine.types import AccountId
from exchange_sim.server import DEMO_API_KEY, DEMO_SECRET
from stress.support import full_size, store_statuses
from tests.server_support import running_server

pytestmark = [pytest.mark.stress, pytest.mark.asyncio]

LOOPS = 8
ORDER_LIMIT_10S = 100  # the server's default (Binance Spot)
SYMBOL = "BTCUSDT"


def _status_counter() -> tuple[aiohttp.TraceConfig, Counter[int]]:
    statuses: Counter[int] = Counter()

    async def on_end(_: aiohttp.ClientSession, __: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
        statuses[params.response.status] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    return trace, statuses


@pytest.mark.parametrize("seconds", [12.0, full_size(65.0)])
async def test_cancel_replace_storm_stays_under_the_rate_limit_and_ends_with_every_order_terminal(
    tmp_path: Path, seconds: float
) -> None:
    trace, statuses = _status_counter()
    async with running_server() as server, aiohttp.ClientSession(trace_configs=[trace]) as session:
        port = int(server.base.rsplit(":", 1)[1])
        config = BinanceConfig(endpoints=Endpoints.local(port=port), request_timeout_s=5.0)
        venue = BinanceConnector(
            config,
            Credentials(api_key=DEMO_API_KEY, api_secret=SecretStr(DEMO_SECRET)), session=session)
        info = {s.symbol: s for s in await venue.symbols()}
        store = StateStore(tmp_path / "state.sqlite3")
        om = OrderManager(venue, store, LoopClock(), ExecutionConfig(), {SYMBOL: info[SYMBOL]}, rng=random.Random(0))
        await om.start()
        book = await venue.book(SYMBOL, limit=5)
        low = book.bids[0].price_ticks - 400  # far from the touch: the orders rest, the storm only moves them
        placed = await om.place_many(SYMBOL, [Quote(side=Side.BUY, price_ticks=low - i, qty_lots=100)
                                              for i in range(LOOPS)])
        refused = Counter[str]()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        async def storm(index: int, cid: str) -> None:
            step = 0
            while loop.time() < deadline:  # each loop ends after its answer: no request is cut off
                step += 1
                try:
                    _, new = await om.cancel_replace(cid, low - index - 10 * (step % 20))  # type: ignore[arg-type]
                    if new.status is OrderStatus.NEW:
                        cid = new.client_order_id
                except BotError as error:
                    refused[error.code.value] += 1
                    await asyncio.sleep(0.05)  # refused by the limiter (or a reject): try again shortly

        tasks = [asyncio.ensure_future(storm(i, r.client_order_id)) for i, r in enumerate(placed)
                 if not isinstance(r, BotError)]
        async with asyncio.timeout(seconds + 30.0):
            await asyncio.gather(*tasks)
        shutdown = await om.shutdown()
        await om.reconcile()
        resting = server.state.engine.open_orders(AccountId("demo"), SYMBOL)
        orders_sent = server.state.log.counts().get("request", 0)
        await venue.close()
        store.close()
    final = store_statuses(tmp_path / "state.sqlite3")
    print(f"\nstorm {seconds:.0f} s: {len(final)} orders, server answers {dict(statuses)}, refused locally "
          f"{dict(refused)}, venue requests {orders_sent}, limiter {om.stats.errors_by_code}")
    assert len(tasks) == LOOPS
    assert statuses[418] == 0 and statuses[429] == 0  # never over the venue's limits, never banned
    # the storm really ran at the limit: the bot's own limiter braked it, and it used most of the budget the bot
    # allows itself (budget_fraction of the venue's limit, in fixed 10 s windows; refusals and round trips waste
    # some of each window, so ~75 % of it is what a storm achieves)
    assert om.stats.errors_by_code.get("RATE_LIMITED", 0) > 0
    assert len(final) >= 0.6 * config.limiter.budget_fraction * ORDER_LIMIT_10S * seconds / 10
    assert len(final) <= ORDER_LIMIT_10S * (seconds / 10 + 1)
    assert shutdown.verified and resting == []
    assert [(c, s) for c, s in final.items() if s not in ("CANCELED", "REJECTED", "EXPIRED", "FILLED")] == []
