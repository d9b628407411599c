"""VirtualTimeLoop.freeze: a process pause - simpy runs on, asyncio runs nothing, then everything due fires late."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import simpy

from exchange_sim.runtime import SimRuntime


def test_a_frozen_loop_fires_its_timers_late_at_the_end_of_the_pause_while_simpy_runs_on() -> None:
    with SimRuntime() as runtime:
        env = runtime.env
        ticks: list[float] = []  # simpy (the world) keeps its own time during the pause
        woke: list[float] = []

        def world() -> Generator[simpy.Event, Any, None]:
            while env.now < 10:
                ticks.append(env.now)
                yield env.timeout(1.0)

        def pause() -> Generator[simpy.Event, Any, None]:
            yield env.timeout(2.5)
            runtime.loop.freeze(7.5)

        async def bot() -> None:
            for _ in range(8):
                await asyncio.sleep(1.0)
                woke.append(runtime.now())

        env.process(world())
        env.process(pause())
        runtime.run(bot())
    assert ticks == [float(t) for t in range(10)]
    # timers due at 3..7 all fire at 7.5 (late, at once); the loop then goes on from there
    assert woke[:2] == [1.0, 2.0]
    assert woke[2] == 7.5
    assert woke[3:] == [8.5, 9.5, 10.5, 11.5, 12.5]


def test_a_freeze_while_frozen_extends_the_pause_and_one_in_the_past_does_nothing() -> None:
    with SimRuntime() as runtime:
        env = runtime.env
        woke: list[float] = []

        def pauses() -> Generator[simpy.Event, Any, None]:
            yield env.timeout(1.5)
            runtime.loop.freeze(4.0)
            yield env.timeout(1.0)
            runtime.loop.freeze(6.0)  # while frozen: extends
            runtime.loop.freeze(5.0)  # shorter: no effect

        async def bot() -> None:
            runtime.loop.freeze(0.0)  # the past: nothing
            for _ in range(3):
                await asyncio.sleep(1.0)
                woke.append(runtime.now())

        env.process(pauses())
        runtime.run(bot())
    assert woke == [1.0, 6.0, 7.0]


def test_run_until_inside_a_pause_stops_at_its_horizon_and_the_pause_goes_on_after() -> None:
    with SimRuntime() as runtime:
        woke: list[float] = []

        async def bot() -> None:
            while True:
                await asyncio.sleep(1.0)
                woke.append(runtime.now())

        task = runtime.loop.create_task(bot())
        runtime.run_until(1.5)
        runtime.loop.freeze(5.0)
        runtime.run_until(3.0)
        assert runtime.now() == 3.0 and woke == [1.0]
        runtime.run_until(6.2)
        assert woke == [1.0, 5.0, 6.0]
        task.cancel()
