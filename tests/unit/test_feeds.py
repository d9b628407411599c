"""Subscriptions deliver late but in publish order, drop oldest market data when full, never drop order state."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from exchange_sim.feeds import Subscription, SubscriptionOverflow
from exchange_sim.runtime import SimRuntime


def test_messages_arrive_after_the_delay_in_publish_order() -> None:
    delays = itertools.cycle([0.050, 0.001, 0.020])  # later messages would overtake without ordering
    with SimRuntime() as rt:
        sub: Subscription[int] = Subscription(rt.loop, lambda: next(delays))

        async def main() -> list[tuple[float, int]]:
            for i in range(6):
                sub.publish(i)
            got = []
            for _ in range(6):
                message = await sub.get()
                got.append((rt.now(), message))
            return got

        got = rt.run(main())
    assert [m for _, m in got] == list(range(6))
    assert got[0][0] == pytest.approx(0.050)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(got))


def test_full_market_data_buffer_drops_the_oldest() -> None:
    with SimRuntime() as rt:
        sub: Subscription[int] = Subscription(rt.loop, lambda: 0.001, maxsize=3)

        async def main() -> list[int]:
            for i in range(5):
                sub.publish(i)
            await asyncio.sleep(0.01)
            return [sub.get_nowait() for _ in range(3)]  # type: ignore[misc]

        assert rt.run(main()) == [2, 3, 4]
        assert sub.dropped == 2


def test_lossless_stream_refuses_to_drop() -> None:
    with SimRuntime() as rt:
        sub: Subscription[int] = Subscription(rt.loop, lambda: 0.001, maxsize=2, lossless=True)

        async def main() -> list[int]:
            for i in range(3):
                sub.publish(i)
            await asyncio.sleep(0.01)
            return [await sub.get() for _ in range(3)]  # the two delivered, then the error

        with pytest.raises(SubscriptionOverflow):
            rt.run(main())
        assert sub.closed
        assert sub.delivered == 2


def test_closing_wakes_readers_and_ends_iteration() -> None:
    with SimRuntime() as rt:
        sub: Subscription[int] = Subscription(rt.loop, lambda: 0.001)

        async def reader() -> list[int]:
            return [m async for m in sub]

        async def main() -> list[int]:
            task = asyncio.ensure_future(reader())
            sub.publish(1)
            await asyncio.sleep(0.01)
            sub.close()
            return await task

        assert rt.run(main()) == [1]
