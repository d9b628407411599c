"""Session-9 cost cuts that must not change what they answer: the loop's ``get_debug`` and ``FaultTiming.active``
for kinds a scenario does not draw."""

from __future__ import annotations

from exchange_sim.eventlog import EventLog
from exchange_sim.faults.model import Fault, FaultKind, Scenario
from exchange_sim.faults.timing import FaultTiming
from exchange_sim.runtime import VirtualTimeLoop


def test_the_loops_get_debug_follows_set_debug() -> None:
    loop = VirtualTimeLoop()
    try:
        assert loop.get_debug() is False
        loop.set_debug(True)
        assert loop.get_debug() is True
        loop.set_debug(False)
        assert loop.get_debug() is False
    finally:
        loop.close()


def _timing(scenario: Scenario, clock: list[float]) -> FaultTiming:
    def now_s() -> float:
        if not clock:
            raise AssertionError("the clock was read")
        return clock[0]
    return FaultTiming(scenario, seed=1, namespace="test", log=EventLog(), now_s=now_s, now_us=lambda: 0)


def test_active_answers_an_undrawn_kind_without_the_clock_and_a_drawn_one_by_its_window() -> None:
    fault = Fault(kind=FaultKind.LATENCY, target="rest", start_s=10.0, duration_s=5.0)
    clock: list[float] = []
    timing = _timing(Scenario(faults=(fault,)), clock)
    assert timing.active(FaultKind.PARTITION) == []  # no clock read (an empty clock raises)
    clock.append(12.0)
    assert timing.active(FaultKind.LATENCY) == [(0, fault)]
    clock[0] = 15.0
    assert timing.active(FaultKind.LATENCY) == []
    assert timing.active(FaultKind.LATENCY, at_s=10.0) == [(0, fault)]
