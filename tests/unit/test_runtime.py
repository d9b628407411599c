"""Specification of the virtual-time asyncio runtime (exchange_sim.runtime)."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Generator, Iterator
from typing import Any

import pytest
import simpy

from exchange_sim.runtime import SimRuntime, SimulationLivelock, SimulationStalled

Trace = list[tuple[float, str]]


@pytest.fixture
def runtime() -> Iterator[SimRuntime]:
    with SimRuntime(stall_timeout_s=5.0) as rt:
        yield rt


def test_sleep_advances_virtual_time_exactly(runtime: SimRuntime) -> None:
    seen: list[float] = []

    async def main() -> None:
        for delay in (1.0, 0.5, 2.25):
            await asyncio.sleep(delay)
            seen.append(asyncio.get_running_loop().time())

    runtime.run(main())
    assert seen == [1.0, 1.5, 3.75]
    assert runtime.now() == 3.75
    assert runtime.now_us() == 3_750_000


def test_one_simulated_hour_of_sleeps_never_waits_on_the_wall_clock(
        runtime: SimRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Virtual time advances by itself: no sleep of the process, so the run's speed is only CPU (measured by
    ``python -m bench runtime``, never asserted here: a loaded machine must not fail a test)."""
    def no_wall_sleep(seconds: float) -> None:
        raise AssertionError(f"the simulation slept {seconds} s of wall time")

    monkeypatch.setattr(time, "sleep", no_wall_sleep)

    async def main() -> None:
        for _ in range(3600):
            await asyncio.sleep(1.0)

    runtime.run(main())
    assert runtime.now() == 3600.0


def test_wait_for_times_out_at_the_simulated_deadline(runtime: SimRuntime) -> None:
    async def main() -> float:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(10.0), timeout=2.5)
        return runtime.now()

    assert runtime.run(main()) == 2.5


def test_asyncio_timeout_fires_at_the_simulated_deadline(runtime: SimRuntime) -> None:
    async def main() -> float:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.5):
                await asyncio.Event().wait()
        return runtime.now()

    assert runtime.run(main()) == 1.5


def test_gather_of_sleeps_finishes_at_the_longest_delay(runtime: SimRuntime) -> None:
    delays = [3.0, 1.0, 2.5, 0.5]

    async def nap(delay: float) -> float:
        await asyncio.sleep(delay)
        return runtime.now()

    async def main() -> list[float]:
        return await asyncio.gather(*(nap(d) for d in delays))

    assert runtime.run(main()) == delays
    assert runtime.now() == max(delays)


def test_queue_consumer_receives_items_at_the_producer_put_times(runtime: SimRuntime) -> None:
    received: Trace = []

    async def producer(queue: asyncio.Queue[str]) -> None:
        for label in ("a", "b", "c"):
            await asyncio.sleep(2.0)
            await queue.put(label)

    async def consumer(queue: asyncio.Queue[str]) -> None:
        for _ in range(3):
            item = await queue.get()
            received.append((runtime.now(), item))

    async def main() -> None:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
        await asyncio.gather(producer(queue), consumer(queue))

    runtime.run(main())
    assert received == [(2.0, "a"), (4.0, "b"), (6.0, "c")]


def test_call_later_callbacks_fire_in_deadline_order_at_their_deadlines(runtime: SimRuntime) -> None:
    fired: Trace = []

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def record(label: str) -> None:
            fired.append((loop.time(), label))

        for delay, label in ((3.0, "third"), (1.0, "first"), (2.0, "second")):
            loop.call_later(delay, record, label)
        loop.call_soon(fired.append, (loop.time(), "soon-1"))
        loop.call_soon(fired.append, (loop.time(), "soon-2"))
        await asyncio.sleep(5.0)

    runtime.run(main())
    assert fired == [(0.0, "soon-1"), (0.0, "soon-2"), (1.0, "first"), (2.0, "second"), (3.0, "third")]


