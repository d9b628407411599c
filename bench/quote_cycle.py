"""Quote-cycle latency in local mode: the bot's quote cycles through ``BinanceConnector`` over real sockets.

The wire server (``exchange_sim.server``) runs in a child process on 127.0.0.1 with a ``latency`` fault of
``rtt_ms / 2`` on every REST request and on its answer (an injected round trip of ``rtt_ms``), a benchmark-only
catalogue of 16 symbols (``B01USDT``..``B16USDT``, the defaults are untouched) and limits high enough that the
rate limiter never waits. The bot (one ``MarketData`` and one ``SymbolQuoter`` per symbol, the default strategy)
runs a pass over all symbols every ``pass_interval_s``:

* concurrent: every symbol's cycle at once (``asyncio.gather``), as the bot's per-symbol quote loops run;
* sequential: the same cycles one after another in one loop (the seed audit's shape, for contrast).

A pass's latency is the wall time from its first decision to the last order change acknowledged by the venue;
only passes that changed orders count. Reports p50/p95/p99 per symbol count and variant, and the ratio of the
concurrent p95 to the injected round trip (target <= 1.25).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import statistics
import time
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.app import AppContext
from bot.config import BotConfig
from bot.connectors.binance.config import BinanceConfig, Credentials, Endpoints, LimiterConfig, SecretStr
from bot.connectors.binance.connector import BinanceConnector
from bot.core.clock import LoopClock
from bot.execution.config import ExecutionConfig
from bot.execution.state import StateStore
from bot.market.data import MarketData
from bot.quoting.quoter import SymbolQuoter
from bot.strategy import build_strategy
from exchange_sim.engine.types import SymbolSpec
from exchange_sim.faults.model import Fault, FaultKind, Scenario
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.symbols import SymbolMarket
from exchange_sim.server import DEMO_API_KEY, DEMO_SECRET, ServerConfig, create_app
from exchange_sim.server.config import DEMO_ACCOUNT, AccountConfig, LimitsConfig
from harness.sim_account import priced_for_sim

SYMBOL_COUNTS = (1, 4, 8, 16)
WEIGHT_LIMIT = 1_000_000
ORDER_LIMIT = 100_000


def bench_symbols(n: int = 16) -> dict[str, SymbolMarket]:
    """``n`` synthetic symbols B01USDT.. (price 100, tick 0.01 = 1 bp, lot 0.001)."""
    return {f"B{i:02d}USDT": SymbolMarket(SymbolSpec(symbol=f"B{i:02d}USDT", base_asset=f"B{i:02d}",
                                                     quote_asset="USDT", tick_size=Decimal("0.01"),
                                                     step_size=Decimal("0.001"), min_notional=Decimal("5")),
                                          initial_price=Decimal("100.00"))
            for i in range(1, n + 1)}


def _serve(port: int, symbols: int, rtt_ms: float, seed: int) -> None:
    """Child process: the wire server with the benchmark catalogue and the latency fault."""
    catalogue = bench_symbols(symbols)
    account = AccountConfig(name=DEMO_ACCOUNT.name, api_key=DEMO_ACCOUNT.api_key, secret=DEMO_ACCOUNT.secret,
                                     balances={"USDT": Decimal(10_000_000), **{s.spec.base_asset: Decimal(10_000)
                                                                               for s in catalogue.values()}})
    latency = Fault(FaultKind.LATENCY, "rest", 0.0, 10 * 24 * 3600.0, {"latency_ms": rtt_ms / 2})
    config = ServerConfig(port=port, seed=seed, market=MarketConfig(symbols=tuple(catalogue), regime="volatile"),
                          symbols=catalogue, accounts=(account,), scenario=Scenario((latency,)),
                          limits=LimitsConfig(weight_per_minute=WEIGHT_LIMIT, orders_per_10s=ORDER_LIMIT,
                                              orders_per_day=10**9))
    web.run_app(create_app(config), host="127.0.0.1", port=port, print=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _quantiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0] if values else 0.0, "p95": values[0] if values else 0.0,
                "p99": values[0] if values else 0.0}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98]}


async def _run_bot(port: int, symbols: tuple[str, ...], seconds: float, pass_interval_s: float,
                   sequential: bool) -> dict[str, Any]:
    venue = BinanceConnector(
        BinanceConfig(endpoints=Endpoints.local(port=port), request_timeout_s=5.0,
                      limiter=LimiterConfig(weight_limit_1m=WEIGHT_LIMIT, order_limit_10s=ORDER_LIMIT)),
        Credentials(api_key=DEMO_API_KEY, api_secret=SecretStr(DEMO_SECRET)))
    config = priced_for_sim(BotConfig(symbols=symbols, execution=ExecutionConfig(state_path=":memory:")))
    store = StateStore(":memory:")
    app = await AppContext.build(config, venue, LoopClock(), store=store, seed=0)
    await app.start()
    quoters = []
    for symbol in symbols:
        data = MarketData(venue, symbol)
        quoter = SymbolQuoter(app=app, symbol=symbol, market=data, config=config.quoting,
                              strategy=build_strategy(config.strategy, app.symbols[symbol],
                                                       price=config.price_at_start(symbol)))
        app.marks[symbol] = quoter.marks
        quoters.append(quoter)
        app.spawn_supervised(data.run, f"market-{symbol}")
    app.spawn(app.orders.run_user_stream(), "user-stream")
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(30.0):
        while not all(q.market.book.is_synced for q in quoters):
            await asyncio.sleep(0.05)
    latencies_ms: list[float] = []
    passes = 0
    end = loop.time() + seconds
    while loop.time() < end:
        replaces = sum(q.stats.replaces for q in quoters)
        started = time.perf_counter()
        if sequential:
            for quoter in quoters:
                await quoter.cycle()
        else:
            await asyncio.gather(*(q.cycle() for q in quoters))
        elapsed_ms = (time.perf_counter() - started) * 1000
        passes += 1
        if sum(q.stats.replaces for q in quoters) > replaces:
            latencies_ms.append(elapsed_ms)
        await asyncio.sleep(max(0.0, pass_interval_s - elapsed_ms / 1000))
    await app.stop("benchmark end")
    await venue.close()
    store.close()
    return {"passes": passes, "samples": len(latencies_ms), **_quantiles(latencies_ms)}


def bench_quote_cycle(rtt_ms: float = 50.0, seconds: float = 20.0, pass_interval_s: float = 0.1,
                      counts: tuple[int, ...] = SYMBOL_COUNTS, seed: int = 7) -> dict[str, Any]:
    """Run both variants for every symbol count; figures keyed ``{variant}_{n}_{p50,p95,p99,samples}``."""
    figures: dict[str, Any] = {"rtt_ms": rtt_ms, "seconds_per_run": seconds, "pass_interval_s": pass_interval_s}
    worst = 0.0
    for n in counts:
        port = _free_port()
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, n, rtt_ms, seed),
                                                               daemon=True)
        server.start()
        try:
            _wait_port(port)
            symbols = tuple(bench_symbols(n))
            for variant in ("concurrent", "sequential"):
                result = asyncio.run(_run_bot(port, symbols, seconds, pass_interval_s, variant == "sequential"))
                for key, value in result.items():
                    figures[f"{variant}_{n}_{key}"] = value
                print(f"{variant:10s} {n:2d} symbols: {result}", flush=True)
            worst = max(worst, figures[f"concurrent_{n}_p95"] / rtt_ms)
        finally:
            server.terminate()
            server.join(10)
    figures["concurrent_p95_over_rtt_worst"] = worst
    return figures


def _wait_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"wire server did not start on port {port}")
