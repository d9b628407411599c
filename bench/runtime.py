"""Throughput of the virtual-time asyncio runtime: sleeps and request/response round trips per wall second.

Each figure is ``n`` operations divided by the wall-clock seconds (``time.perf_counter``) one fresh
``SimRuntime`` took to run them. Latencies come from a seeded ``random.Random`` so runs are comparable.
Run ``python -m bench.runtime [n]`` to print the figures.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Callable, Coroutine, Generator
from typing import Any

import simpy

from exchange_sim.runtime import SimRuntime

_SEED = 20240601
_LATENCY_S_MIN = 0.0005
_LATENCY_S_MAX = 0.005
_TIMEOUT_S = 1.0
_MARKET_TICK_S = 0.001


async def _sleeps(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0.001)


def _request(loop: asyncio.AbstractEventLoop, rng: random.Random, i: int) -> asyncio.Future[int]:
    future: asyncio.Future[int] = loop.create_future()
    loop.call_later(rng.uniform(_LATENCY_S_MIN, _LATENCY_S_MAX), future.set_result, i)
    return future


async def _requests(n: int) -> None:
    loop, rng = asyncio.get_running_loop(), random.Random(_SEED)
    for i in range(n):
        await _request(loop, rng, i)


async def _requests_with_timeout(n: int) -> None:
    loop, rng = asyncio.get_running_loop(), random.Random(_SEED)
    for i in range(n):
        async with asyncio.timeout(_TIMEOUT_S):
            await _request(loop, rng, i)


async def _requests_with_wait_for(n: int) -> None:
    loop, rng = asyncio.get_running_loop(), random.Random(_SEED)
    for i in range(n):
        await asyncio.wait_for(_request(loop, rng, i), _TIMEOUT_S)


def _market(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
    while True:
        yield env.timeout(_MARKET_TICK_S)


def _rate(n: int, program: Callable[[int], Coroutine[Any, Any, None]], *, with_market: bool = False) -> float:
    with SimRuntime() as runtime:
        if with_market:
            runtime.env.process(_market(runtime.env))
        started = time.perf_counter()
        runtime.run(program(n))
        elapsed = time.perf_counter() - started
    return n / elapsed


def bench_runtime(n: int = 100_000) -> dict[str, float]:
    """Operations per wall-clock second for each workload, ``n`` operations each."""
    return {
        "sleep_per_s": _rate(n, _sleeps),
        "request_response_per_s": _rate(n, _requests),
        "request_response_timeout_per_s": _rate(n, _requests_with_timeout),
        "request_response_wait_for_per_s": _rate(n, _requests_with_wait_for),
        "sleep_with_simpy_ticks_per_s": _rate(n, _sleeps, with_market=True),
    }


if __name__ == "__main__":
    for name, value in bench_runtime(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000).items():
        print(f"{name:36s} {value:12,.0f}")