def test_simpy_process_feeds_an_asyncio_queue_seen_at_the_put_times(runtime: SimRuntime) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    put_times = [0.25, 1.0, 1.0, 7.5]

    def feed(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        for i, at in enumerate(put_times):
            yield env.timeout(at - env.now)
            queue.put_nowait(i)

    async def main() -> list[tuple[float, int]]:
        runtime.env.process(feed(runtime.env))
        received = []
        for _ in put_times:
            item = await queue.get()
            received.append((runtime.now(), item))
        return received

    assert runtime.run(main()) == [(0.25, 0), (1.0, 1), (1.0, 2), (7.5, 3)]


def test_simpy_process_resolves_an_asyncio_future_through_call_soon(runtime: SimRuntime) -> None:
    async def main() -> tuple[float, str]:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[str] = loop.create_future()

        def venue(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
            yield env.timeout(0.004)
            loop.call_soon(reply.set_result, "ack")

        runtime.env.process(venue(runtime.env))
        sent_at = runtime.now()
        return sent_at, await reply

    assert runtime.run(main()) == (0.0, "ack")
    assert runtime.now() == 0.004


def test_coroutine_starts_a_simpy_process_and_awaits_its_return_value(runtime: SimRuntime) -> None:
    def match(env: simpy.Environment, qty: int) -> Generator[simpy.Event, Any, int]:
        yield env.timeout(3.0)
        return qty * 2

    async def main() -> tuple[int, float]:
        await asyncio.sleep(1.0)
        process = runtime.env.process(match(runtime.env, 21))
        return await runtime.as_future(process), runtime.now()

    assert runtime.run(main()) == (42, 4.0)


def test_failed_simpy_process_raises_inside_the_awaiting_coroutine(runtime: SimRuntime) -> None:
    def broken(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.0)
        raise KeyError("no such order")

    async def main() -> float:
        with pytest.raises(KeyError):
            await runtime.as_future(runtime.env.process(broken(runtime.env)))
        return runtime.now()

    assert runtime.run(main()) == 1.0


def test_simpy_events_run_before_asyncio_timers_due_at_the_same_time(runtime: SimRuntime) -> None:
    order: list[str] = []

    def market(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.0)
        order.append("simpy-1")
        yield env.timeout(0)
        order.append("simpy-2")

    async def main() -> None:
        asyncio.get_running_loop().call_later(1.0, order.append, "asyncio-timer")
        runtime.env.process(market(runtime.env))
        await asyncio.sleep(2.0)

    runtime.run(main())
    assert order == ["simpy-1", "simpy-2", "asyncio-timer"]


def test_run_until_advances_simpy_only_processes_to_the_requested_time(runtime: SimRuntime) -> None:
    ticks: list[float] = []

    def ticker(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        while True:
            ticks.append(env.now)
            yield env.timeout(1.5)

    runtime.env.process(ticker(runtime.env))
    runtime.run_until(6.0)
    assert ticks == [0.0, 1.5, 3.0, 4.5, 6.0]
    assert runtime.now() == 6.0
    runtime.run_until(7.25)
    assert runtime.now() == 7.25
    assert ticks[-1] == 6.0


def test_run_until_also_runs_asyncio_tasks_already_on_the_loop(runtime: SimRuntime) -> None:
    woke: list[float] = []

    async def background() -> None:
        while True:
            await asyncio.sleep(2.0)
            woke.append(runtime.now())

    task = runtime.loop.create_task(background())
    runtime.run_until(5.0)
    assert woke == [2.0, 4.0]
    assert not task.done()


def test_run_until_rejects_a_time_in_the_past(runtime: SimRuntime) -> None:
    runtime.run_until(3.0)
    with pytest.raises(ValueError, match="already"):
        runtime.run_until(2.0)


def test_run_with_until_cancels_main_at_that_time_and_raises_timeout(runtime: SimRuntime) -> None:
    cancelled_at: list[float] = []

    async def main() -> None:
        try:
            await asyncio.sleep(100.0)
        except asyncio.CancelledError:
            cancelled_at.append(runtime.now())
            raise

    with pytest.raises(TimeoutError, match=r"until=10\.0"):
        runtime.run(main(), until=10.0)
    assert cancelled_at == [10.0]


def test_run_returns_the_result_of_main(runtime: SimRuntime) -> None:
    async def main() -> str:
        await asyncio.sleep(0.1)
        return "done"

    assert runtime.run(main(), until=1.0) == "done"


def test_close_cancels_tasks_left_over_by_main() -> None:
    cleaned_up: list[bool] = []

    async def leftover() -> None:
        try:
            await asyncio.sleep(1e9)
        finally:
            cleaned_up.append(True)

    async def main() -> None:
        asyncio.get_running_loop().create_task(leftover())
        await asyncio.sleep(1.0)

    with SimRuntime() as rt:
        rt.run(main())
        assert cleaned_up == []
    assert cleaned_up == [True]


def test_awaiting_something_that_can_never_happen_raises_simulation_stalled(runtime: SimRuntime) -> None:
    async def main() -> None:
        await asyncio.sleep(3.0)
        await asyncio.Event().wait()

    with pytest.raises(SimulationStalled, match=r"t=3\.0s"):
        runtime.run(main())


def test_task_spinning_on_sleep_zero_raises_simulation_livelock() -> None:
    async def main() -> None:
        while True:
            await asyncio.sleep(0)

    with SimRuntime(spin_limit=10_000) as rt, pytest.raises(SimulationLivelock, match="spin_limit=10000"):
        rt.run(main())


def test_simpy_process_spinning_at_one_instant_raises_simulation_livelock() -> None:
    def spin(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(0)

    with SimRuntime(spin_limit=10_000) as rt:
        rt.env.process(spin(rt.env))
        with pytest.raises(SimulationLivelock):
            rt.run_until(1.0)


def test_run_in_executor_and_to_thread_still_complete(runtime: SimRuntime) -> None:
    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, sum, [1, 2, 3]), await asyncio.to_thread(max, 4, 5)

    assert runtime.run(main()) == (6, 5)


def test_executor_work_takes_zero_virtual_time_whatever_its_wall_time(runtime: SimRuntime) -> None:
    trace: Trace = []

    async def blocking_job() -> None:
        await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.05)
        trace.append((runtime.now(), "job done"))

    async def timer() -> None:
        await asyncio.sleep(0.01)
        trace.append((runtime.now(), "timer"))

    async def main() -> None:
        await asyncio.gather(blocking_job(), timer())

    runtime.run(main())
    assert trace == [(0.0, "job done"), (0.01, "timer")]


def test_simulated_time_never_reads_the_wall_clock(
    runtime: SimRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wall_clock() -> float:
        raise AssertionError("wall clock read during a simulated run")

    async def main() -> float:
        queue: asyncio.Queue[int] = asyncio.Queue()
        asyncio.get_running_loop().call_later(2.0, queue.put_nowait, 1)
        await asyncio.wait_for(queue.get(), timeout=5.0)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.0):
                await asyncio.sleep(10.0)
        await asyncio.gather(asyncio.sleep(0.5), asyncio.sleep(0.25))
        return runtime.now()

    for name in ("time", "monotonic", "perf_counter", "time_ns", "monotonic_ns"):
        monkeypatch.setattr(time, name, wall_clock)
    assert runtime.run(main()) == 3.5


def _seeded_program(seed: int) -> Trace:
    """Tasks, timeouts, a queue and a simpy process driven by one seed; returns (now, label) events."""
    trace: Trace = []
    with SimRuntime() as rt:
        rng = random.Random(seed)
        queue: asyncio.Queue[int] = asyncio.Queue()

        def market(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
            for i in range(50):
                yield env.timeout(rng.expovariate(20.0))
                trace.append((env.now, f"trade {i}"))
                queue.put_nowait(i)

        async def worker(name: str) -> None:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=rng.uniform(0.01, 0.2))
                except TimeoutError:
                    trace.append((rt.now(), f"{name} idle"))
                    continue
                await asyncio.sleep(rng.uniform(0.0, 0.05))
                trace.append((rt.now(), f"{name} handled {item}"))

        async def main() -> None:
            rt.env.process(market(rt.env))
            workers = [asyncio.create_task(worker(f"w{k}")) for k in range(3)]
            await asyncio.sleep(5.0)
            for task in workers:
                task.cancel()

        rt.run(main())
    return trace


def test_the_same_program_produces_the_identical_trace_twice() -> None:
    first, second = _seeded_program(7), _seeded_program(7)
    assert len(first) > 100
    assert first == second
    assert _seeded_program(8) != first


def _equal_deadline_program(mode: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Timers at a few shared deadlines (most cancelled, so the heap is purged), asyncio.timeout against
    sleeps due at the same instants, and a simpy ticker; returns the order things fired in."""
    if mode == "stock":  # what any Python but 3.11 runs: asyncio's own call_at and iteration
        monkeypatch.setattr(sys, "version_info", (3, 12, 0, "final", 0))
    rt = SimRuntime()
    monkeypatch.undo()
    fired: list[str] = []
    rng = random.Random(3)
    with rt:
        loop = rt.loop
        if mode == "debug":
            loop.set_debug(True)

        def ticker(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
            while True:
                yield env.timeout(0.25)
                fired.append(f"tick {env.now}")

        async def sleeper(k: int) -> None:
            for _ in range(6):
                try:
                    async with asyncio.timeout(rng.choice((0.25, 0.5))):
                        await asyncio.sleep(rng.choice((0.25, 0.5)))
                except TimeoutError:
                    fired.append(f"s{k} timed out at {loop.time()}")
                fired.append(f"s{k} at {loop.time()}")

        async def main() -> None:
            handles = [loop.call_later(rng.choice((0.5, 1.0, 1.0, 2.0)), fired.append, f"t{i}") for i in range(400)]
            for handle in rng.sample(handles, 250):
                handle.cancel()
            # debug on and off again while timers are pending (other modes: the same timers, no change)
            loop.call_later(0.75, loop.set_debug, mode in ("debug", "toggled"))
            loop.call_later(1.25, loop.set_debug, mode == "debug")
            rt.env.process(ticker(rt.env))
            await asyncio.gather(*(sleeper(k) for k in range(20)))
            await asyncio.sleep(3.0)

        rt.run(main())
        stock_heap = all(isinstance(entry, asyncio.TimerHandle) for entry in loop.timers_view)
        assert stock_heap == (mode in ("debug", "stock")) or not loop.timers_view
    return fired


@pytest.mark.parametrize("mode", ["debug", "stock", "toggled"])
def test_equal_deadline_timers_fire_in_the_same_order_in_every_loop_mode(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fused = _equal_deadline_program("fused", monkeypatch)
    assert len(fused) > 200
    assert _equal_deadline_program(mode, monkeypatch) == fused


def test_debug_mode_is_reported_and_gives_handles_source_tracebacks(runtime: SimRuntime) -> None:
    loop = runtime.loop
    assert loop.get_debug() is False
    loop.set_debug(True)
    assert loop.get_debug() is True
    handle: Any = loop.call_later(1.0, print)
    assert handle._source_traceback
    handle.cancel()
    loop.set_debug(False)
    assert loop.get_debug() is False
    handle = loop.call_later(1.0, print)
    assert handle._source_traceback is None
    runtime.run(asyncio.sleep(2.0))
    assert runtime.now() == 2.0
